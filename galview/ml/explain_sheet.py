"""The explanation sheet of a labelled collection: confident TP/FP/TN/FN with their heat maps."""

from __future__ import annotations

from typing import Any

import numpy as np

from galview.core.display import DisplaySettings, default_settings, render
from galview.core.explanation import METHOD_NAMES, SHEET_GROUPS, compose_sheet, sheet_examples
from galview.core.jobs import Progress
from galview.ml.gradcam import explain, overlay


def positive_probabilities(
    loaded: Any, collection: Any, batch_size: int = 512, cancel: Any = None
) -> tuple[np.ndarray, dict[int, str]]:
    """P(positive class) of every cutout, (N,) float32, for a binary model; and the cutouts that could
    not be read (index → why), whose probability is NaN (the sheet never picks them)."""
    from galview.ml.scoring import score_batches

    if loaded.card.task != "binary":
        from galview.ml.errors import ModelError

        raise ModelError(loaded.path, "the explanation sheet needs a binary model (LSBG vs artifact)")
    probs = np.full(len(collection), np.nan, np.float32)
    unreadable: dict[int, str] = {}
    batches = score_batches(loaded, collection, batch_size=batch_size, cancel=cancel, skip_unreadable=True)
    for batch in batches:
        probs[batch.start : batch.start + len(batch.probs)] = batch.probs[:, 0]
        unreadable.update({batch.start + position: why for position, why in batch.unreadable.items()})
    return probs, unreadable


def explanation_sheet(
    loaded: Any,
    collection: Any,
    probs: np.ndarray,
    labels: np.ndarray,
    k: int = 4,
    method: str = "gradcam",
    display: DisplaySettings | None = None,
    opacity: float = 0.5,
    colormap: str = "inferno",
    on_progress=None,
    cancel=None,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Render the sheet: (image (H, W, 3) uint8, group name → cutout indices).

    Parameters
    ----------
    probs : ndarray (N,)
        P(positive class) per cutout (NaN where not scored).
    labels : ndarray (N,)
        Labels to judge against (the user's current labels, or the file's).
    on_progress, cancel : optional
        Progress in groups (four); a cancelled token stops before the next group.
    """
    positive = loaded.card.positive_class if loaded.card.positive_class is not None else 1
    groups = sheet_examples(labels, probs, k=k, positive=positive)
    display = display or default_settings(collection.dtype, collection.shape[2])
    rows = []
    for done, (name, title, _, says_positive) in enumerate(SHEET_GROUPS):
        if cancel is not None:
            cancel.raise_if_cancelled()
        if on_progress is not None:
            on_progress(Progress(done, len(SHEET_GROUPS), "explaining " + name, unit="groups"))
        indices = groups[name]
        examples = []
        if len(indices):
            cutouts = collection.get_batch(indices)
            maps = explain(loaded, cutouts, method=method, collection=collection)
            for index, cutout, heat in zip(indices, cutouts, maps, strict=True):
                rgb = render(cutout, display, collection.bands, collection.dtype)
                caption = f"{collection.id_of(int(index))[:14]}  p={probs[index]:.2f}"
                examples.append((rgb, overlay(rgb, heat, opacity, colormap), caption))
        threshold = "p > 0.8" if says_positive else "p < 0.2"
        rows.append((f"{name}: {title} ({threshold}), {METHOD_NAMES[method]}", examples))
    if on_progress is not None:
        on_progress(Progress(len(SHEET_GROUPS), len(SHEET_GROUPS), "composing the sheet", unit="groups"))
    return compose_sheet(rows), groups

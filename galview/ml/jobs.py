"""The model jobs the window runs, as plain functions taking ``on_progress`` and ``cancel``.

Each reports :class:`~galview.core.jobs.Progress` in its own unit and raises
:class:`~galview.core.jobs.Cancelled` at its next step once cancelled. :mod:`galview.jobs` lists
them with every other long job; the CLI calls the same functions with a terminal bar.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from galview.core.jobs import CancelToken, Progress

logger = logging.getLogger(__name__)


@dataclass
class ScoredRows:
    """Model outputs of a batch of a scoring job: ``probs`` (B, K) and ``embeddings`` (B, D) for
    cutouts ``indices`` (B,), from model ``model_version``."""

    indices: np.ndarray
    probs: np.ndarray
    embeddings: np.ndarray
    model_version: str


def open_model(path, *, on_progress=None, cancel: CancelToken | None = None):
    """Open a model file and prepare it for the window; returns a LoadedModel.

    Steps (progress unit "steps"): read the file (importing Keras on first use), hash it (the
    version that keys scores and heat maps), compile the Grad-CAM function so the first heat map
    is quick. A model Grad-CAM cannot explain still loads: the failure is logged and kept in
    ``loaded.explain_problem`` for the window to show. Loading itself cannot be interrupted; a
    cancel during it takes effect when it returns.
    """
    import keras  # noqa: F401 -- with its backend: about 380,000 objects that live as long as the process

    from galview.core.heap import set_aside_imports
    from galview.ml.loading import load_model

    set_aside_imports()  # before any model is made: a full garbage collection no longer stalls the window
    cancel = cancel or CancelToken()
    report = on_progress or (lambda _progress: None)
    report(Progress(0, 3, "reading the model", unit="steps"))
    loaded = load_model(Path(path))
    cancel.raise_if_cancelled()
    report(Progress(1, 3, "hashing the model files", unit="steps"))
    _ = loaded.version
    cancel.raise_if_cancelled()
    report(Progress(2, 3, "compiling the heat-map function", unit="steps"))
    loaded.explain_problem = None
    try:
        from galview.ml.gradcam import warm_up

        warm_up(loaded)
    except Exception as exc:  # noqa: BLE001 - the model still scores; heat maps will say why not
        logger.warning("Grad-CAM cannot explain %s: %s", path, exc, exc_info=True)
        loaded.explain_problem = f"{type(exc).__name__}: {exc}"
    report(Progress(3, 3, "model ready", unit="steps"))
    return loaded


def score_rows(
    loaded,
    collection,
    indices,
    batch_size: int = 256,
    *,
    on_progress=None,
    cancel: CancelToken | None = None,
) -> tuple[int, float, dict[int, str]]:
    """Score cutouts ``indices``; each batch's rows travel as the payload of its Progress (cutouts).

    Returns ``(count, seconds, unreadable)``: cutout index → why it could not be read, for cutouts
    left unscored (NaN rows) instead of stopping the job. Reading the next batch overlaps with the
    model's work on this one (see :func:`galview.ml.scoring.score_batches`).
    """
    from galview.ml.scoring import score_batches

    started = time.monotonic()
    indices = np.asarray(indices, dtype=np.int64)
    unreadable: dict[int, str] = {}
    batches = score_batches(
        loaded, collection, batch_size, indices=indices, cancel=cancel, skip_unreadable=True
    )
    for batch in batches:
        stop = batch.start + len(batch.probs)
        unreadable.update({int(indices[batch.start + p]): why for p, why in batch.unreadable.items()})
        rows = ScoredRows(indices[batch.start : stop], batch.probs, batch.embeddings, loaded.version)
        if on_progress is not None:
            on_progress(Progress(stop, len(indices), "scoring", unit="cutouts", payload=rows))
    return len(indices), time.monotonic() - started, unreadable


@dataclass
class SuspectsResult:
    """The suspected-label-errors queue: ``order`` (labelled cutouts, most suspect first), the
    margin ``scores`` (N,) and confident learning's ``flagged`` (N,)."""

    order: np.ndarray
    scores: np.ndarray
    flagged: np.ndarray


def find_suspects(
    loaded, collection, labels, embeddings=None, *, on_progress=None, cancel: CancelToken | None = None
) -> SuspectsResult:
    """Confident learning on 4-fold out-of-sample probabilities of a logistic head on ``loaded``'s
    embeddings (``embeddings`` (N, D) kept from scoring are used instead of computing them again)."""
    from galview.ml.suspects import suspect_ranking

    order, scores, flagged = suspect_ranking(
        collection,
        labels,
        method="head",
        loaded=loaded,
        embeddings=embeddings,
        on_progress=on_progress,
        cancel=cancel,
    )
    return SuspectsResult(order, scores, flagged)


def render_sheet(
    loaded,
    collection,
    probs,
    labels,
    settings,
    display,
    *,
    on_progress=None,
    cancel: CancelToken | None = None,
):
    """The explanation sheet (confident TP/FP/TN/FN with heat maps); returns (image, groups).

    Progress counts the sheet's four groups.
    """
    from galview.ml.explain_sheet import explanation_sheet

    return explanation_sheet(
        loaded,
        collection,
        probs,
        labels,
        method=settings.method,
        display=display,
        opacity=settings.opacity,
        colormap=settings.colormap,
        on_progress=on_progress,
        cancel=cancel,
    )

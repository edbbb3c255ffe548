"""Model versions made by retraining: one folder each under GalView's data folder.

A version folder holds ``model.keras``, its card ``model.json`` and ``labels.npz`` (the labels it
learnt from, plain integer arrays). Folders are written whole or not at all: into a hidden temporary
folder beside the target, synced, then renamed. Only folders inside :func:`versions_dir` can be
deleted; the shipped model and any other file are refused. Listing reads the cards only (no Keras).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from galview.ml.cards import ModelCard, load_card
from galview.ml.errors import ModelError

logger = logging.getLogger(__name__)

MODEL_FILE, CARD_FILE, LABELS_FILE = "model.keras", "model.json", "labels.npz"
_PARTIAL = ".partial-"


@dataclass(frozen=True)
class ModelVersion:
    """One saved version: its ``.keras`` path, card, folder name and creation time (ISO, UTC)."""

    path: Path
    card: ModelCard
    name: str
    created: str


def versions_dir() -> Path:
    """``galview.core.paths.data_dir() / "models"`` (created on first use)."""
    from galview.core.paths import data_dir

    folder = data_dir() / "models"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def list_versions() -> list[ModelVersion]:
    """Every complete version in :func:`versions_dir`, oldest first; unreadable ones are skipped (logged)."""
    found = []
    for folder in sorted(versions_dir().iterdir()):
        model = folder / MODEL_FILE
        if folder.name.startswith(".") or not model.is_file():
            continue
        try:
            card = load_card(folder / CARD_FILE)
        except ModelError as exc:
            logger.warning("model version skipped: %s", exc)
            continue
        found.append(ModelVersion(model, card, folder.name, card.created))
    return sorted(found, key=lambda v: (v.created, v.name))


def version_title(version: ModelVersion) -> str:
    """``name — mode — date — accuracy 0.70 vs 0.67 before, 112 labels``: versions told apart at a glance."""
    card = version.card
    training = card.training or {}
    mode = training.get("mode", "")  # what galview.ml.finetune_run records
    parts = [version.name]
    if mode:
        parts.append(mode)
    if (
        "cutouts" in training and "source" in training and "mode" not in training
    ):  # galview.ml.batchnorm_adapt
        parts.append(
            f"adapted to {Path(str(training['source'])).name} ({training['cutouts']} cutouts, no labels)"
        )
    if version.created:
        parts.append(str(version.created)[:16].replace("T", " "))
    difference = (card.metrics or {}).get("difference") or {}
    if {"accuracy_after", "accuracy_before", "n"} <= set(difference):
        parts.append(
            f"accuracy {difference['accuracy_after']:.2f} vs {difference['accuracy_before']:.2f} "
            f"{'by guessing' if difference.get('baseline') else 'before'}, "
            f"{difference['n']} labels"
        )
    return " — ".join(parts)


def version_path(name_or_path) -> Path:
    """The ``model.keras`` of a version given by its folder name (as listed) or by a path to it."""
    given = Path(name_or_path)
    folder = versions_dir() / given.name if given.parent == Path(".") else given
    return folder if folder.suffix == ".keras" else folder / MODEL_FILE


def new_version_dir(parent_name: str) -> Path:
    """A folder name in :func:`versions_dir` that does not exist yet: ``<parent>-<UTC time>[-k]``."""
    stem = Path(str(parent_name)).stem if str(parent_name).endswith(".keras") else str(parent_name)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", stem).strip("._-")[:60] or "model"
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    base = versions_dir() / f"{stem}-{stamp}"
    candidate, k = base, 1
    while candidate.exists():
        k += 1
        candidate = base.with_name(f"{base.name}-{k}")
    return candidate


def write_version(model, card: ModelCard, folder, labels=None) -> Path:
    """Write ``model`` and ``card`` (and ``labels`` = (indices, values)) as the version ``folder``.

    Atomic (see :func:`write_folder`). ``folder`` must not exist, or be an empty folder.

    Returns
    -------
    Path
        ``folder / "model.keras"``.
    """
    from galview.ml.loading import save_model

    def fill(partial: Path) -> None:
        save_model(model, card, partial / MODEL_FILE)
        if labels is not None:
            indices, values = (np.asarray(a, dtype=np.int64) for a in labels)
            np.savez(partial / LABELS_FILE, indices=indices, labels=values)

    return write_folder(folder, fill, "a model version") / MODEL_FILE


def write_folder(folder, fill: Callable[[Path], None], what: str = "a model") -> Path:
    """Create ``folder`` whole or not at all: ``fill(partial)`` writes its files into a new folder.

    The files are written into a hidden temporary folder beside ``folder``, synced, then the folder
    is renamed; on any error (or interruption) the temporary folder is removed and nothing else
    exists. ``folder`` must not exist, or be an empty folder (ModelError naming ``what`` otherwise).

    Returns
    -------
    Path
        ``folder``.
    """
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ModelError(folder, f"already exists and is not empty; {what} needs a new folder")
    folder.parent.mkdir(parents=True, exist_ok=True)
    partial = folder.with_name(f".{folder.name}{_PARTIAL}{uuid.uuid4().hex[:8]}")
    partial.mkdir()
    try:
        fill(partial)
        for file in partial.iterdir():
            _fsync(file)
        _fsync(partial)
        if folder.exists():
            folder.rmdir()  # empty, checked above
        os.rename(partial, folder)
        _fsync(folder.parent)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return folder


def read_labels(path) -> tuple[np.ndarray, np.ndarray] | None:
    """(indices, labels) a version learnt from (its ``labels.npz``), or None; never unpickles."""
    file = _version_folder(Path(path)) / LABELS_FILE
    if not file.is_file():
        return None
    with np.load(file, allow_pickle=False) as data:
        return data["indices"].astype(np.int64), data["labels"].astype(np.int64)


def delete_version(path) -> None:
    """Delete the version holding ``path`` (its ``model.keras`` or its folder).

    Raises
    ------
    ModelError
        If ``path`` is not a version folder directly inside :func:`versions_dir` (the shipped
        model, a model elsewhere, the versions folder itself, a link), or is the shipped model.
    """
    from galview.assets import chosen_model, shipped_default_path, shipped_models

    path = Path(path)
    folder = _version_folder(path)
    root = versions_dir().resolve()
    if folder.is_symlink() or not folder.is_dir() or folder.resolve().parent != root:
        raise ModelError(path, f"not a model version in {root}; GalView deletes only its own versions")
    shipped = {Path(p).resolve() for p in (shipped_default_path(), *shipped_models())}
    if any(s.parent == folder.resolve() for s in shipped):
        raise ModelError(path, "holds a shipped model; it cannot be deleted")
    chosen = chosen_model()
    if chosen is not None and chosen.resolve().parent == folder.resolve():
        raise ModelError(path, "is the default model; choose another first ('galview models use shipped')")
    shutil.rmtree(folder)


def _version_folder(path: Path) -> Path:
    return path.parent if path.name == MODEL_FILE or path.suffix == ".keras" else path


def _fsync(path: Path) -> None:
    """Flush a file or folder to disk (folders: where the platform allows it)."""
    flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if path.is_dir() else 0)
    try:
        handle = os.open(path, flags)
    except OSError:  # Windows cannot open folders
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)

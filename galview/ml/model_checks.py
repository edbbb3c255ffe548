"""Checks made on a model before it is used: sizes read from a ``.keras`` archive's zip directory before
anything is unzipped, and finite weights once loaded. Each failure is a one-line :class:`ModelError`."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from galview.io.text import one_line
from galview.ml.errors import ModelError


def check_archive(path: Path) -> None:
    """Refuse a ``.keras`` archive whose JSON members would be too large to read, from its zip directory.

    ``config.json`` and ``metadata.json`` are read whole into memory by Keras; each must unzip to at
    most :data:`~galview.core.budget.MAX_MODEL_CONFIG_BYTES` (a real model's config is kilobytes).
    """
    from galview.core.budget import MAX_MODEL_CONFIG_BYTES, megabytes

    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise ModelError(
            path, f"not a readable .keras archive, truncated or corrupt? ({one_line(exc)})"
        ) from exc
    for member in members:
        if member.filename.endswith(".json") and member.file_size > MAX_MODEL_CONFIG_BYTES:
            raise ModelError(
                path,
                f"its {member.filename} is {megabytes(member.file_size)} once unzipped; GalView reads model "
                f"configurations of at most {megabytes(MAX_MODEL_CONFIG_BYTES)}",
            )


def check_finite_weights(model: Any, path: Path) -> None:
    """Refuse a model with a NaN or infinite weight: every score it gives would be NaN or meaningless."""
    import keras
    import numpy as np

    from galview.ml.loading import quiet_keras

    with quiet_keras():
        for variable in model.weights:
            values = keras.ops.convert_to_numpy(variable)
            if values.dtype.kind == "f" and not np.isfinite(values).all():
                bad = int(np.size(values) - np.isfinite(values).sum())
                raise ModelError(
                    path,
                    f"has {bad:,} weights that are NaN or infinite in {variable.path}; expected a trained "
                    "model with finite weights (was training diverging when it was saved?)",
                )

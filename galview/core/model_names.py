"""How GalView names a model (window, score cache): file stem, or the folder of ``model.keras``, and version."""

from __future__ import annotations

from pathlib import Path


def model_name(loaded) -> str:
    """Short display name of a LoadedModel, e.g. ``deepshadows_des_sim (1a2b3c)``."""
    path = Path(loaded.path)
    name = path.parent.name if path.stem == "model" and path.parent.name else path.stem
    return f"{name} ({loaded.version[:6]})"

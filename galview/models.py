"""Where the shipped models live: ``models/`` at the top of the GalView checkout."""

from __future__ import annotations

import os
from pathlib import Path

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
DEFAULT_MODEL = "deepshadows_des_sim.keras"


def default_model_path() -> Path:
    """The model GalView uses unless told otherwise (``GALVIEW_MODEL`` overrides it)."""
    override = os.environ.get("GALVIEW_MODEL")
    return Path(override) if override else MODELS_DIR / DEFAULT_MODEL


def shipped_models() -> list[Path]:
    """Every shipped ``.keras`` model (each has its ``.json`` card beside it)."""
    return sorted(MODELS_DIR.glob("*.keras"))

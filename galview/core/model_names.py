"""How GalView names a model (window, score cache): file stem, or the folder of ``model.keras``, and version."""

from __future__ import annotations

from pathlib import Path


def model_name(loaded) -> str:
    """Short display name of a LoadedModel, e.g. ``deepshadows_des_sim (1a2b3c)``.

    A model made to take other cutouts by an adapter the user accepted (resize, bands) is named
    ``deepshadows_des_sim (1a2b3c, adapted)``.
    """
    adapter = getattr(getattr(getattr(loaded, "card", None), "input", None), "adapter", None)
    adapted = ", adapted" if adapter and "physical" not in adapter else ""
    return f"{path_name(loaded.path)} ({loaded.version[:6]}{adapted})"


def path_name(path) -> str:
    """Short name of a model file: its folder's name for a version's ``model.keras``, else its stem."""
    path = Path(path)
    return path.parent.name if path.stem == "model" and path.parent.name else path.stem

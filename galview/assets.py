"""Files GalView ships: the models (data package ``galview.models``) and the icons, desktop entry and
stylesheets (data package ``galview.resources``).

In the source tree they are the top-level ``models/`` and ``resources/`` folders; ``pyproject.toml`` maps
them into the package, so an installed wheel carries them and an editable install points at the checkout.
Both are found with :mod:`importlib.resources`. Run from a checkout that is not installed (``PYTHONPATH``),
the folders beside the package are used instead.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from importlib.resources import files
from pathlib import Path

logger = logging.getLogger(__name__)

MODELS_PACKAGE = "galview.models"
RESOURCES_PACKAGE = "galview.resources"
DEFAULT_MODEL = "deepshadows_des_sim.keras"
_CHECKOUT = Path(__file__).resolve().parent.parent


def package_folder(package: str) -> Path:
    """The folder holding data package ``package`` (``galview.models`` or ``galview.resources``).

    Parameters
    ----------
    package : str
        Dotted name of the data package.

    Returns
    -------
    Path
        The installed folder, found with :func:`importlib.resources.files`; where the package is not
        installed, the checkout's folder of the same last name (``models/``, ``resources/``).
    """
    try:
        spec = importlib.util.find_spec(package)
    except ModuleNotFoundError:
        spec = None
    if spec is not None and spec.submodule_search_locations is not None:
        return Path(os.fspath(files(package)))
    fallback = _CHECKOUT / package.rpartition(".")[2]
    logger.debug("%s is not installed; using %s", package, fallback)
    return fallback


def models_dir() -> Path:
    """Folder of the shipped models (each ``.keras`` with its ``.json`` card beside it)."""
    return package_folder(MODELS_PACKAGE)


def default_model_path() -> Path:
    """The model GalView uses unless told otherwise (``GALVIEW_MODEL`` overrides it)."""
    override = os.environ.get("GALVIEW_MODEL")
    return Path(override) if override else models_dir() / DEFAULT_MODEL


def shipped_models() -> list[Path]:
    """Every shipped ``.keras`` model, sorted by name."""
    return sorted(models_dir().glob("*.keras"))


def resource_path(name: str) -> Path:
    """Path of the shipped resource file ``name`` (e.g. ``"galview.png"``, ``"dark.qss"``).

    Raises
    ------
    FileNotFoundError
        If GalView ships no such resource (an installation that lost its data files).
    """
    path = package_folder(RESOURCES_PACKAGE) / name
    if not path.is_file():
        raise FileNotFoundError(f"{path}: GalView's resource is missing; reinstall GalView")
    return path

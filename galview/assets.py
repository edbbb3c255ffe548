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
CHOICE_FILE = "default_model.txt"  # in the config folder: the model `galview models use` chose
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
    """The model GalView uses unless told otherwise.

    ``GALVIEW_MODEL`` where set; else the model chosen with ``galview models use`` (:func:`chosen_model`)
    while its file exists; else the shipped model (:func:`shipped_default_path`).
    """
    override = os.environ.get("GALVIEW_MODEL")
    if override:
        return Path(override)
    return chosen_model() or shipped_default_path()


def shipped_default_path() -> Path:
    """The shipped model GalView uses when nothing else is chosen."""
    return models_dir() / DEFAULT_MODEL


def _choice_file() -> Path:
    from galview.core.paths import config_dir

    return config_dir() / CHOICE_FILE


def chosen_model() -> Path | None:
    """The model chosen as the default (``galview models use``), or None: none chosen, or its file is gone."""
    try:
        text = _choice_file().read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except (OSError, UnicodeDecodeError) as exc:
        logger.warning("the chosen default model could not be read (%s); using the shipped one", exc)
        return None
    path = Path(text)
    if not text or not path.is_file():
        logger.warning("the chosen default model %s is gone; using the shipped one", text or "(empty)")
        return None
    return path


def choose_model(path: Path | None) -> None:
    """Make ``path`` (a ``.keras`` file) the default model, or, with None, go back to the shipped one.

    Written whole or not at all (a temporary file renamed), so a crash never leaves half a path.
    """
    target = _choice_file()
    if path is None:
        target.unlink(missing_ok=True)
        return
    partial = target.with_name(f".{target.name}.partial")
    partial.write_text(str(Path(path).resolve()) + "\n", encoding="utf-8")
    os.replace(partial, target)


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

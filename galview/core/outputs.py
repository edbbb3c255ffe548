"""The one rule for every file or folder a command writes, checked before any work is done.

- The parent folder must exist: GalView never creates folders the user did not ask for (a typo in
  ``-o /nonexistent/dir/s.h5`` is an error, not a new folder at the root of the file system).
- The suffix decides the format, and a suffix GalView cannot write is refused (no HDF5 inside a
  ``.txt``).

Nothing is created or written here; the checks only read the file system.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from galview.core.errors import UserFacingError


def output_path(path: str | Path, suffixes: Iterable[str], what: str) -> Path:
    """Check a file a command is about to write.

    Parameters
    ----------
    path : str or Path
        The file the user asked for (``-o``, ``--screenshot``).
    suffixes : iterable of str
        The suffixes the command can write, lower case with the dot (``".csv"``, ``".h5"``); the
        suffix of ``path`` (in any case) decides the format.
    what : str
        What the file holds, for the message (``"scores"``).

    Returns
    -------
    Path
        ``path`` as a :class:`~pathlib.Path`.

    Raises
    ------
    UserFacingError
        One line naming the file: an unknown suffix, a missing or read-only parent folder, or a
        folder where the file should go.
    """
    path = Path(path)
    allowed = tuple(suffixes)
    if path.suffix.lower() not in allowed:
        found = f"'{path.suffix}'" if path.suffix else "no suffix"
        raise UserFacingError(path, f"cannot write {what} as {found}; expected {_choices(allowed)}")
    if path.is_dir():
        raise UserFacingError(path, f"is a folder; expected a file for the {what}")
    _check_parent(path)
    return path


def output_folder(path: str | Path, what: str) -> Path:
    """Check a folder a command is about to write into (created by the command if it is missing).

    Parameters
    ----------
    path : str or Path
        The folder the user asked for (``galview train -o DIR``).
    what : str
        What the folder will hold, for the message (``"the model"``).

    Returns
    -------
    Path
        ``path`` as a :class:`~pathlib.Path`.

    Raises
    ------
    UserFacingError
        The path is a file, or its parent folder is missing or read-only.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise UserFacingError(path, f"is a file; expected a folder for {what}")
    if path.is_dir():
        if not os.access(path, os.W_OK):
            raise UserFacingError(path, f"folder is not writable; {what} cannot be written there")
        return path
    _check_parent(path)
    return path


def _check_parent(path: Path) -> None:
    parent = path.parent
    if not parent.is_dir():
        problem = "is not a folder" if parent.exists() else "does not exist"
        raise UserFacingError(path, f"folder {parent} {problem}; create it first or choose another")
    if not os.access(parent, os.W_OK):
        raise UserFacingError(path, f"folder {parent} is not writable")


def _choices(suffixes: tuple[str, ...]) -> str:
    return suffixes[0] if len(suffixes) == 1 else ", ".join(suffixes[:-1]) + " or " + suffixes[-1]

"""Errors a user can act on: each names the file and what GalView expected."""

from __future__ import annotations

from pathlib import Path


class UserFacingError(ValueError):
    """Base of the errors GalView reports to the user as one line: ``"PATH: problem"``.

    Parameters
    ----------
    path : str or Path
        The file or folder the user asked for.
    problem : str
        What is wrong and what was expected, in one sentence; line breaks in it (or in the path)
        are not kept, so that the message is always one line.
    """

    def __init__(self, path: str | Path, problem: str):
        self.path = str(path)
        self.problem = " ".join(str(problem).split())  # one line, even when it quotes a library's message
        shown = self.path.replace("\n", "\\n").replace("\r", "\\r")
        super().__init__(f"{shown}: {self.problem}")


class CollectionError(UserFacingError):
    """A cutout collection could not be opened or read."""


class StoreOfAnotherCollection(UserFacingError):
    """A label store that was made for another collection of the same size.

    Attributes ``recorded_source``/``recorded_fingerprint`` name the collection the store belongs
    to, ``source``/``fingerprint`` the one it was opened for. Opening it again with ``force``
    re-binds it (recorded in its history).
    """

    def __init__(
        self, path, problem: str, recorded_source="", recorded_fingerprint="", source="", fingerprint=""
    ):
        super().__init__(path, problem)
        self.recorded_source, self.recorded_fingerprint = recorded_source, recorded_fingerprint
        self.source, self.fingerprint = source, fingerprint


class DamagedStore(UserFacingError):
    """A label store whose bytes are damaged: refused, left untouched, and its readable labels can be
    recovered into a new store (``galview labels salvage``, or the window's offer)."""

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
        What is wrong and what was expected, in one sentence.
    """

    def __init__(self, path: str | Path, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class CollectionError(UserFacingError):
    """A cutout collection could not be opened or read."""

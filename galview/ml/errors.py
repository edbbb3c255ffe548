"""Errors a user can act on when opening, describing or feeding a model."""

from __future__ import annotations

from pathlib import Path


class ModelError(ValueError):
    """A model, its card or its input could not be used.

    Mirrors :class:`galview.core.errors.CollectionError`: the message reads ``"PATH: problem"``.

    Parameters
    ----------
    path : str or Path
        The file (model, weights, card) or name (architecture) the user asked for.
    problem : str
        What is wrong and what was expected, in one sentence.
    """

    def __init__(self, path: str | Path, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")

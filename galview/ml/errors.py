"""Errors a user can act on when opening, describing or feeding a model."""

from __future__ import annotations

from galview.core.errors import UserFacingError

#: Where a refused input's message starts naming the adapter steps (and their command-line options).
CHOOSE_ADAPTER = "choose an adapter: "


class ModelError(UserFacingError):
    """A model, its card or its input could not be used (message ``"PATH: problem"``).

    ``path`` is the file (model, weights, card) or name (architecture) the user asked for.
    """


class TrainingFailed(UserFacingError):
    """Training stopped without a result (NaN loss, out of memory); nothing was written.

    ``path`` is the model being retrained; the message says what happened and what to try.
    """

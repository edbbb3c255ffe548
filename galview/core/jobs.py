"""The job protocol shared by long computations (scoring, training, simulation) and their callers.

A job reports :class:`Progress` through a callable and checks a :class:`CancelToken`
between steps; the GUI wraps the same job in a worker thread, the CLI draws a bar.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


class Cancelled(Exception):
    """Raised inside a job when its token was cancelled; nothing it was writing is kept."""


class CancelToken:
    """Thread-safe flag a caller sets to ask a running job to stop at its next step."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled()


@dataclass
class Progress:
    """How far a job has come: ``done`` of ``total`` steps, with a short message and numbers."""

    done: int
    total: int
    message: str = ""
    values: dict = field(default_factory=dict)

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0

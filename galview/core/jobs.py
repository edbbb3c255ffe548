"""The job protocol shared by long computations (scoring, training, simulation) and their callers.

A job is a plain function that takes keyword arguments ``on_progress`` (a callable receiving
:class:`Progress`, or None) and ``cancel`` (a :class:`CancelToken`, or None). It reports progress
in its own units and checks the token between steps, raising :class:`Cancelled` once it is set.
The window runs every job through one runner that injects both; the CLI passes a terminal bar.
:mod:`galview.jobs` lists the jobs.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any


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
    """How far a job has come: ``done`` of ``total`` in the job's ``unit``.

    Attributes
    ----------
    done, total : int
        Steps done and in all (``total`` may grow, e.g. when early stopping shortens training).
    message : str
        What is happening now, e.g. ``"epoch 3/10"``.
    values : dict
        Numbers worth showing, e.g. ``{"loss": 0.31}``.
    unit : str
        What a step is: ``"cutouts"``, ``"batches"``, ``"folds"``…
    payload : object
        Partial results the caller may use at once (scored rows), or None.
    """

    done: int
    total: int
    message: str = ""
    values: dict = field(default_factory=dict)
    unit: str = ""
    payload: Any = None

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0

    def text(self) -> str:
        """``"1,024 / 2,000 cutouts"``, with the message in front when there is one."""
        counts = f"{self.done:,} / {self.total:,}" + (f" {self.unit}" if self.unit else "")
        return f"{self.message}: {counts}" if self.message else counts


#: Rows read between two hand-overs of the GIL in :func:`rows_letting_others_run` (about 2 ms of CSV rows).
ROWS_BETWEEN_YIELDS = 2048


def rows_letting_others_run(rows, every: int = ROWS_BETWEEN_YIELDS):
    """Yield from ``rows`` (a csv reader, say), handing Python's GIL to other threads — the window's,
    when a job reads a file — every ``every`` rows (default :data:`ROWS_BETWEEN_YIELDS`; fewer where a
    row costs more).

    A loop over the csv module's rows in a worker thread was measured to keep the window's event loop
    waiting 150–400 ms at a time (a pure-Python loop: under 10 ms); ``time.sleep(0)`` every 2,048 rows
    brings that to a few ms for about 5% more time (BENCHMARKS.md, "Two inspectors compared"). Why: a
    thread reading a file lets go of the GIL at each read and takes it straight back, and the interpreter
    forces a switch to a waiting thread only after an interval in which the GIL did not change hands, so
    the window's thread gets it only by winning a race (the same lines parsed after reading the whole
    file: 20 ms at worst; parsed while reading it: 270–290 ms; Sérsic photometry §7 in BENCHMARKS.md).
    """
    for count, row in enumerate(rows, 1):
        if count % every == 0:
            time.sleep(0)
        yield row

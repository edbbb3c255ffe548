"""Progress of a job on the command line (stderr), in the job's own units.

A job reports :class:`~galview.core.jobs.Progress` records (``done`` of ``total`` in ``unit``, a
``message`` such as ``"epoch 3/10"``, ``values`` such as the loss). :class:`ProgressPrinter` draws
them as one line per phase of the job, redrawn in place on a terminal::

    score  [##########....................]  1,024/3,000 cutouts  512 cutouts/s  4 s left

and, when the phase ends, one summary line (with the values of the job's last report)::

    train  epoch 2/2 done  4/4 batches in 21.3 s  accuracy 0.510  loss 0.693  val_accuracy 0.480  val_loss 0.701

A new phase starts when the unit or the total changes (embedding the cutouts, then fitting the
folds). The summary is printed when the job repeats the end of a phase (training reports the last
batch, then the end of the epoch with its validation loss), moves on to another phase, or when the
printer is closed (it is a context manager). Where stderr is not a terminal (a log
file, a pipe), the line is written only every :data:`PIPE_INTERVAL_S` and at the end of a phase.
"""

from __future__ import annotations

import math
import numbers
import sys
import time

REDRAW_INTERVAL_S = 0.1
PIPE_INTERVAL_S = 10.0


class ProgressPrinter:
    """A job's ``on_progress`` callback that prints its progress; a context manager.

    Parameters
    ----------
    label : str
        Name of the job, first on each line (``"score"``).
    stream : file, optional
        Where to write (default: ``sys.stderr`` at the time of each report).
    width : int
        Characters of the bar.
    clock : callable
        Seconds, monotonic (tests pass their own). Rates and times count from the moment the
        printer was made (the job's start) for the first phase, from the end of the previous
        phase for the others.
    """

    def __init__(self, label: str, stream=None, width: int = 30, clock=time.monotonic):
        self.label = label
        self._stream = stream
        self.width = width
        self.clock = clock
        self._started = clock()
        self._phase: tuple | None = None
        self._last = None  # the latest record of the current phase
        self._finished = False
        self._ended_at: float | None = None  # when the current phase reached its total
        self._drawn_at = -math.inf
        self._line = 0  # characters of the line drawn in place

    @property
    def stream(self):
        return self._stream or sys.stderr

    def __call__(self, progress) -> None:
        phase = (progress.unit, progress.total)
        if phase != self._phase:
            self.close()
            self._phase, self._finished, self._ended_at = phase, False, None
            self._drawn_at = -math.inf if self._interactive() else self._started
        elif self._finished:
            return
        now, repeated = self.clock(), self._ended_at is not None
        self._last = progress
        if progress.total and progress.done >= progress.total:
            if repeated:  # the job repeated the end with its final values (epoch end after batch end)
                self._finish(self._ended_at)
                return
            self._ended_at = now  # summarised when the job repeats the end, moves on, or is closed
            if self._interactive():
                self._write(self._running_text(now), final=False)
        elif now - self._drawn_at >= (REDRAW_INTERVAL_S if self._interactive() else PIPE_INTERVAL_S):
            self._drawn_at = now
            self._write(self._running_text(now), final=False)

    def close(self) -> None:
        """Print the current phase's summary line if it is not printed yet (the job ended, or stopped
        short of its total)."""
        if self._last is not None and not self._finished:
            self._finish(self._ended_at if self._ended_at is not None else self.clock())

    def __enter__(self) -> ProgressPrinter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _finish(self, now: float) -> None:
        self._finished = True
        p, elapsed = self._last, now - self._started
        text = f"{self.label}  {p.message + '  ' if p.message else ''}{_count(p)} in {_duration(elapsed)}"
        self._write(text + _values(p.values), final=True)
        self._started = now

    def _running_text(self, now: float) -> str:
        p = self._last
        elapsed = max(now - self._started, 1e-9)
        filled = int(self.width * p.done / p.total) if p.total else 0
        bar = "#" * filled + "." * (self.width - filled)
        parts = [self.label, p.message, f"[{bar}]", _count(p)]
        if p.done > 0:
            rate = p.done / elapsed
            parts += [_rate(rate, p.unit), f"{_duration((p.total - p.done) / rate)} left"]
        return "  ".join(part for part in parts if part) + _values(p.values)

    def _interactive(self) -> bool:
        isatty = getattr(self.stream, "isatty", None)
        return bool(isatty and isatty())

    def _write(self, text: str, final: bool) -> None:
        stream = self.stream
        if self._interactive():
            pad = " " * max(0, self._line - len(text))
            stream.write(f"\r{text}{pad}" + ("\n" if final else ""))
            self._line = 0 if final else len(text)
        else:
            stream.write(text + "\n")
        stream.flush()


def progress_printer(label: str) -> ProgressPrinter:
    """A :class:`ProgressPrinter` on stderr for the job called ``label``."""
    return ProgressPrinter(label)


def _count(p) -> str:
    unit = f" {p.unit}" if p.unit else ""
    return f"{p.done:,}/{p.total:,}{unit}"


def _rate(rate: float, unit: str) -> str:
    per = f"{unit}/s" if unit else "/s"
    return f"{rate:,.0f} {per}" if rate >= 10 else f"{rate:.2g} {per}"


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    if seconds < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _values(values: dict) -> str:
    """``"  loss 0.693  accuracy 0.510"``: the numeric values of a report."""
    shown = [
        f"{name} {float(value):.3f}"
        for name, value in (values or {}).items()
        if isinstance(value, numbers.Real) and not isinstance(value, bool)
    ]
    return "".join(f"  {text}" for text in shown)

"""A plain text progress bar for the command line (stderr), with rate and time left."""

from __future__ import annotations

import sys
import time


class ProgressBar:
    """Print ``label [#####.....] done/total rate ETA`` on one line, at most ten times a second."""

    def __init__(
        self, total: int, label: str = "", stream=None, width: int = 30, started: float | None = None
    ):
        self.total = max(1, int(total))
        self.label = label
        self.stream = stream or sys.stderr
        self.width = width
        self.done = 0
        self.started = time.monotonic() if started is None else started
        self._last = 0.0

    def update(self, count: int) -> None:
        self.done = min(self.total, self.done + count)
        now = time.monotonic()
        if now - self._last >= 0.1 or self.done == self.total:
            self._last = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        elapsed = max(now - self.started, 1e-9)
        rate = self.done / elapsed
        left = (self.total - self.done) / rate if rate > 0 else float("inf")
        filled = int(self.width * self.done / self.total)
        bar = "#" * filled + "." * (self.width - filled)
        eta = f"{left:4.0f} s left" if left != float("inf") else ""
        self.stream.write(f"\r{self.label} [{bar}] {self.done}/{self.total} {rate:6.0f}/s {eta}")
        if self.done == self.total:
            self.stream.write(f"\n{self.label}: {self.total} in {elapsed:.1f} s\n")
        self.stream.flush()


def progress_printer(label: str):
    """A job's ``on_progress`` callback that draws a :class:`ProgressBar`, made at the first report
    (rates and times count from the moment this callback was made, i.e. when the job started)."""
    bar = None
    started = time.monotonic()

    def report(progress) -> None:
        nonlocal bar
        bar = bar or ProgressBar(progress.total, label, started=started)
        bar.update(progress.done - bar.done)

    return report

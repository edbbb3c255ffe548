"""A 10 ms QTimer whose lateness measures how long the window could not react (for the GUI benchmarks)."""

from __future__ import annotations

import time

import numpy as np


class LatenessTimer:
    """Start it, do the work, stop it; :meth:`summary` gives median, 99th percentile and worst lateness."""

    def __init__(self, interval_ms: int = 10):
        from PyQt6.QtCore import QTimer

        self.interval = interval_ms / 1000
        self.lateness: list[float] = []
        self._last = time.perf_counter()
        self._timer = QTimer()
        self._timer.timeout.connect(self._tick)
        self._timer.setInterval(interval_ms)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.lateness.append(max(0.0, now - self._last - self.interval))
        self._last = now

    def start(self) -> None:
        self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def summary(self) -> str:
        late = np.array(self.lateness) * 1000
        return (
            f"median {np.median(late):.1f} ms, 99th percentile {np.percentile(late, 99):.1f} ms, "
            f"worst {late.max():.0f} ms over {len(late)} ticks"
        )

"""Cutout ▸ Measure in the window on many cutouts: its job's thread against fitting processes.

Opens a simulated collection (default: the demo's 600, generated if missing) in the real window
(offscreen), selects its first N cutouts and measures them, alternating the job's thread (as the
window did until 2026-12-07) with processes on every core (what it does where spawning is safe,
:func:`galview.core.spawning.spawn_is_safe`). Prints wall time and the event loop's lateness.

    python benchmarks/bench_window_measure.py [--n 600] [--repeat 2] [--data FILE.h5]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))  # event_loop.py


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=600, help="cutouts selected and measured")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each way, alternating")
    parser.add_argument("--data", type=Path, help="a simulation's HDF5 file (default: the demo's)")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from event_loop import LatenessTimer
    from PyQt6.QtTest import QTest

    import galview.io.measuring as measuring
    from galview.qt.app import make_app
    from galview.qt.window import MainWindow

    data = args.data or _demo_file()
    make_app()
    window = MainWindow()
    window.resize(1280, 800)
    window.show()
    window.scoring.auto_limit = 0  # no scoring job: the fits are what is measured
    window.open_path(data)
    while window.state.collection is None or window.runner.busy:
        QTest.qWait(20)
    taking_in = _time_calls(type(window.measuring), "_on_measured")  # the results arriving in the window
    chosen = list(range(min(args.n, len(window.state.collection))))
    print(f"{data}: {len(chosen)} cutouts selected; {os.cpu_count()} cores")
    for run in range(args.repeat):
        for way, safe in (("the job's thread", False), ("processes, every core", True)):
            measuring.spawn_is_safe = lambda safe=safe: safe
            window.state.set_selection(chosen)
            QTest.qWait(200)
            timer = LatenessTimer()
            timer.start()
            started = time.perf_counter()
            assert window.measuring.measure()
            while window.runner.busy:
                QTest.qWait(5)
            took = time.perf_counter() - started
            QTest.qWait(300)  # the results reach the window just after the job ends
            timer.stop()
            print(f"run {run + 1}, {way}: {took:.1f} s; event-loop lateness: {timer.summary()}")
            print(f"  the window took the results in (GUI thread) in {1000 * taking_in[-1]:.0f} ms")
            late = np.array(timer.lateness)
            when = np.cumsum(late + timer.interval)
            worst = np.argsort(late)[::-1][:3]
            print("  worst ticks: " + ", ".join(f"{1000 * late[i]:.0f} ms at {when[i]:.1f} s" for i in worst))
    window.close()


def _time_calls(cls, name: str) -> list[float]:
    """Wrap ``cls.name`` so that each call's seconds are appended to the returned list."""
    took, method = [], getattr(cls, name)

    def timed(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return method(self, *args, **kwargs)
        finally:
            took.append(time.perf_counter() - started)

    setattr(cls, name, timed)
    return took


def _demo_file() -> Path:
    from galview.demo import ensure_demo_collection

    return ensure_demo_collection()


if __name__ == "__main__":
    main()

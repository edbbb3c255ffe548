"""Event-loop lag of the window while it retrains the active model in the background (issue 12).

    python benchmarks/bench_retrain_lag.py [--n 200] [--mode head] [--browse-ms 100]

Simulates ``--n`` labelled DES-like cutouts, opens them in the window with the shipped model, and
presses Retrain. While the job runs (k-fold estimate, final fit, loading and scoring with the new
model) a 10 ms QTimer measures how late the event loop answers, and the current cutout moves on
every ``--browse-ms`` (the detail view redraws and asks for a heat map, as when a user browses).
Prints the timer's median, 99th-percentile and worst lateness and the GUI-thread cost of each move.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("GALVIEW_HOME", tempfile.mkdtemp(prefix="galview-bench-home-"))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--mode", default="head")
    parser.add_argument("--epochs", type=int, default=0, help="0: the recipe's")
    parser.add_argument("--folds", type=int, default=0, help="0: the recipe's")
    parser.add_argument(
        "--browse-ms", type=int, default=100, help="move to the next cutout this often; 0: never"
    )
    parser.add_argument("--baseline-s", type=float, default=20.0, help="browsing with no job first, seconds")
    args = parser.parse_args()
    from event_loop import LatenessTimer  # benchmarks/event_loop.py
    from PyQt6.QtCore import QTimer
    from PyQt6.QtTest import QTest

    from galview.qt.app import make_app
    from galview.qt.retrain_panel import MODE_CHOICES
    from galview.qt.window import MainWindow
    from galview.sim.generate import write_simulation
    from galview.sim.surveys import DES

    data = Path(tempfile.mkdtemp(prefix="galview-bench-")) / "des_sim.h5"
    write_simulation(data, DES, args.n, seed=11, workers=1)
    make_app()
    window = MainWindow()
    window.resize(1400, 850)
    window.show()
    while window.state.model is None or window.runner.busy:
        QTest.qWait(20)
    window.open_path(data)
    while window.runner.busy:  # the shipped model scores the collection first
        QTest.qWait(20)
    window.show_retrain()
    panel = window.retrain_panel
    panel.mode.setCurrentIndex([data for data, _ in MODE_CHOICES].index(args.mode))
    panel.epochs.setValue(args.epochs)
    panel.folds.setValue(args.folds)

    moves: list[float] = []

    def browse() -> None:
        started = time.perf_counter()
        state = window.state
        state.set_current(state.next_after(state.current) if state.current >= 0 else 0)
        moves.append(time.perf_counter() - started)

    mover = QTimer()
    mover.timeout.connect(browse)
    mover.setInterval(args.browse_ms or 10**8)
    baseline = LatenessTimer()  # the same browsing with no job running, for comparison
    baseline.start()
    mover.start()
    QTest.qWait(int(args.baseline_s * 1000))
    baseline.stop()
    baseline_moves, moves[:] = list(moves), []
    phase = {"text": "starting"}
    window.runner.progressed.connect(lambda p: phase.update(text=p.message or phase["text"]))
    window.runner.started.connect(lambda name, _title: phase.update(text=name))
    timer = LatenessTimer()
    stalls: list[tuple[float, str]] = []
    timer._timer.timeout.connect(lambda: stalls.append((timer.lateness[-1], phase["text"])))
    timer.start()
    started = time.perf_counter()
    if not window.retraining.start():
        raise SystemExit(f"retraining did not start: {window.last_error}")
    start_ms = (time.perf_counter() - started) * 1000
    while window.runner.busy or window.retraining._next is not None:
        QTest.qWait(5)
    elapsed = time.perf_counter() - started
    mover.stop()
    timer.stop()
    result = window.retraining.result
    print(f"{args.n} cutouts, mode {args.mode}: retrain + load + rescore in the window took {elapsed:.1f} s")
    if result is not None:
        print(f"verdict: {result.verdict}")
    print(f"pressing Retrain took {start_ms:.0f} ms on the GUI thread")
    print(f"event-loop lateness, browsing with no job ({args.baseline_s:.0f} s): {baseline.summary()}")
    print(f"event-loop lateness during retraining: {timer.summary()}")
    for name, values in (("no job", baseline_moves), ("retraining", moves)):
        ms = np.array(values) * 1000
        if len(ms) == 0:
            print(f"browsing, {name}: no moves")
            continue
        print(f"browsing, {name}: {len(ms)} moves, median {np.median(ms):.1f} ms, worst {ms.max():.0f} ms")
    print("longest stalls during retraining (what the job was doing):")
    for late, text in sorted(stalls, reverse=True)[:8]:
        print(f"  {late * 1000:6.0f} ms  {text}")
    window.close()


if __name__ == "__main__":
    main()

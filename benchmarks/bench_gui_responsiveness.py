"""Event-loop lag of the window while a model scores a collection in the background.

    python benchmarks/bench_gui_responsiveness.py [--model models/deepshadows_des_sim.keras] [--n 20000]

A 10 ms QTimer runs throughout; its lateness is how long the window could not react. Prints the
scoring rate and the timer's median, 99th-percentile and worst lateness.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# A fresh GalView home: scores kept from an earlier run would skip the scoring measured here.
os.environ.setdefault("GALVIEW_HOME", tempfile.mkdtemp(prefix="galview-bench-home-"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path)
    parser.add_argument("--n", type=int, default=20_000)
    args = parser.parse_args()
    from event_loop import LatenessTimer  # benchmarks/event_loop.py
    from PyQt6.QtTest import QTest

    from galview.assets import default_model_path
    from galview.qt.app import make_app
    from galview.qt.window import MainWindow

    os.environ["GALVIEW_MODEL"] = str(args.model or default_model_path())
    path = Path("bench_data/responsiveness.npy")
    path.parent.mkdir(exist_ok=True)
    np.save(path, np.random.default_rng(0).integers(20, 60, (args.n, 64, 64, 3), dtype=np.uint8))
    make_app()
    window = MainWindow()
    window.resize(1280, 800)
    window.show()
    controller = window.scoring
    while window.state.model is None:  # the model loads in the background too
        QTest.qWait(20)
    controller.auto_limit = 0  # start scoring by hand below, after the timer runs
    window.open_path(path)
    timer = LatenessTimer()
    timer.start()
    started = time.perf_counter()
    controller.score()
    while controller.runner.busy:
        QTest.qWait(5)
    elapsed = time.perf_counter() - started
    timer.stop()
    print(f"scored {args.n:,} cutouts in the window in {elapsed:.1f} s ({args.n / elapsed:,.0f} cutouts/s)")
    print(f"event-loop lateness during scoring: {timer.summary()}")
    window.close()
    path.unlink()


if __name__ == "__main__":
    main()

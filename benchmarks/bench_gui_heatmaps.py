"""Stepping through the grid with heat maps on: event-loop lag and how often the map is already there.

    python benchmarks/bench_gui_heatmaps.py [--steps 150] [--interval 150] [--grid]

Opens the demo collection (600 simulated DES-like cutouts, generated on first use) with the shipped
model, then presses → every ``--interval`` ms, like an astronomer paging through cutouts. A 10 ms
QTimer runs throughout; its lateness is how long the window could not react. For each step it records
whether the new cutout's heat map was already cached (prefetched) when it became current, and how long
it took to appear otherwise. ``--grid`` also paints overlays on every thumbnail.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--interval", type=int, default=150, help="ms between key presses")
    parser.add_argument("--grid", action="store_true", help="overlays in the grid as well")
    parser.add_argument("--method", default="gradcam")
    args = parser.parse_args()
    os.environ.setdefault("GALVIEW_HOME", tempfile.mkdtemp(prefix="galview-bench-"))
    from event_loop import LatenessTimer  # benchmarks/event_loop.py
    from PyQt6.QtCore import Qt
    from PyQt6.QtTest import QTest

    from galview.demo import ensure_demo_collection
    from galview.qt.app import make_app
    from galview.qt.window import MainWindow

    path = ensure_demo_collection()
    make_app()
    window = MainWindow()
    window.resize(1280, 800)
    window.show()
    while window.state.model is None:
        QTest.qWait(20)
    window.open_path(path)
    window.state.update_explain(grid=args.grid, method=args.method)
    cache = window.explaining.heatmaps
    while window.runner.busy or not cache.idle():
        QTest.qWait(20)

    timer = LatenessTimer()
    timer.start()
    hits, waits = 0, []
    for _ in range(args.steps):
        QTest.keyClick(window.grid, Qt.Key.Key_Right)
        shown = time.perf_counter()
        if window.detail.overlay.heat is not None:
            hits += 1
        else:
            while window.detail.overlay.heat is None and time.perf_counter() - shown < 5:
                QTest.qWait(1)
            waits.append(time.perf_counter() - shown)
        QTest.qWait(max(0, args.interval - int(1000 * (time.perf_counter() - shown))))
    timer.stop()
    print(f"# {platform.node()} · {os.cpu_count()} CPUs · method {args.method} · grid overlays {args.grid}")
    print(f"{args.steps} steps, one every {args.interval} ms: map already there {hits}/{args.steps}")
    if waits:
        w = np.array(waits) * 1000
        print(f"  otherwise it appeared after median {np.median(w):.0f} ms, worst {w.max():.0f} ms")
    print(f"event-loop lateness: {timer.summary()}")
    window.close()


if __name__ == "__main__":
    main()

"""Labelling at keyboard speed in the window: time from a label key to the label committed and shown.

    python benchmarks/bench_gui_labelling.py [--n 100000] [--presses 300]

Opens an ``--n``-cutout collection (small random cutouts, written to a temporary folder), then presses
1 / 0 alternately ``--presses`` times with auto-advance on. Each key press commits one SQLite
transaction (synchronous=FULL), updates the grid, the panel and the counts, and moves to the next
cutout; the time reported is the whole key press, measured around a synchronous key click.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--presses", type=int, default=300)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="galview-bench-"))
    os.environ.setdefault("GALVIEW_HOME", str(folder / "home"))
    os.environ.setdefault("GALVIEW_MODEL", str(folder / "none.keras"))  # no model: labelling alone
    from PyQt6.QtCore import Qt
    from PyQt6.QtTest import QTest
    from PyQt6.QtWidgets import QApplication

    from galview.qt.app import make_app
    from galview.qt.window import MainWindow

    path = folder / "cutouts.npz"
    rng = np.random.default_rng(0)
    np.savez(
        path, images=rng.integers(0, 255, (args.n, 16, 16, 3), dtype=np.uint8), labels=np.arange(args.n) % 2
    )
    make_app()
    window = MainWindow()
    window.resize(1280, 800)
    window.show()
    window.open_path(path)
    window.grid.setFocus()
    QApplication.processEvents()
    times = []
    for k in range(args.presses):
        key = Qt.Key.Key_1 if k % 2 else Qt.Key.Key_0
        start = time.perf_counter()
        QTest.keyClick(window.grid, key)
        times.append(time.perf_counter() - start)
        QApplication.processEvents()
    ms = np.array(times[1:]) * 1000  # the first press creates the store
    store = window.labelling.store
    assert store is not None and len(store.history()) == args.presses
    print(f"# {platform.node()} · {os.cpu_count()} CPUs · {args.n:,} cutouts · store {store.path}")
    print(f"first key press (creates the store): {1000 * times[0]:.0f} ms")
    print(
        f"{len(ms)} label key presses: median {np.median(ms):.1f} ms, 99th percentile "
        f"{np.percentile(ms, 99):.1f} ms, worst {ms.max():.1f} ms"
    )
    window.close()


if __name__ == "__main__":
    main()

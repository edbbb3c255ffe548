"""Ranking by similarity to cutouts of the open collection: how late the window's event loop answers.

Opens a collection in the real window (offscreen; default the 100 real Galaxy Zoo galaxies, 424 × 424 PNGs),
builds the pixel space's index once, then ranks by similarity to the current cutout and to the first
``--k`` cutouts selected, with a 10 ms timer measuring the event loop's lateness. Run it with each version
of the package on the path to compare them.

    python benchmarks/bench_similarity_references.py [--data FOLDER] [--k 50] [--repeat 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # event_loop.py

RINGS = Path(__file__).resolve().parents[2] / "shared" / "data" / "gz_decals_rings" / "images"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=RINGS)
    parser.add_argument("--k", type=int, default=50, help="cutouts selected as references")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("GALVIEW_HOME", tempfile.mkdtemp())
    from event_loop import LatenessTimer
    from PyQt6.QtTest import QTest

    from galview.qt.app import make_app
    from galview.qt.window import MainWindow

    make_app()
    window = MainWindow()
    window.resize(1280, 800)
    window.show()
    assert window.open_path(args.data), window.last_error
    _settle(window)
    window.similarity.set_space("pixel")
    window.state.set_current(0)
    window.similarity.rank_like_current()  # the index is built once, then kept
    _settle(window)
    for k in [1] + [args.k] * args.repeat:
        window.state.set_selection(window.state.order[:k].tolist() if k > 1 else [])
        timer = LatenessTimer()
        timer.start()
        started = time.perf_counter()
        assert window.similarity.rank_like_current()
        _settle(window)
        took = time.perf_counter() - started
        QTest.qWait(100)
        timer.stop()
        print(f"{k} reference(s): ranked in {took:.2f} s; lateness: {timer.summary()}")
    window.close()


def _settle(window) -> None:
    from PyQt6.QtTest import QTest

    while window.runner.busy:
        QTest.qWait(5)


if __name__ == "__main__":
    main()

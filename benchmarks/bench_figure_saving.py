"""Saving figures from the window: how long until saved, and how late the window's event loop answers.

Opens the demo's simulation (or ``--data``) in the real window (offscreen), waits for its scores, then
saves the grid as an image of ``--tiles`` cutouts (File ▸ Save the grid as an image…) and, after measuring
``--fits`` cutouts, the fits as a figure (Cutout ▸ Save the fits as a figure…), with a 10 ms timer
measuring the event loop's lateness. Run it with each version of the package on the path to compare.

    python benchmarks/bench_figure_saving.py [--data FILE] [--tiles 400] [--fits 100] [--repeat 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # event_loop.py


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="a collection (default: the demo's simulation)")
    parser.add_argument("--tiles", type=int, default=400)
    parser.add_argument("--fits", type=int, default=100, help="cutouts measured for the figure of fits")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    folder = Path(tempfile.mkdtemp())
    os.environ.setdefault("GALVIEW_HOME", str(folder / "home"))
    from event_loop import LatenessTimer
    from PyQt6.QtTest import QTest

    from galview.qt.app import make_app, window_ready
    from galview.qt.window import MainWindow

    make_app()
    window = MainWindow()
    window.resize(1280, 800)
    window.show()
    data = args.data
    if data is None:
        from galview.demo import ensure_demo_collection

        data = Path(ensure_demo_collection(progress=lambda _text: None))
    assert window.open_path(data), window.last_error
    _wait(lambda: window.state.scores is not None and window.state.scores.complete and window_ready(window))
    status = window.statusBar()

    def timed(what: str, save, done_prefix: str) -> None:
        for run in range(args.repeat):
            status.showMessage("")
            timer = LatenessTimer()
            timer.start()
            started = time.perf_counter()
            save(folder / f"{what}{run}.png")
            _wait(lambda: status.currentMessage().startswith(done_prefix))
            took = time.perf_counter() - started
            QTest.qWait(100)
            timer.stop()
            print(f"{what}, run {run + 1}: saved in {took:.2f} s; lateness: {timer.summary()}")

    from galview.qt.grid_export import save_figure

    cutouts = window.state.order[: args.tiles].tolist()
    timed(f"grid of {len(cutouts)}", lambda path: save_figure(window, path, cutouts), "A figure of")
    if args.fits:
        from PyQt6.QtWidgets import QInputDialog

        QInputDialog.getDouble = staticmethod(lambda *a, **k: (22.5, True))
        window.state.set_selection(window.state.order[: args.fits].tolist())
        window.measuring.measure()
        _wait(lambda: not window.runner.busy and len(window.measuring.fits) >= args.fits)
        window.state.set_selection([])
        timed(f"fits of {args.fits}", window.measuring.save_figure, "Data, model and residual")
    window.close()


def _wait(condition, timeout_s: float = 600.0) -> None:
    from PyQt6.QtTest import QTest

    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout_s:
            raise SystemExit("timed out")
        QTest.qWait(5)


if __name__ == "__main__":
    main()

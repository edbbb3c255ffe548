"""Photometry kept for a large collection: how long the window's thread waits for it (offscreen, real window).

Writes a collection of N float32 cutouts (a sparse ``.npy``: zeros that take no disk space) and, as its kept
photometry, N fits (the first cutouts of the demo's simulation measured, repeated), then in the real window:
opens the collection (as File ▸ Open does) until the kept fits are shown, and measures one cutout (Ctrl+M) until its result is
shown, with a 10 ms timer measuring how late the event loop answers. Run it with each version of the
package on the path to compare them.

    python benchmarks/bench_kept_photometry.py [--n 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))  # event_loop.py

ZEROPOINT, PIXEL_SCALE = 22.5, 0.263


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="cutouts, and fits kept")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    folder = Path(tempfile.mkdtemp())
    os.environ["GALVIEW_HOME"] = str(folder / "home")
    from event_loop import LatenessTimer
    from PyQt6.QtTest import QTest

    from galview.qt.app import make_app
    from galview.qt.window import MainWindow

    data = folder / "survey.npy"
    np.lib.format.open_memmap(data, mode="w+", dtype=np.float32, shape=(args.n, 64, 64, 3)).flush()
    path = _keep_fits(data, args.n)
    print(f"{args.n} fits kept: {path.stat().st_size / 1e6:.1f} MB ({path.name})")
    make_app()
    window = MainWindow()
    window.resize(1280, 800)
    window.show()
    window.scoring.auto_limit = 0  # no scoring job: the photometry is what is measured
    for run in range(args.repeat):
        timer = LatenessTimer()
        timer.start()
        started = time.perf_counter()
        window.open_path(data, background=True)  # as File ▸ Open does
        while len(window.measuring.fits) < args.n:
            QTest.qWait(5)
        shown = time.perf_counter() - started
        QTest.qWait(200)
        timer.stop()
        print(
            f"run {run + 1}, opened until the kept fits are shown: {shown:.2f} s; lateness: {timer.summary()}"
        )
        while window.runner.busy:  # the model loaded at start-up
            QTest.qWait(5)
        window.state.set_selection([])
        window.state.set_current(1)
        timer = LatenessTimer()
        timer.start()
        started = time.perf_counter()
        assert window.measuring.measure()
        while window.runner.busy or 1 not in window.measuring.fits:
            QTest.qWait(5)
        measured = time.perf_counter() - started
        QTest.qWait(300)
        timer.stop()
        print(f"run {run + 1}, one cutout measured and shown: {measured:.2f} s; lateness: {timer.summary()}")
        _open_other(window, folder)
        QTest.qWait(300)
    window.close()


def _keep_fits(data: Path, n: int) -> Path:
    """Keep ``n`` fits for the collection at ``data``, with the calibration the window's Measure will use."""
    from galview.core.collection import fingerprint
    from galview.demo import ensure_demo_collection
    from galview.io import open_collection
    from galview.io.measuring import calibration, fluxes_of, measure_cutouts
    from galview.io.photometry_files import KeptPhotometry, save_photometry

    with open_collection(ensure_demo_collection()) as demo, fluxes_of(demo) as fluxes:
        demo_fits = [fit for _i, fit in measure_cutouts(fluxes, range(20), calibration(fluxes, "g"))]
    with open_collection(data) as collection:
        found = calibration(collection, None, ZEROPOINT, PIXEL_SCALE)
        key = fingerprint(collection)
    return save_photometry(key, KeptPhotometry(found, {i: demo_fits[i % 20] for i in range(n)}))


def _open_other(window, folder: Path) -> None:
    """Open a small other collection, so that the next run opens the large one anew."""
    other = folder / "other.npy"
    if not other.exists():
        np.save(other, np.zeros((4, 64, 64, 3), np.float32))
    window.open_path(other, background=True)


if __name__ == "__main__":
    main()

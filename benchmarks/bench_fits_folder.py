"""Opening and reading a folder of per-object FITS cutouts, as a cutout service delivers them.

    python benchmarks/bench_fits_folder.py [--n 3000] [--size 128] [--folder DIR] [--score] [--window]

Writes ``--n`` files like the Legacy Survey cutout service's (a float32 (3, H, W) primary image in
nanomaggies, BANDS, a TAN WCS centred on the cutout, DES's 0.263″ pixels) into ``--folder`` (kept and reused when it holds them), then
times, each with GalView's plain-FITS reading (:mod:`galview.io.plain_fits`) and with astropy for
every file (the reading before it), in the same run:

* opening and ``describe()`` — what ``galview info`` and the window's opening do (every file's
  centre position is read);
* reading every cutout in batches of 64 — what scoring reads;
* with ``--score``, ``galview score`` in this process (the shipped model through the physical
  adapter; model loading included);
* with ``--window``, ``MainWindow.open_path`` offscreen: how long the window is frozen when the
  opening runs in the GUI thread (the API's default, and the reading before), and, opened as the
  menus open it (``background=True``), how long until it is shown and the longest the event loop
  waited meanwhile (a 10 ms timer's lateness).

Times are medians of ``--repeat`` runs, files in the page cache (a first pass reads them all).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # event_loop


def write_folder(folder: Path, n: int, size: int) -> None:
    """``n`` Legacy-Survey-like cutouts; files already there are kept."""
    from astropy.io import fits

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        path = folder / f"cutout_{i:07d}.fits"
        if path.exists():
            continue
        header = fits.Header()
        header["BANDS"], header["BUNIT"] = "grz", "nanomaggy"
        for k, band in enumerate("grz"):
            header[f"BAND{k}"] = band
        header["CTYPE1"], header["CTYPE2"] = "RA---TAN", "DEC--TAN"
        header["CRVAL1"], header["CRVAL2"] = 150 + rng.random(), -8 + rng.random()
        header["CRPIX1"] = header["CRPIX2"] = (size + 1) / 2
        header["CD1_1"], header["CD1_2"], header["CD2_1"], header["CD2_2"] = -7.3e-5, 0.0, 0.0, 7.3e-5
        pixels = rng.normal(0, 0.005, (3, size, size)).astype(np.float32)
        fits.PrimaryHDU(pixels, header=header).writeto(path)


@contextlib.contextmanager
def astropy_only():
    """GalView's reading with the plain path switched off: every file through astropy."""
    from galview.io import plain_fits

    originals = plain_fits.read_header, plain_fits.read_image
    plain_fits.read_header = lambda path: None
    plain_fits.read_image = lambda path, wanted: None
    try:
        yield
    finally:
        plain_fits.read_header, plain_fits.read_image = originals


def time_open(folder: Path) -> float:
    from galview.io import open_collection

    start = time.perf_counter()
    with open_collection(folder) as collection:
        collection.describe()
    return time.perf_counter() - start


def time_read(folder: Path) -> float:
    from galview.io import open_collection

    with open_collection(folder) as collection:
        start = time.perf_counter()
        for first in range(0, len(collection), 64):
            collection.get_batch(list(range(first, min(len(collection), first + 64))))
        return time.perf_counter() - start


def time_score(folder: Path) -> float:
    import tempfile

    from galview.cli import main

    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        assert main(["score", str(folder), "-o", f"{out}/scores.csv"]) == 0
        return time.perf_counter() - start


@contextlib.contextmanager
def ready_window():
    """An offscreen window with the shipped model loaded; closed (its scoring stopped) afterwards."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PyQt6.QtTest import QTest

    from galview.qt.app import make_app
    from galview.qt.window import MainWindow

    make_app()
    window = MainWindow()
    while window.state.model is None or window.runner.busy:  # the shipped model loads first
        QTest.qWait(20)
    try:
        yield window
    finally:
        window.scoring.stop_scoring()
        window.close()
        QTest.qWait(50)


def time_window_open(folder: Path) -> float:
    with ready_window() as window:
        start = time.perf_counter()
        opened = window.open_path(folder)
        elapsed = time.perf_counter() - start
    assert opened, "the window did not open the folder"
    return elapsed


def window_background_open(folder: Path) -> tuple[float, float]:
    """Seconds until the collection is shown, and the event loop's longest wait meanwhile."""
    from event_loop import LatenessTimer  # benchmarks/event_loop.py
    from PyQt6.QtTest import QTest

    with ready_window() as window:
        timer = LatenessTimer()
        start = time.perf_counter()
        timer.start()
        window.open_path(folder, background=True)
        while window.state.collection is None:
            QTest.qWait(5)
        elapsed = time.perf_counter() - start
        timer.stop()
    return elapsed, max(timer.lateness)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--folder", type=Path, default=Path("bench_data/fits_folder"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--score", action="store_true")
    parser.add_argument("--window", action="store_true")
    args = parser.parse_args(argv)
    folder = args.folder / f"n{args.n}_{args.size}px"
    write_folder(folder, args.n, args.size)
    time_read(folder)  # into the page cache
    jobs = {"open + describe": time_open, "read every cutout": time_read}
    if args.score:
        jobs["galview score"] = time_score
    if args.window:
        jobs["window open_path"] = time_window_open
    results = {}
    for name, job in jobs.items():
        plain = statistics.median(job(folder) for _ in range(args.repeat))
        with astropy_only():
            general = statistics.median(job(folder) for _ in range(args.repeat))
        results[name] = {
            "plain_s": round(plain, 3),
            "astropy_s": round(general, 3),
            "ratio": round(general / plain, 1),
        }
        print(
            f"{name:>20}: {plain:7.2f} s plain, {general:7.2f} s astropy only ({general / plain:.1f}×)",
            flush=True,
        )
    if args.window:
        shown, stall = window_background_open(folder)
        results["window, opened in the background"] = {
            "shown_s": round(shown, 3),
            "longest_stall_s": round(stall, 3),
        }
        print(
            f"window, background: shown after {shown:.2f} s, the event loop's longest wait {stall * 1000:.0f} ms"
        )
    print(json.dumps({"n": args.n, "size": args.size, **results}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

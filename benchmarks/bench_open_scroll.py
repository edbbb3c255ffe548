"""Open a 1,000,000-cutout HDF5 file, show the first thumbnails, read random batches, scroll.

Prints: time to open (API and window, until the first screen of thumbnails is drawn), random batch read
throughput, and peak RSS while scrolling the window through the whole collection.

    python benchmarks/bench_open_scroll.py [--n 1000000] [--path bench_data/million.h5] [--keep]

The file (64×64×3 uint8, ~12 GB for a million cutouts, chunks of 16 cutouts) is generated on first use.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_file(path: Path, n: int, block: int = 8192) -> None:
    import h5py

    rng = np.random.default_rng(0)
    pool = rng.normal(40, 8, (block, 64, 64, 3))
    yy, xx = np.mgrid[0:64, 0:64]
    for k in range(0, block, 7):  # a few blobs so thumbnails are not pure noise
        pool[k] += 60 * np.exp(-((xx - 32) ** 2 + (yy - 32) ** 2) / (2 * (3 + k % 9) ** 2))[..., None]
    pool = np.clip(pool, 0, 255).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with h5py.File(path.with_suffix(".partial"), "w") as handle:
        images = handle.create_dataset("images", (n, 64, 64, 3), dtype=np.uint8, chunks=(16, 64, 64, 3))
        images.attrs["layout"] = "NHWC"
        for start in range(0, n, block):
            stop = min(n, start + block)
            images[start:stop] = np.roll(pool, start // block, axis=0)[: stop - start]
        handle.create_dataset("labels", data=(np.arange(n) % 2).astype(np.int8))
    path.with_suffix(".partial").replace(path)
    print(
        f"generated {n:,} cutouts in {time.perf_counter() - started:.0f} s ({path.stat().st_size / 1e9:.1f} GB)"
    )


def bench_api(path: Path) -> None:
    from galview.io import open_collection

    started = time.perf_counter()
    collection = open_collection(path)
    opened = time.perf_counter() - started
    started = time.perf_counter()
    collection.get_batch(np.arange(64))
    first = time.perf_counter() - started
    print(
        f"open_collection: {opened * 1000:.1f} ms for {len(collection):,} cutouts; first 64 cutouts: {first * 1000:.1f} ms"
    )
    from galview.core.collection import fingerprint

    started = time.perf_counter()
    print(f"fingerprint {fingerprint(collection)} in {(time.perf_counter() - started) * 1000:.1f} ms")
    rng = np.random.default_rng(1)
    for batch in (64, 1024):
        reads = 40 if batch == 64 else 8
        started = time.perf_counter()
        for _ in range(reads):
            collection.get_batch(rng.integers(0, len(collection), batch))
        rate = reads * batch / (time.perf_counter() - started)
        print(f"random batch read, batch {batch}: {rate:,.0f} cutouts/s")
    total = min(65536, len(collection)) // 4096 * 4096
    offset = (len(collection) - total) // 2
    started = time.perf_counter()
    for start in range(offset, offset + total, 4096):
        collection.get_batch(np.arange(start, start + 4096))
    print(f"sequential batch read, batch 4096: {total / (time.perf_counter() - started):,.0f} cutouts/s")
    collection.close()


def bench_window(path: Path, screens: int, with_model: bool) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    # A fresh GalView home: scores kept from an earlier run would skip the scoring measured here.
    os.environ.setdefault("GALVIEW_HOME", tempfile.mkdtemp(prefix="galview-bench-home-"))
    if not with_model:  # browsing alone; the shipped model adds TensorFlow (~800 MB RSS) when it loads
        os.environ["GALVIEW_MODEL"] = str(path.with_suffix(".no-model.keras"))
    from PyQt6.QtTest import QTest

    from galview.qt.app import make_app, thumbnails_ready
    from galview.qt.window import MainWindow

    make_app()
    window = MainWindow()
    window.resize(1280, 800)
    window.show()
    QTest.qWait(100)
    rss_before = rss_mb()

    def wait_ready(limit_s=30.0) -> float:
        started = time.perf_counter()
        while not thumbnails_ready(window) and time.perf_counter() - started < limit_s:
            QTest.qWait(2)
        return time.perf_counter() - started

    started = time.perf_counter()
    window.open_path(path)
    opened = time.perf_counter() - started
    wait_ready()
    shown = time.perf_counter() - started
    print(
        f"window: open {opened * 1000:.0f} ms; first screen of thumbnails drawn after {shown * 1000:.0f} ms"
    )

    bar = window.grid.verticalScrollBar()
    waits = []
    for value in np.linspace(0, bar.maximum(), screens).astype(int):
        bar.setValue(int(value))
        waits.append(wait_ready())
    rows_seen = screens * window.grid.viewport().height() // window.grid.verticalHeader().defaultSectionSize()
    print(
        f"scrolled through {screens} screens spread over all {bar.maximum():,} px (~{rows_seen * window.grid.grid_model.columns:,} thumbnails): "
        f"median {np.median(waits) * 1000:.0f} ms, max {max(waits) * 1000:.0f} ms until a screen is drawn"
    )
    print(
        f"RSS: {rss_before:.0f} MB before opening, {rss_mb():.0f} MB after scrolling; peak RSS {peak_rss_mb():.0f} MB"
    )
    window.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--path", type=Path, default=Path("bench_data/million.h5"))
    parser.add_argument("--screens", type=int, default=300)
    parser.add_argument("--keep", action="store_true", help="keep the generated file")
    parser.add_argument("--with-model", action="store_true", help="let the window load the shipped model too")
    args = parser.parse_args()
    print(
        f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cores, Python {sys.version.split()[0]}"
    )
    if not args.path.exists():  # in a child process, so its memory does not count in the peak RSS below
        import multiprocessing

        child = multiprocessing.get_context("spawn").Process(target=make_file, args=(args.path, args.n))
        child.start()
        child.join()
    try:
        bench_api(args.path)
        bench_window(args.path, args.screens, args.with_model)
    finally:
        if not args.keep:
            args.path.unlink()


if __name__ == "__main__":
    main()

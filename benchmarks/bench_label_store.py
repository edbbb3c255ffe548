"""Label store latency on this disk: what one key press costs, and reads a GUI makes.

Prints: store creation for N cutouts, open time, commit latency of ``LabelStore.set`` (median and
p99, one cutout and a batch of 100), undo/redo (store-wide and one user's), and the reads (``current``, ``effective``, ``counts``,
``last_seq`` poll) and a CSV export. For comparison it also times single sets with
``synchronous=NORMAL`` (not what GalView uses: with it a power cut may lose the last commits).

    python benchmarks/bench_label_store.py [--n 100000] [--sets 400] [--dir FOLDER]
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import tempfile
import time
from pathlib import Path

import numpy as np

from galview.io.label_store import LabelStore, current_user


def timed(fn, repeats: int) -> np.ndarray:
    """Milliseconds per call."""
    out = np.empty(repeats)
    for k in range(repeats):
        start = time.perf_counter()
        fn(k)
        out[k] = (time.perf_counter() - start) * 1000
    return out


def line(name: str, ms: np.ndarray) -> None:
    print(f"{name:34s} median {np.median(ms):7.2f} ms   p99 {np.percentile(ms, 99):7.2f} ms   (n={len(ms)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="cutouts in the store")
    parser.add_argument("--sets", type=int, default=400, help="timed single-cutout sets")
    parser.add_argument("--dir", help="folder on the disk to measure (default: system temp folder)")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, {platform.platform()}")
    with tempfile.TemporaryDirectory(dir=args.dir) as folder:
        path = Path(folder) / "bench.sqlite"
        print(f"store: {path} (filesystem of {os.path.realpath(folder)})")
        original = rng.integers(0, 2, args.n).astype(float)
        start = time.perf_counter()
        LabelStore.open(path, args.n, ids=[f"J{i:09d}" for i in range(args.n)], original=original).close()
        print(f"create store, {args.n} cutouts:        {time.perf_counter() - start:7.2f} s")
        opened = timed(lambda k: LabelStore.open(path, args.n).close(), 10)
        line("open existing store", opened)
        with LabelStore.open(path, args.n) as store:
            measure(store, rng, args)
        print(f"store size after the run: {path.stat().st_size / 1e6:.1f} MB")


def measure(store: LabelStore, rng, args) -> None:
    n = args.n
    singles = rng.integers(0, n, args.sets)
    labels = rng.integers(-1, 2, args.sets)
    line("set: one cutout (commit)", timed(lambda k: store.set(int(singles[k]), int(labels[k])), args.sets))
    batches = [rng.choice(n, 100, replace=False) for _ in range(100)]
    line("set: batch of 100 (one commit)", timed(lambda k: store.set(batches[k], k % 2), 100))
    line(
        "set with model id, prob, seconds",
        timed(lambda k: store.set(int(singles[k]), 1, model_id="deepshadows", prob=0.73, seconds=2.1), 200),
    )
    line("undo (one cutout)", timed(lambda k: store.undo(), 100))
    line("redo (one cutout)", timed(lambda k: store.redo(), 100))
    me = current_user()
    line("undo --mine (one cutout)", timed(lambda k: store.undo(user=me), 100))
    line("redo --mine (one cutout)", timed(lambda k: store.redo(user=me), 100))
    line("last_seq() poll", timed(lambda k: store.last_seq(), 200))
    line(f"current() ({n} cutouts)", timed(lambda k: store.current(), 20))
    line(f"effective() ({n} cutouts)", timed(lambda k: store.effective(), 20))
    line("counts()", timed(lambda k: store.counts(), 20))
    line("get(index)", timed(lambda k: store.get(int(singles[k])), 200))
    with tempfile.TemporaryDirectory() as out:
        line(f"export CSV ({n} rows)", timed(lambda k: store.export(Path(out) / "labels.csv"), 3))
    store._conn.execute("PRAGMA synchronous=NORMAL")  # comparison only; GalView always uses FULL
    line("set: one cutout, synchronous=NORMAL", timed(lambda k: store.set(int(singles[k]), 0), args.sets))
    store._conn.execute("PRAGMA synchronous=FULL")
    print(f"history rows: {store.last_seq()}, integrity: {store.integrity()}")


if __name__ == "__main__":
    main()

"""Scoring throughput: `galview score` streaming from HDF5 against `model.predict` on arrays in memory.

    python benchmarks/bench_scoring.py [--model models/deepshadows_des_sim.keras] [--n 20000]
                                       [--million bench_data/million.h5]

Both sides run the same model on the same cutouts in the same process. With --million, also scores
the first 200,000 cutouts of the 1,000,000-cutout file of bench_open_scroll.py and reports peak RSS —
in that case nothing else runs, so the peak is the scorer's own.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import time
from pathlib import Path

import h5py
import numpy as np

from galview.assets import default_model_path
from galview.io import open_collection
from galview.ml.loading import load_model
from galview.ml.scoring import score_to_file


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_file(path: Path, n: int) -> None:
    rng = np.random.default_rng(0)
    with h5py.File(path, "w") as handle:
        handle.create_dataset(
            "images", data=rng.integers(20, 60, (n, 64, 64, 3), dtype=np.uint8), chunks=(16, 64, 64, 3)
        )


def score_million(loaded, path: Path, batch_size: int, subset: int = 200_000) -> None:
    from galview.ml.scoring import score_batches

    million = open_collection(path)
    started = time.perf_counter()
    for batch in score_batches(loaded, million, batch_size, indices=np.arange(subset)):
        if batch.start == 20 * batch_size:
            print(f"peak RSS after {batch.start:,} cutouts: {peak_rss_mb():.0f} MB")
    rate = subset / (time.perf_counter() - started)
    print(
        f"{path}: first {subset:,} of {len(million):,} cutouts at {rate:,.0f} cutouts/s; peak RSS {peak_rss_mb():.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=default_model_path())
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--million", type=Path)
    args = parser.parse_args()
    print(f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cores")
    loaded = load_model(args.model)
    if args.million:
        score_million(loaded, args.million, args.batch_size)
        return
    path = Path("bench_data/score_bench.h5")
    path.parent.mkdir(exist_ok=True)
    make_file(path, args.n)
    collection = open_collection(path)
    arrays = collection.get_batch(np.arange(args.n)).astype(np.float32) / 255.0
    loaded.model.predict(arrays[:2048], batch_size=args.batch_size, verbose=0)  # warm-up both paths
    score_to_file(loaded, open_collection(path), "bench_data/warm.h5", batch_size=args.batch_size)
    started = time.perf_counter()
    loaded.model.predict(arrays, batch_size=args.batch_size, verbose=0)
    in_memory = args.n / (time.perf_counter() - started)
    started = time.perf_counter()
    for start in range(0, args.n, args.batch_size):
        loaded.model.predict_on_batch(arrays[start : start + args.batch_size])
    on_batch = args.n / (time.perf_counter() - started)
    started = time.perf_counter()
    score_to_file(loaded, collection, "bench_data/scores.h5", batch_size=args.batch_size)
    streamed = args.n / (time.perf_counter() - started)
    print(f"model.predict(arrays in memory, batch {args.batch_size}): {in_memory:,.0f} cutouts/s")
    print(f"model.predict_on_batch over the same arrays: {on_batch:,.0f} cutouts/s")
    print(
        f"galview score from HDF5 (+ embeddings, written to HDF5): {streamed:,.0f} cutouts/s = "
        f"{streamed / in_memory:.2f} of model.predict, {streamed / on_batch:.2f} of predict_on_batch"
    )
    for name in ("score_bench.h5", "warm.h5", "scores.h5"):
        Path("bench_data", name).unlink(missing_ok=True)


if __name__ == "__main__":
    main()

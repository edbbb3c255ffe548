"""Pairing a survey-sized collection with another file of the same objects, and showing a counterpart.

    python benchmarks/bench_pairing.py [--n 1000000] [--other 200000]

Two HDF5 files: ``n`` cutouts with ids and positions on a 100 deg² patch, and a deeper survey's
``other`` cutouts of a random subset of the same objects (shuffled, positions within 0.5″, ids the
same). Times :func:`galview.io.paired_collections.open_and_pair` by id, by sky position and with
``auto``, with the process's peak memory; then the window's step per cutout (read the counterpart,
draw it with the display settings) on 64 × 64 × 3 cutouts. Pairing reads ids and positions only, so
the files hold 4 × 4 × 1 pixels each (the time does not depend on the pixels).
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np

from galview.core.display import DisplaySettings, render
from galview.io import open_collection
from galview.io.paired_collections import open_and_pair


def write(path: Path, ids, ra, dec, shape=(4, 4, 1)) -> None:
    with h5py.File(path, "w") as handle:
        handle.create_dataset(
            "images", shape=(len(ids), *shape), dtype=np.uint8, chunks=(64, *shape), fillvalue=7
        )
        handle["ids"] = np.asarray(ids, dtype="S")
        handle["ra"], handle["dec"] = ra, dec


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="cutouts of the open collection")
    parser.add_argument("--other", type=int, default=200_000, help="cutouts of the other file")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    ra = rng.uniform(150, 160, args.n)
    dec = np.degrees(np.arcsin(rng.uniform(np.sin(np.radians(-5)), np.sin(np.radians(5)), args.n)))
    ids = np.char.add("DES-", np.arange(args.n).astype(str))
    subset = rng.choice(args.n, args.other, replace=False)
    offset = rng.uniform(-0.5, 0.5, (2, args.other)) / 3600
    with tempfile.TemporaryDirectory() as folder:
        survey, deeper = Path(folder) / "survey.h5", Path(folder) / "deeper.h5"
        write(survey, ids, ra, dec)
        write(deeper, ids[subset], ra[subset] + offset[0], dec[subset] + offset[1])
        print(
            f"{args.n:,} cutouts paired with {args.other:,} of them in another file ({peak_mb():.0f} MB peak before)"
        )
        with open_collection(survey) as collection:
            for by in ("id", "position", "auto"):
                times = []
                for _ in range(3):
                    start = time.perf_counter()
                    other, pairing = open_and_pair(collection, deeper, by)
                    times.append(time.perf_counter() - start)
                    other.close()
                same = int(np.count_nonzero(pairing.other_index[subset] == np.arange(args.other)))
                outside = np.ones(args.n, bool)
                outside[subset] = False
                neighbours = int(np.count_nonzero(pairing.other_index[outside] >= 0))
                print(
                    f"  --by {by}: best {min(times):.2f} s of 3 ({pairing.summary('deeper.h5')}; with their own "
                    f"object: {same:,}; objects not in the other file paired with a neighbour: {neighbours:,}); "
                    f"peak {peak_mb():.0f} MB"
                )
        show(Path(folder), rng)


def show(folder: Path, rng) -> None:
    """The window's step when the current cutout changes: read the counterpart and draw it."""
    path = folder / "deep_64.h5"
    n = 20_000
    with h5py.File(path, "w") as handle:
        handle.create_dataset(
            "images", data=rng.integers(0, 255, (n, 64, 64, 3), dtype=np.uint8), chunks=(16, 64, 64, 3)
        )
    settings = DisplaySettings(stretch="asinh", interval="percentile")
    with open_collection(path) as other:
        order = rng.choice(n, 500, replace=False)
        start = time.perf_counter()
        for j in order:
            render(other.get(int(j)), settings, other.bands, other.dtype)
        each = (time.perf_counter() - start) / len(order) * 1000
    print(
        f"showing a counterpart (read one 64 × 64 × 3 cutout of an HDF5 file of {n:,} and draw it, asinh): {each:.1f} ms"
    )


if __name__ == "__main__":
    main()

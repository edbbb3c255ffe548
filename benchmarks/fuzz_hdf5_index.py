"""Does damage to an HDF5 file's chunk index crash reads of cutouts that the first look does not read?

    PYTHONPATH=. python benchmarks/fuzz_hdf5_index.py [--index btree|latest] [--runs 80] [--seed 0]

GalView opens every HDF5 file first in a child process (:mod:`galview.io.hdf5_probe`), which reads
what opening reads and the first and last cutouts. A damaged node of the chunk index in the middle of
a large file is not read by that look. This script writes 4,096 cutouts in 256 chunks — with the
default v1 B-tree index (``btree``, several nodes) or, with ``--index latest``, a resizable dataset
in the newest file format (an extensible-array index) — overwrites 1–8 random bytes inside the
index's nodes, and for each damaged copy runs in child processes: the look, then (when the look
passes) a read of every cutout. A child killed by a signal or still reading after 20 s is a crash
the look missed; an exception is a clean refusal (GalView words it).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
LOOK = """
import os, sys
os.environ["GALVIEW_HDF5_CHILD"] = "1"
from galview.io.registry import open_collection
c = open_collection(sys.argv[1]); n = len(c)
c.ids, c.labels, c.coords, c.class_names
c.get_batch([0, n - 1])
"""
READ_ALL = """
import os, sys
os.environ["GALVIEW_HDF5_CHILD"] = "1"
from galview.io.registry import open_collection
c = open_collection(sys.argv[1]); n = len(c)
for first in range(0, n, 64):
    try:
        c.get_batch(list(range(first, min(n, first + 64))))
    except Exception:
        pass
"""
#: Signatures of chunk-index nodes: v1 B-tree, extensible and fixed arrays, v2 B-tree.
INDEX_SIGNATURES = (b"TREE", b"EAHD", b"EAIB", b"EASB", b"EADB", b"FAHD", b"FADB", b"BTHD", b"BTIN", b"BTLF")


def write_base(path: Path, index: str) -> None:
    import h5py

    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (4096, 8, 8, 3), dtype=np.uint8)
    libver = "latest" if index == "latest" else "earliest"
    with h5py.File(path, "w", libver=libver) as handle:
        maxshape = (None, 8, 8, 3) if index == "latest" else None
        handle.create_dataset("images", data=images, chunks=(16, 8, 8, 3), maxshape=maxshape)
        handle.create_dataset("labels", data=rng.integers(0, 2, 4096).astype("i1"))


def index_bytes(path: Path) -> np.ndarray:
    """Offsets of bytes in the images' chunk-index nodes (not in chunk data, not the group's tree)."""
    import h5py

    raw = path.read_bytes()
    with h5py.File(path, "r") as handle:
        dataset = handle["images"]
        in_data = np.zeros(len(raw), bool)
        for k in range(dataset.id.get_num_chunks()):
            info = dataset.id.get_chunk_info(k)
            in_data[info.byte_offset : info.byte_offset + info.size] = True
    starts = sorted(m.start() for sig in INDEX_SIGNATURES for m in re.finditer(re.escape(sig), raw))
    # a v1 B-tree node's type byte: 0 for a group's names, 1 for a dataset's chunks
    starts = [s for s in starts if not in_data[s] and not (raw[s : s + 4] == b"TREE" and raw[s + 4] != 1)]
    ends = [*starts[1:], len(raw)]  # a node's bytes: to the next node, at most 4 KiB (a full v1 node: 3.6)
    offsets = np.concatenate([np.arange(s, min(e, s + 4096)) for s, e in zip(starts, ends, strict=True)])
    return offsets[~in_data[offsets]]


def run_child(code: str, path: Path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    try:
        done = subprocess.run(
            [sys.executable, "-c", code, str(path)], capture_output=True, timeout=20, env=env
        )
    except subprocess.TimeoutExpired:
        return "hang"
    return (
        "ok" if done.returncode == 0 else "exception" if done.returncode > 0 else f"signal {-done.returncode}"
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--index", choices=["btree", "latest"], default="btree")
    parser.add_argument("--runs", type=int, default=80)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    random.seed(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base.h5"
        write_base(base, args.index)
        raw, targets = base.read_bytes(), index_bytes(base)
        outcomes: Counter = Counter()
        for run in range(args.runs):
            damaged = bytearray(raw)
            for _ in range(random.choice([1, 2, 4, 8])):
                damaged[int(random.choice(targets))] = random.randrange(256)
            path = Path(tmp) / f"damaged{run}.h5"
            path.write_bytes(bytes(damaged))
            look = run_child(LOOK, path)
            whole = run_child(READ_ALL, path) if look == "ok" else "not read (refused at the look)"
            outcomes[f"look {look}; every cutout: {whole}"] += 1
            path.unlink()
    missed = sum(
        n for key, n in outcomes.items() if "signal" in key.split(";")[1] or "hang" in key.split(";")[1]
    )
    print(
        json.dumps(
            {"index": args.index, "runs": args.runs, "index_bytes": len(targets), **outcomes}, indent=1
        )
    )
    print(f"crashes or hangs the look missed: {missed}")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())

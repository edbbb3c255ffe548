"""How realistic are simulated cutouts? Compare a simulated HDF5 file with the real DES cutouts.

Prints a markdown table (background, noise, central brightness, size ... per group and class; AUCs of
classifiers telling real from simulated, 0.5 = indistinguishable) and writes a side-by-side figure.

    python benchmarks/bench_sim_realism.py SIM.h5 [--real PATH] [--figure docs/sim_vs_real.png]
        [--max-sim 2000] [--seed 0]

SIM.h5 holds a uint8 dataset ``images`` (N, 64, 64, 3) and optionally ``labels`` (1 = LSBG,
0 = artifact); when ``images`` is not uint8, ``rgb`` or else the first uint8 4-D dataset is used.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from galview.sim.realism import compare, load_real, side_by_side

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_REAL = ROOT.parent / "shared" / "data" / "des_lsbg" / "des_lsbg_dev.npz"


def find_images(handle) -> str:
    """Name of the cutout dataset: ``images`` or ``rgb`` if uint8 4-D, else the first uint8 4-D one."""
    import h5py

    def usable(name: str) -> bool:
        item = handle.get(name)
        return isinstance(item, h5py.Dataset) and item.dtype == np.uint8 and item.ndim == 4

    for name in ("images", "rgb"):
        if usable(name):
            return name
    found: list[str] = []
    handle.visit(lambda name: found.append(name) if usable(name) and not found else None)
    if not found:
        raise SystemExit("no uint8 4-D dataset in the simulated file")
    return found[0]


def read_sim(path: Path, max_sim: int, seed: int) -> tuple[np.ndarray, np.ndarray | None, str]:
    """Read (a random subsample of at most ``max_sim``) simulated cutouts and their labels."""
    import h5py

    with h5py.File(path, "r") as handle:
        name = find_images(handle)
        dataset = handle[name]
        total = len(dataset)
        index = np.arange(total)
        if max_sim and total > max_sim:
            index = np.sort(np.random.default_rng(seed).choice(total, max_sim, replace=False))
        images = dataset[index] if len(index) < total else dataset[()]
        labels = None
        if "labels" in handle and len(handle["labels"]) == total:
            labels = np.asarray(handle["labels"][()])[index].astype(int)
    return images, labels, name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sim", type=Path, help="simulated cutouts, HDF5")
    parser.add_argument("--real", type=Path, default=DEFAULT_REAL, help="real cutouts, .npz")
    parser.add_argument("--figure", type=Path, default=ROOT / "docs" / "sim_vs_real.png")
    parser.add_argument("--max-sim", type=int, default=2000, help="random subsample of the simulation")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    sim, sim_labels, name = read_sim(args.sim, args.max_sim, args.seed)
    real, real_labels = load_real(args.real)
    classes = "" if sim_labels is None else f", {int((sim_labels == 1).sum())} LSBG"
    print(f"real: {args.real} ({len(real)} cutouts); sim: {args.sim}:{name} ({len(sim)} cutouts{classes})\n")
    print(compare(real, sim, sim_labels=sim_labels, real_labels=real_labels, seed=args.seed))
    figure = side_by_side(real, sim, args.figure, real_labels=real_labels, sim_labels=sim_labels)
    print(f"figure: {figure}\ntook {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

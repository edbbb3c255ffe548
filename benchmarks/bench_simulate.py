"""Simulation speed: cutouts per second for DES-like and HSC-like surveys, serial and on every core.

    python benchmarks/bench_simulate.py [--n 20000] [--output bench_data/des_sim_20k.h5]

Writes the DES-like file (kept: other checks train on it) and prints the rates.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

from galview.sim.generate import write_simulation
from galview.sim.scene import simulate_cutout
from galview.sim.surveys import DES, HSC


def serial_rate(survey, count: int = 200) -> float:
    for seed in range(10):  # warm GalSim's caches
        simulate_cutout(survey, seed % 2, seed)
    started = time.perf_counter()
    for seed in range(count):
        simulate_cutout(survey, seed % 2, 1000 + seed)
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--output", type=Path, default=Path("bench_data/des_sim_20k.h5"))
    args = parser.parse_args()
    print(f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cores")
    for survey in (DES, HSC):
        print(f"{survey.name}: one process {serial_rate(survey):.0f} cutouts/s")
    started = time.perf_counter()
    write_simulation(args.output, DES, args.n, args.seed)
    elapsed = time.perf_counter() - started
    print(
        f"des: {args.n:,} cutouts written to {args.output} in {elapsed:.1f} s on {os.cpu_count()} processes "
        f"= {args.n / elapsed:.0f} cutouts/s (start-up of the worker processes included)"
    )


if __name__ == "__main__":
    main()

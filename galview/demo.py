"""The demo collection: simulated DES-like cutouts, generated on first use and cached."""

from __future__ import annotations

from pathlib import Path

from galview.core.paths import data_dir
from galview.sim import SIMULATOR_VERSION

DEMO_SIZE = 600
DEMO_SEED = 2021
#: Named after the simulator's version: a GalView whose simulator changed makes the demo again.
DEMO_NAME = f"demo_des_sim{SIMULATOR_VERSION}_{DEMO_SIZE}.h5"


def demo_path() -> Path:
    return data_dir() / DEMO_NAME


def ensure_demo_collection(progress=print) -> Path:
    """Path of the demo collection, simulating it (a few seconds) if it is not cached yet."""
    path = demo_path()
    if path.exists():
        return path
    from galview.core.progress import progress_printer
    from galview.sim.generate import write_simulation
    from galview.sim.surveys import DES

    progress(f"Generating the demo collection ({DEMO_SIZE} simulated DES-like cutouts) in {path} …")
    with progress_printer("simulate des") as on_progress:
        return write_simulation(path, DES, DEMO_SIZE, DEMO_SEED, on_progress=on_progress)

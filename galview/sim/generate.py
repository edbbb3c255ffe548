"""Simulate whole collections, in parallel and deterministically, and write them to HDF5."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import numpy as np

from galview.core.errors import UserFacingError
from galview.core.jobs import CancelToken, Progress
from galview.core.spawning import results_in_order
from galview.sim import SIMULATOR_VERSION
from galview.sim.scene import simulate_cutout
from galview.sim.surveys import CUTOUT_ARCSEC, SURVEYS, Survey

TRUTH_FLOATS = (
    "mu0_g",
    "mu_eff_g",
    "r_eff",
    "sersic_n",
    "axis_ratio",
    "angle",
    "ellipticity",
    "g_i",
    "mag_g",
    "clumps",
    "psf_fwhm",
    "noise_factor",
    "jpeg_quality",
)
SURROUNDINGS = ("near_star", "near_galaxy", "crowded", "faint_cirrus")
"""Flags of :func:`galview.sim.sources.add_surroundings`, drawn independently of the label."""
CHUNK = 64


def plan(n: int, seed: int, lsbg_fraction: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Labels (``n * lsbg_fraction`` LSBGs, halves rounded up, shuffled) and one seed per cutout.

    Cutout ``i``'s seed depends only on (seed, i), so results do not depend on how the
    work is split between processes.
    """
    rng = np.random.default_rng(seed)
    labels = np.zeros(n, dtype=np.int8)
    labels[: int(np.floor(n * lsbg_fraction + 0.5))] = 1
    rng.shuffle(labels)
    seeds = np.array(
        [np.random.SeedSequence([seed, i]).generate_state(1)[0] for i in range(n)], dtype=np.uint32
    )
    return labels, seeds


def _simulate_chunk(job) -> tuple[np.ndarray, np.ndarray, list[dict]]:
    survey_name, labels, seeds, jpeg = job
    survey = SURVEYS[survey_name]
    rgbs, fluxes, truths = [], [], []
    for label, seed in zip(labels, seeds, strict=True):
        rgb, flux, truth = simulate_cutout(survey, int(label), int(seed), jpeg)
        rgbs.append(rgb)
        fluxes.append(flux)
        truths.append(truth)
    return np.stack(rgbs), np.stack(fluxes), truths


def simulate_chunks(
    survey: Survey,
    labels,
    seeds,
    jpeg: bool = True,
    workers: int | None = None,
    cancel=None,
    niceness: int = 0,
) -> Iterator:
    """Yield ``(rgb, flux, truths)`` for consecutive chunks of cutouts, in order.

    ``workers`` processes share the work (default: every core), ``niceness`` below this process's
    priority; 1 runs in this process. With processes, ``cancel`` is heard while they work
    (:func:`~galview.core.spawning.results_in_order`), and a process that ends before its chunk (killed,
    out of memory) raises ``BrokenProcessPool``.
    """
    jobs = [
        (survey.name, labels[start : start + CHUNK], seeds[start : start + CHUNK], jpeg)
        for start in range(0, len(labels), CHUNK)
    ]
    workers = workers or os.cpu_count() or 1
    if workers == 1 or len(jobs) == 1:
        yield from map(_simulate_chunk, jobs)
        return
    tasks = ((job,) for job in jobs)
    results = results_in_order(_simulate_chunk, tasks, workers, niceness=niceness, cancel=cancel)
    try:
        yield from results
    finally:
        results.close()  # stopped early (Cancel): the processes are let go at once


def truth_columns(truths: list[dict], labels, seeds, survey: Survey) -> dict[str, np.ndarray]:
    """The truth table as columns: label, kind, survey, the drawn parameters (NaN when not drawn), seed."""
    columns = {
        "label": np.asarray(labels, dtype=np.int8),
        "kind": np.array([t["kind"] for t in truths], dtype="S16"),
        "survey": np.array([survey.name] * len(truths), dtype="S8"),
        "nucleated": np.array([bool(t.get("nucleated", False)) for t in truths]),
        "resample": np.array([t.get("resample", "bicubic") for t in truths], dtype="S8"),
        "seed": np.asarray(seeds, dtype=np.uint32),
        "attempts": np.array([int(t.get("attempts", 1)) for t in truths], dtype=np.uint8),
    }
    for name in SURROUNDINGS:
        columns[name] = np.array([bool(t.get(name, False)) for t in truths])
    for name in TRUTH_FLOATS:
        columns[name] = np.array([t.get(name, np.nan) for t in truths], dtype=np.float32)
    return columns


def write_simulation(
    path: str | Path,
    survey: Survey,
    n: int,
    seed: int,
    *,
    lsbg_fraction: float = 0.5,
    jpeg: bool = True,
    workers: int | None = None,
    niceness: int = 0,
    on_progress=None,
    cancel: CancelToken | None = None,
) -> Path:
    """Simulate ``n`` cutouts and write an HDF5 collection GalView opens directly.

    Datasets: ``images`` (N, 64, 64, 3) uint8 viewer colours (what the models see),
    ``flux`` (N, 64, 64, 3) float32 nanomaggies in ``survey.bands``, ``labels``, ``ids``,
    and the group ``truth`` with one dataset per column. Written under a temporary
    name of its own (two GalViews making the demo at once each write their own) and
    renamed when complete.

    ``workers`` processes draw the cutouts (default: every core; 1: this process), ``niceness`` below
    this process's priority. ``on_progress`` receives a :class:`~galview.core.jobs.Progress` in cutouts
    after every chunk; a cancelled ``cancel`` token stops the work (with processes, within
    :data:`~galview.core.spawning.POLL_S`), removes the partial file and raises
    :class:`~galview.core.jobs.Cancelled`. A process that ends before its chunk (killed, out of memory)
    raises :class:`~galview.core.errors.UserFacingError` naming ``path``; nothing is written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    cancel = cancel or CancelToken()
    labels, seeds = plan(n, seed, lsbg_fraction)
    partial = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.partial")
    try:
        _write(partial, survey, n, seed, labels, seeds, jpeg, workers, niceness, on_progress, cancel, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(path)
    return path


def _write(
    partial: Path, survey, n, seed, labels, seeds, jpeg, workers, niceness, on_progress, cancel, path: Path
) -> None:
    """Write the simulation to ``partial``; errors name ``path``, the file the user asked for."""
    import h5py

    truths: list[dict] = []
    with h5py.File(partial, "w") as handle:
        images = handle.create_dataset(
            "images", (n, 64, 64, 3), dtype=np.uint8, chunks=(min(n, 16), 64, 64, 3)
        )
        images.attrs["layout"] = "NHWC"
        images.attrs["bands"] = "R,G,B"
        flux = handle.create_dataset("flux", (n, 64, 64, 3), dtype=np.float32, chunks=(min(n, 16), 64, 64, 3))
        flux.attrs["layout"] = "NHWC"
        flux.attrs["bands"] = ",".join(survey.bands)
        flux.attrs["unit"] = "nanomaggies per pixel"
        flux.attrs["pixel_scale"] = CUTOUT_ARCSEC / 64  # arcsec per pixel of the 64 × 64 stamps
        start = 0
        try:
            for rgb, flux_chunk, chunk_truths in simulate_chunks(
                survey, labels, seeds, jpeg, workers, cancel, niceness
            ):
                images[start : start + len(rgb)] = rgb
                flux[start : start + len(rgb)] = flux_chunk
                truths.extend(chunk_truths)
                start += len(rgb)
                if on_progress is not None:
                    on_progress(Progress(start, n, "simulating", unit="cutouts"))
                cancel.raise_if_cancelled()
        except BrokenProcessPool:
            raise UserFacingError(
                path,
                f"a simulating process ended before its cutouts were drawn (killed, or out of memory?) after "
                f"{start} of {n}; nothing was written — try again with fewer processes",
            ) from None
        handle.create_dataset("labels", data=labels)
        handle["labels"].attrs["class_names"] = "artifact,LSBG"  # label 0 and 1, for every reader
        handle.create_dataset(
            "ids", data=np.array([f"{survey.name}-sim-{seed}-{i:07d}" for i in range(n)], dtype="S")
        )
        group = handle.create_group("truth")
        for name, values in truth_columns(truths, labels, seeds, survey).items():
            group.create_dataset(name, data=values)
        handle.attrs.update(
            {
                "survey": survey.name,
                "seed": seed,
                "simulator": "galview.sim",
                "simulator_version": SIMULATOR_VERSION,
                "jpeg": jpeg,
                "pixel_scale_native": survey.pixel_scale,
                "psf_fwhm": survey.psf_fwhm,
            }
        )

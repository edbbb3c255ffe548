"""Photometry of collections: calibration from the file or refused naming what is missing; a fresh
simulation's fluxes say their unit and pixel scale."""

from __future__ import annotations

import numpy as np
import pytest

from galview.core.errors import UserFacingError
from galview.io import open_collection
from galview.io.measuring import calibration, fluxes_of, measure_cutout, measure_cutouts, residual_of


def test_the_real_dwarfs_need_the_zero_point_their_fits_do_not_state(shared_data):
    with open_collection(shared_data / "legacy_dwarfs") as dwarfs:
        with pytest.raises(
            UserFacingError, match=r"legacy_dwarfs: states no flux unit \(BUNIT\): give .*--zeropoint"
        ):
            calibration(dwarfs)
        found = calibration(dwarfs, zeropoint=22.5)
        assert (found.band, found.band_name, found.pixel_scale) == (0, "g", None)  # each cutout's WCS
        assert dwarfs.pixel_scale(0) == pytest.approx(0.2)  # DR8 cutouts at 0.2″ per pixel
        assert calibration(dwarfs, "Z", 22.5).band == 2
        with pytest.raises(UserFacingError, match="has no band 'i'; its bands are g, r, z"):
            calibration(dwarfs, "i", 22.5)
        results = measure_cutouts(dwarfs, [0, 5], found)
    assert [index for index, _fit in results] == [0, 5]
    for _index, fit in results:
        assert 16 < fit.mag < 23 and 23 < fit.mean_mu_eff < 27 and 1.5 < fit.r_eff < 20  # faint dwarfs
        g, r, z = fit.magnitudes  # every band through the g fit's shape
        assert (g.band, r.band, z.band) == ("g", "r", "z") and g.mag == pytest.approx(fit.mag, abs=0.02)
        assert 0.2 < g.mag - r.mag < 1.0 and g.mag_err < 0.2  # dwarfs' colours, not noise


def test_the_residual_is_the_cutout_less_the_fit(shared_data):
    with open_collection(shared_data / "legacy_dwarfs") as dwarfs:
        found = calibration(dwarfs, zeropoint=22.5)
        cube = dwarfs.get(3)
        fit = measure_cutout(cube, dwarfs.pixel_scale(3), found)
        residual = residual_of(dwarfs, 3, fit, found.band)  # float fluxes: measured as they are
    assert residual.shape == cube.shape[:2] and residual.dtype == np.float32
    np.testing.assert_allclose(residual, cube[..., 0] - fit.model_image(cube.shape[:2]), rtol=1e-5, atol=1e-6)
    y, x = np.indices(residual.shape)
    near = np.hypot(x - fit.x, y - fit.y) < fit.r_eff / fit.pixel_scale
    assert (
        abs(np.median(residual[near])) < abs(np.median(cube[..., 0][near] - fit.sky)) / 3
    )  # the dwarf is gone


def test_a_band_that_cannot_be_measured_leaves_the_fit_standing(shared_data):
    with open_collection(shared_data / "legacy_dwarfs") as dwarfs:
        found = calibration(dwarfs, zeropoint=22.5)
        cube = dwarfs.get(0).astype(np.float32).copy()
        scale = dwarfs.pixel_scale(0)
    cube[..., 2] = np.nan  # a z band of NaN
    fit = measure_cutout(cube, scale, found)
    assert fit.reliable and np.isnan(fit.magnitudes[2].mag) and np.isfinite(fit.magnitudes[1].mag)
    assert "g−z" not in fit.describe("g") and "g−r" in fit.describe("g")


def test_display_colours_and_a_missing_pixel_scale_are_refused(shared_data, tmp_path):
    with open_collection(shared_data / "des_lsbg" / "des_lsbg_dev.npz") as des:
        with pytest.raises(UserFacingError, match="holds uint8 pixels"):
            calibration(des, zeropoint=22.5)
    path = tmp_path / "flux.npz"
    np.savez(path, images=np.random.default_rng(0).normal(0, 1, (3, 32, 32, 1)).astype(np.float32))
    with open_collection(path) as plain:
        with pytest.raises(UserFacingError, match="gives no pixel scale .*--pixel-scale"):
            calibration(plain, zeropoint=27)
        found = calibration(plain, zeropoint=27, pixel_scale=0.168)
        results = measure_cutouts(plain, [1], found)  # pure noise: fitted, flagged faint, or said why not
        assert results[0][0] == 1


def test_a_simulations_fluxes_say_their_unit_and_pixel_scale(tmp_path, shared_data):
    from galview.sim.generate import write_simulation
    from galview.sim.surveys import SURVEYS

    path = write_simulation(tmp_path / "sim.h5", SURVEYS["des"], 4, seed=3, workers=1)
    with open_collection(path, dataset="flux") as sim:
        sim_flux = sim.get(2)
        assert sim.flux_unit() == "nanomaggies per pixel" and sim.pixel_scale(0) == pytest.approx(30 / 64)
        found = calibration(sim)
        assert (found.band_name, found.zeropoint, found.pixel_scale) == ("g", 22.5, None)
        results = measure_cutouts(sim, range(4), found)
    assert not [fit for _i, fit in results if isinstance(fit, str)]  # valid fluxes: every one fitted
    import h5py

    with h5py.File(path) as handle:
        truth = {key: handle["truth"][key][:] for key in ("label", "mag_g", "r_eff")}
    for index, fit in results:
        if truth["label"][index] == 1:  # an LSBG: its simulated magnitude and size, roughly
            assert fit.mag == pytest.approx(truth["mag_g"][index], abs=0.75)
            assert fit.r_eff == pytest.approx(truth["r_eff"][index], rel=0.5)
    assert (truth["label"] == 1).any()
    with open_collection(path) as colours:  # the uint8 images beside them say nothing of the kind
        assert colours.flux_unit() is None and colours.pixel_scale(0) is None
        with fluxes_of(colours) as fluxes:  # but the fluxes are measured in their place
            assert (
                fluxes is not colours and fluxes.dtype == np.float32 and calibration(fluxes).zeropoint == 22.5
            )
            np.testing.assert_array_equal(fluxes.get(2), sim_flux)
        assert fluxes._file is None  # closed on leaving
    with open_collection(shared_data / "des_lsbg" / "des_lsbg_dev.npz") as des, fluxes_of(des) as same:
        assert same is des  # no fluxes beside these colours: refused as they are


def test_several_processes_give_the_same_fits_in_the_same_order(tmp_path, monkeypatch):
    """Fitted in two spawned processes, chunks of 2 (8 cutouts, four tasks, at most four in flight): the same
    results as one process, a damaged cutout said in its row, progress in cutouts."""
    import galview.io.measuring as measuring
    from galview.core.collection import ArrayCollection

    rng = np.random.default_rng(4)
    y, x = np.indices((32, 32))
    blob = 0.05 * np.exp(-np.hypot(x - 15.7, y - 16.2) / 3.0)
    cubes = np.stack([blob[..., None] * [1.0, 1.3] + rng.normal(0, 0.004, (32, 32, 2)) for _ in range(8)])
    cubes[5] = np.nan  # unreadable as a measurement: said in its row, the rest go on
    survey = ArrayCollection("survey", cubes.astype(np.float32), "NHWC")
    found = measuring.Calibration(0, "g", 22.5, 0.263, ("g", "r"))
    monkeypatch.setattr(measuring, "CHUNK", 2)
    one = measure_cutouts(survey, range(8), found)

    def not_here(*_args):
        raise AssertionError("fitted in this process")

    monkeypatch.setattr(measuring, "measure_cutout", not_here)  # the spawned processes import their own
    progress = []
    two = measure_cutouts(survey, range(8), found, workers=2, on_progress=progress.append)
    assert [i for i, _fit in two] == list(range(8)) and two == one
    assert isinstance(two[5][1], str) and "NaN" in two[5][1]
    assert [p.done for p in progress] == [2, 4, 6, 8] and progress[-1].total == 8
    monkeypatch.setattr(measuring, "CHUNK", 1)  # eight tasks: at most four read ahead of the fits
    reads, read_when_done = [], []
    get = survey.get
    monkeypatch.setattr(survey, "get", lambda index: reads.append(index) or get(index))
    measure_cutouts(
        survey, range(8), found, workers=2, on_progress=lambda _p: read_when_done.append(len(reads))
    )
    assert read_when_done[0] == 4 and read_when_done[-1] == 8


def test_the_windows_job_fits_in_processes_only_where_spawning_is_safe(tmp_path, monkeypatch):
    """A window opened by a script without a main guard would open again in every fitting process: there
    the job fits in its own thread; elsewhere on every core, below the window's priority."""
    import os

    import galview.io.measuring as measuring
    from galview.io import open_collection
    from galview.sim.generate import write_simulation
    from galview.sim.surveys import SURVEYS

    path = write_simulation(tmp_path / "sim.h5", SURVEYS["des"], 2, seed=3, workers=1)
    asked = []
    monkeypatch.setattr(measuring, "measure_cutouts", lambda *a, **options: asked.append(options) or [])
    with open_collection(path) as sim:
        monkeypatch.setattr(measuring, "spawn_is_safe", lambda: False)
        measuring.measure_job(sim, [0, 1])
        monkeypatch.setattr(measuring, "spawn_is_safe", lambda: True)
        measuring.measure_job(sim, [0, 1])
        measuring.measure_job(sim, [0, 1], workers=3)
    assert [options["workers"] for options in asked] == [1, os.cpu_count() or 1, 3]
    assert {options["niceness"] for options in asked} == {10}  # below the window


def test_fitting_processes_start_at_the_priority_asked():
    import multiprocessing
    import os

    from galview.core.spawning import _start_worker

    with multiprocessing.get_context("spawn").Pool(1, _start_worker, (5,)) as pool:
        assert pool.apply(os.nice, (0,)) == min(os.nice(0) + 5, 19)


def _blobs(n: int):
    from galview.core.collection import ArrayCollection

    rng = np.random.default_rng(4)
    y, x = np.indices((32, 32))
    blob = 0.05 * np.exp(-np.hypot(x - 15.7, y - 16.2) / 3.0)
    cubes = np.stack([blob[..., None] * [1.0, 1.3] + rng.normal(0, 0.004, (32, 32, 2)) for _ in range(n)])
    return ArrayCollection("survey.h5", cubes.astype(np.float32), "NHWC")


def test_a_fitting_process_killed_is_said_not_waited_for(monkeypatch):
    """A worker killed (the out-of-memory killer, say) lost its task: the run ends with a message naming the
    file instead of waiting for ever (it did, before)."""
    import multiprocessing
    import os
    import signal

    import galview.io.measuring as measuring
    from galview.core.errors import UserFacingError

    survey = _blobs(40)  # 20 tasks: the rest outlast the notice of the loss
    found = measuring.Calibration(0, "g", 22.5, 0.263, ("g", "r"))
    monkeypatch.setattr(measuring, "CHUNK", 2)

    def kill_a_worker(progress):
        if progress.done == 2:
            os.kill(multiprocessing.active_children()[0].pid, signal.SIGKILL)

    with pytest.raises(
        UserFacingError,
        match=r"^survey.h5: a fitting process ended before .* after \d+ of 40; nothing",
    ):
        measure_cutouts(survey, range(40), found, workers=2, on_progress=kill_a_worker)


def test_cancel_is_heard_while_the_fitting_processes_work(monkeypatch):
    """Two tasks of 200 cutouts take seconds each: Cancel half a second in ends the run within a poll,
    before any task is done (the processes drop what is not started and end by themselves)."""
    import threading
    import time

    import galview.core.spawning as spawning
    import galview.io.measuring as measuring
    from galview.core.jobs import Cancelled, CancelToken

    survey = _blobs(400)
    found = measuring.Calibration(0, "g", 22.5, 0.263, ("g", "r"))
    monkeypatch.setattr(measuring, "CHUNK", 200)
    cancel, progress = CancelToken(), []
    timer = threading.Timer(0.5, cancel.cancel)
    started = time.perf_counter()
    timer.start()
    with pytest.raises(Cancelled):
        measure_cutouts(survey, range(400), found, workers=2, on_progress=progress.append, cancel=cancel)
    assert time.perf_counter() - started < 0.5 + 2 * spawning.POLL_S + 0.5
    assert progress == []  # heard while the tasks ran, not after one of them was done

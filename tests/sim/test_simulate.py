"""The simulator: physics of the drawing, determinism, balance, truth, and the files it writes."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from galview.io import open_collection
from galview.sim import SIMULATOR_VERSION
from galview.sim.canvas import Canvas, psf_kernel
from galview.sim.generate import plan, simulate_chunks, write_simulation
from galview.sim.scene import ARTIFACT_KINDS, draw_cutout, simulate_cutout
from galview.sim.selection import MAX_ATTEMPTS, MU_EFF_CUT, attempt_seed, measure_candidate, passes_selection
from galview.sim.sources import sersic, total_mag_for_central_sb
from galview.sim.surveys import DES, HSC, mag_to_flux


def test_profile_flux_is_conserved_through_psf():
    canvas = Canvas(DES, np.random.default_rng(0))
    profile = sersic(1.0, 3.0, 0.7, 0.3)
    canvas.add_profile(profile, np.array([20.0, 19.5, 19.0]))
    canvas.add_point(np.array([21.0, 21.0, 21.0]), 5.0, -4.0)
    canvas.finish()
    expected = mag_to_flux([20.0, 19.5, 19.0]) + mag_to_flux(21.0)
    np.testing.assert_allclose(canvas.planes.sum(axis=(1, 2)), expected, rtol=0.02)


def test_central_surface_brightness_is_as_asked():
    profile = sersic(0.8, 5.0, 0.6, 1.0)
    mag = total_mag_for_central_sb(profile, 25.0)
    canvas = Canvas(DES, np.random.default_rng(0))
    canvas.add_profile(profile, np.full(3, mag))
    centre = canvas._extended[0, DES.native_pixels // 2, DES.native_pixels // 2]
    mu_centre = 22.5 - 2.5 * np.log10(centre / DES.pixel_scale**2)
    assert mu_centre == pytest.approx(25.0, abs=0.05)


def test_psf_kernel_has_survey_fwhm():
    kernel = psf_kernel(DES.psf_fwhm, DES.pixel_scale)
    assert kernel.sum() == pytest.approx(1.0)
    profile = kernel[kernel.shape[0] // 2]
    above = np.flatnonzero(profile >= profile.max() / 2)
    width_arcsec = (above[-1] - above[0] + 1) * DES.pixel_scale
    assert 0.6 < width_arcsec < 1.5  # 1.0″ sampled on 0.263″ pixels


def test_noise_level_follows_depth():
    canvas = Canvas(DES, np.random.default_rng(1))
    canvas.add_noise()
    np.testing.assert_allclose(canvas.planes.std(axis=(1, 2)), DES.pixel_noise(), rtol=0.05)
    assert (HSC.pixel_noise() / HSC.pixel_scale**2 < DES.pixel_noise() / DES.pixel_scale**2).all()


@pytest.mark.parametrize("survey", [DES, HSC])
def test_cutout_shapes_and_determinism(survey):
    rgb, flux, truth = simulate_cutout(survey, 1, seed=42)
    again, flux_again, _ = simulate_cutout(survey, 1, seed=42)
    other, _, _ = simulate_cutout(survey, 1, seed=43)
    assert rgb.shape == (64, 64, 3) and rgb.dtype == np.uint8
    assert flux.shape == (64, 64, 3) and flux.dtype == np.float32
    np.testing.assert_array_equal(rgb, again)
    np.testing.assert_array_equal(flux, flux_again)
    assert not np.array_equal(rgb, other)
    assert truth["kind"] == "lsbg"


def test_lsbg_truth_follows_the_des_selection():
    for seed in range(40):
        _, _, truth = simulate_cutout(DES, 1, seed)
        assert truth["mu_eff_g"] >= 24.2 and 2.5 <= truth["r_eff"] <= 20.0
        assert 0.5 <= truth["sersic_n"] <= 1.5 and 0.2 <= truth["g_i"] <= 1.2
        assert truth["mu0_g"] < truth["mu_eff_g"]  # the centre is brighter than the mean within r_eff


def test_artifacts_cover_every_kind():
    kinds = {draw_cutout(DES, 0, seed)[2]["kind"] for seed in range(60)}
    assert kinds == set(ARTIFACT_KINDS)


def test_drawn_lsbgs_are_fainter_at_the_centre_than_drawn_compact_artifacts():
    lsbg = [draw_cutout(DES, 1, s)[1] for s in range(20)]
    artifacts = [draw_cutout(DES, 0, s) for s in range(80)]
    compact = [flux for _, flux, truth in artifacts if truth["kind"] == "compact"]
    centre = np.s_[30:34, 30:34, 1]
    # compact artifacts are drawn just above the LSB cut (issue 14 made them fainter): still twice as bright
    assert np.median([f[centre].mean() for f in compact]) > 2 * np.median([f[centre].mean() for f in lsbg])


def test_every_candidate_passes_the_selection_whatever_its_class():
    """Simulator v7: LSBGs and artifacts alike pass the measured cut ⟨μ⟩_eff(g) > 24.2, as a real candidate
    sample does; without it many drawn artifacts are brighter than any real candidate."""
    drawn = [measure_candidate(draw_cutout(DES, 0, s)[1][..., 0])[1] for s in range(40)]
    assert np.mean(np.array(drawn) <= MU_EFF_CUT) > 0.25  # what the selection has to remove
    for label in (0, 1):
        for seed in range(20):
            _, flux, truth = simulate_cutout(DES, label, seed)
            assert passes_selection(flux) and 1 <= truth["attempts"] <= MAX_ATTEMPTS


def test_selection_keeps_the_first_draw_that_passes():
    for seed in range(12):
        _, flux, truth = simulate_cutout(DES, 0, seed)
        firsts = [draw_cutout(DES, 0, attempt_seed(seed, a))[1] for a in range(truth["attempts"])]
        assert [passes_selection(f) for f in firsts] == [False] * (truth["attempts"] - 1) + [True]
        np.testing.assert_array_equal(firsts[-1], flux)


@pytest.mark.parametrize("r_eff, mu_eff", [(4.0, 24.6), (3.0, 24.2), (3.0, 25.5), (6.0, 24.0)])
def test_measured_candidate_of_an_isolated_exponential(r_eff, mu_eff):
    """The pipeline-like measurement on a noiseless exponential disc of known size and brightness. It is
    isophotal: the light below the isophote is lost, so r_50 comes out smaller (by up to ~30%) and
    ⟨μ⟩_eff brighter (by up to ~0.3 mag) than the truth, more so for fainter discs."""
    n = 64
    pixel = 30.0 / n
    yy, xx = (np.mgrid[:n, :n] - (n - 1) / 2) * pixel
    profile = np.exp(-np.hypot(xx, yy) * 1.678 / r_eff)  # an exponential of half-light radius r_eff
    total = 10 ** (-0.4 * (mu_eff - 22.5)) * 2 * np.pi * r_eff**2  # ⟨μ⟩_eff → total flux
    r_50, measured = measure_candidate(profile / profile.sum() * total)
    assert 0.6 * r_eff < r_50 <= r_eff
    assert -0.4 < measured - mu_eff <= 0.0
    assert measure_candidate(np.zeros((n, n))) == (0.0, np.inf)


def _centre_colour(flux: np.ndarray) -> float:
    """g − z of the central 6×6 output pixels, in magnitudes (NaN where a band is not positive)."""
    centre = flux[29:35, 29:35]
    g, z = centre[..., 0].sum(), centre[..., 2].sum()
    return float(-2.5 * np.log10(g / z)) if g > 0 and z > 0 else np.nan


def test_colour_at_the_centre_is_no_label_cue():
    """Simulator v6: artifacts made of their own light are drawn in the LSBGs' colours (in v5 they were
    about 0.4 mag redder at the centre, a cue the real sky does not give)."""
    lsbg = [_centre_colour(simulate_cutout(DES, 1, s)[1]) for s in range(40)]
    own_light = {"compact", "faint_blend", "ghost", "cirrus", "sf_knots"}
    artifacts = [simulate_cutout(DES, 0, s) for s in range(100)]
    colours = [_centre_colour(flux) for _, flux, truth in artifacts if truth["kind"] in own_light]
    assert len(colours) > 50
    assert abs(np.nanmedian(colours) - np.nanmedian(lsbg)) < 0.15


@pytest.mark.parametrize(
    "n, fraction, n_lsbg",
    [(0, 0.5, 0), (1, 0.5, 1), (3, 0.5, 2), (101, 0.5, 51), (5, 0.1, 1), (7, 0.3, 2), (10, 0.2, 2)]
    + [(1000, 0.05, 50), (100, 1.0, 100), (100, 0.0, 0)],
)
def test_plan_is_balanced(n, fraction, n_lsbg):
    """``n * fraction`` LSBGs, halves rounded up; one distinct seed per cutout; the same plan twice."""
    labels, seeds = plan(n, seed=5, lsbg_fraction=fraction)
    assert labels.shape == seeds.shape == (n,) and seeds.dtype == np.uint32
    assert set(labels.tolist()) <= {0, 1} and int(labels.sum()) == n_lsbg
    assert len(np.unique(seeds)) == n
    again = plan(n, seed=5, lsbg_fraction=fraction)
    np.testing.assert_array_equal(labels, again[0])
    np.testing.assert_array_equal(seeds, again[1])


def test_plan_shuffles_the_labels_by_seed():
    labels = plan(101, seed=5)[0]
    assert labels[:50].sum() not in (0, 50) and labels[50:].sum() not in (0, 51)  # not sorted
    assert not np.array_equal(labels, plan(101, seed=6)[0])


def test_cutout_i_depends_on_its_seed_and_label_only_not_on_n_or_chunking(monkeypatch):
    """What lets simulations be split between processes: seed i is a function of (seed, i) alone (so
    plans of any size agree on it), and a cutout of (label, seed) alone, whatever the chunk it is in."""
    from galview.sim import generate

    seeds_long = plan(300, seed=5)[1]
    for n, fraction in ((1, 0.5), (40, 0.5), (299, 0.2)):
        np.testing.assert_array_equal(plan(n, seed=5, lsbg_fraction=fraction)[1], seeds_long[:n])
    assert not np.array_equal(plan(40, seed=6)[1], seeds_long[:40])
    labels, seeds = plan(11, seed=5)
    alone = [simulate_cutout(DES, int(label), int(s)) for label, s in zip(labels, seeds, strict=True)]
    for chunk, sizes in ((1, [1] * 11), (4, [4, 4, 3]), (64, [11])):
        monkeypatch.setattr(generate, "CHUNK", chunk)
        chunks = list(simulate_chunks(DES, labels, seeds, workers=1))
        assert [len(rgb) for rgb, _, _ in chunks] == sizes
        rgb = np.concatenate([c[0] for c in chunks])
        flux = np.concatenate([c[1] for c in chunks])
        truths = [t for c in chunks for t in c[2]]
        for i, (rgb_i, flux_i, truth_i) in enumerate(alone):
            np.testing.assert_array_equal(rgb[i], rgb_i, err_msg=f"cutout {i}, chunks of {chunk}")
            np.testing.assert_array_equal(flux[i], flux_i, err_msg=f"cutout {i}, chunks of {chunk}")
            assert truths[i] == truth_i


def test_written_file_opens_as_collection_with_truth(tmp_path):
    path = write_simulation(tmp_path / "sim.h5", DES, 40, seed=3, workers=1)
    collection = open_collection(path)
    assert len(collection) == 40 and collection.shape == (64, 64, 3) and collection.dtype == np.uint8
    assert collection.labels.sum() == 20
    assert collection.id_of(0) == "des-sim-3-0000000"
    flux = open_collection(path, dataset="flux")
    assert flux.bands == ("g", "r", "z") and flux.dtype == np.float32
    with h5py.File(path) as handle:
        truth = {name: handle["truth"][name][()] for name in handle["truth"]}
        np.testing.assert_array_equal(truth["label"], collection.labels)
        is_lsbg = truth["kind"] == b"lsbg"
        np.testing.assert_array_equal(is_lsbg, truth["label"] == 1)
        assert np.isfinite(truth["mu0_g"][is_lsbg]).all()
        assert set(truth["kind"][~is_lsbg]) <= {k.encode() for k in ARTIFACT_KINDS}
        assert handle.attrs["survey"] == "des" and handle.attrs["simulator_version"] == SIMULATOR_VERSION
        first = handle["images"][0]
    rgb, flux0, _ = simulate_cutout(DES, int(collection.labels[0]), int(truth["seed"][0]))
    np.testing.assert_array_equal(first, rgb)  # cutout i is reproducible from its recorded seed


def test_parallel_and_serial_runs_give_identical_files(tmp_path):
    serial = write_simulation(tmp_path / "a.h5", HSC, 130, seed=9, workers=1)
    parallel = write_simulation(tmp_path / "b.h5", HSC, 130, seed=9, workers=2)
    with h5py.File(serial) as a, h5py.File(parallel) as b:
        np.testing.assert_array_equal(a["images"][()], b["images"][()])
        np.testing.assert_array_equal(a["truth/kind"][()], b["truth/kind"][()])
    assert open_collection(serial, dataset="flux").bands == ("g", "r", "i")


def test_two_writers_of_the_same_file_at_once_both_finish(tmp_path, monkeypatch):
    """Two GalViews making the demo at once: the second finishes while the first is writing, and the
    first must neither lose its temporary file to the second nor fail renaming it."""
    import galview.sim.generate as generate

    target = tmp_path / "demo.h5"
    write = generate._write
    calls = []

    def write_while_another_writes(partial, *args):
        calls.append(partial)
        write(partial, *args)
        if len(calls) == 1:  # the first writer has written; the other one runs to the end now
            generate.write_simulation(target, DES, 12, seed=4, workers=1)

    monkeypatch.setattr(generate, "_write", write_while_another_writes)
    assert write_simulation(target, DES, 12, seed=4, workers=1) == target
    assert len(calls) == 2 and calls[0] != calls[1]
    assert len(open_collection(target)) == 12
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.h5"]  # no temporary file left behind


def test_a_simulating_process_killed_is_said_and_nothing_is_left(tmp_path):
    """Before, a killed process left ``galview simulate`` waiting for its chunk for ever."""
    import multiprocessing
    import os
    import signal

    from galview.core.errors import UserFacingError

    def kill_a_worker(progress):
        if progress.done == 64:
            os.kill(multiprocessing.active_children()[0].pid, signal.SIGKILL)

    with pytest.raises(
        UserFacingError, match=r"sim.h5: a simulating process ended before .* after \d+ of 512;"
    ):
        write_simulation(tmp_path / "sim.h5", DES, 512, seed=2, workers=2, on_progress=kill_a_worker)
    assert list(tmp_path.iterdir()) == []  # nothing written, not even the partial file


def test_cancel_is_heard_while_the_simulating_processes_work(tmp_path):
    import threading
    import time

    import galview.core.spawning as spawning
    from galview.core.jobs import Cancelled, CancelToken

    cancel, progress = CancelToken(), []
    threading.Timer(0.3, cancel.cancel).start()
    started = time.perf_counter()
    with pytest.raises(Cancelled):  # 2,000 cutouts: about 10 s of work on two processes
        write_simulation(
            tmp_path / "sim.h5", DES, 2000, seed=2, workers=2, on_progress=progress.append, cancel=cancel
        )
    assert time.perf_counter() - started < 0.3 + 2 * spawning.POLL_S + 0.5
    assert progress == [] and list(tmp_path.iterdir()) == []

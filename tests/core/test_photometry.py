"""Sérsic photometry: a known profile in noise comes back; what cannot be fitted is refused."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from galview.core.photometry import FitErrors, fit_sersic, sersic_b, sersic_image, sersic_total, with_error

SCALE = 0.263  # DES


def noisy(shape, intensity_eff, r_eff, n, q, angle, seed=0, sky=0.01, noise=0.005, centre=(63.7, 64.2)):
    rng = np.random.default_rng(seed)
    model = sersic_image(shape, intensity_eff, r_eff, n, q, angle, *centre)
    return model + sky + rng.normal(0, noise, shape)


def test_b_n_encloses_half_the_light():
    assert sersic_b(1.0) == pytest.approx(1.678, abs=1e-3)  # the exponential disc's
    assert sersic_b(4.0) == pytest.approx(7.669, abs=1e-3)  # de Vaucouleurs'


def test_an_exponential_lsbg_with_a_star_beside_it_is_measured():
    """S/N ≈ 35 within r_eff: the tolerances are the fit's scatter over noise draws (seeds 0–3)."""
    alone = noisy((128, 128), 0.005, 12.0, 1.0, 0.7, 0.5)
    y, x = np.indices(alone.shape)
    star = 5.0 * np.exp(-((x - 90) ** 2 + (y - 70) ** 2) / (2 * 1.5**2))  # 250 times the galaxy's peak
    fit = fit_sersic(alone + star, SCALE)
    assert fit.mag == pytest.approx(fit_sersic(alone, SCALE).mag, abs=0.03)  # the star is masked
    true_mag = 22.5 - 2.5 * math.log10(sersic_total(0.005, 12.0, 1.0, 0.7))
    assert fit.mag == pytest.approx(true_mag, abs=0.15)
    assert fit.r_eff == pytest.approx(12.0 * SCALE, rel=0.12) and fit.n == pytest.approx(1.0, abs=0.2)
    assert fit.axis_ratio == pytest.approx(0.7, abs=0.08) and fit.angle == pytest.approx(
        math.degrees(0.5), abs=8
    )
    assert (fit.x, fit.y) == pytest.approx((63.7, 64.2), abs=0.5) and fit.note == "" and fit.reliable
    mu_eff = 22.5 - 2.5 * math.log10(0.005 / SCALE**2)
    assert fit.mu_eff == pytest.approx(mu_eff, abs=0.15)
    assert fit.mu0 == pytest.approx(fit.mu_eff - 2.5 * sersic_b(fit.n) / math.log(10))
    assert fit.mean_mu_eff == pytest.approx(
        fit.mag + 2.5 * math.log10(2 * math.pi * fit.axis_ratio * fit.r_eff**2)
    )
    assert fit.low_surface_brightness  # ⟨μ⟩e ≈ 24.7, r_eff ≈ 3.2″


def test_a_large_cutout_is_binned_and_measured_in_its_own_pixels():
    image = noisy((300, 300), 0.004, 40.0, 0.8, 0.9, 1.0, centre=(150.3, 149.6), noise=0.002)
    fit = fit_sersic(image, 0.2)
    assert fit.r_eff == pytest.approx(8.0, rel=0.06)
    assert (fit.x, fit.y) == pytest.approx((150.3, 149.6), abs=1.0)
    assert fit.pixel_scale == pytest.approx(0.2)  # of the cutout as given, though fitted on 3 × 3 sums


def test_a_faint_candidate_is_flagged():
    fit = fit_sersic(noisy((64, 64), 0.0004, 6.0, 1.0, 0.8, 0.0, noise=0.01, centre=(32, 32)), SCALE)
    assert "faint" in fit.note and not fit.reliable and not fit.low_surface_brightness


def test_a_cutout_with_nothing_at_its_centre_is_no_measurement():
    fit = fit_sersic(np.random.default_rng(5).normal(0.01, 0.005, (64, 64)), SCALE)
    assert not fit.reliable and not fit.low_surface_brightness and fit.note


@pytest.mark.parametrize(
    ("image", "words"),
    [
        (np.zeros((8, 8)), "at least 16"),
        (np.zeros((32, 32, 3)), "one band"),
        (np.full((32, 32), np.nan), "NaN"),
        (np.ones((32, 32)), "no noise"),
    ],
)
def test_what_cannot_be_fitted_is_refused(image, words):
    with pytest.raises(ValueError, match=words):
        fit_sersic(image, SCALE)


def test_a_profile_larger_than_the_cutout_is_no_measurement():
    image = noisy((64, 64), 0.004, 45.0, 1.0, 0.9, 0.0, centre=(32, 32), noise=0.002)  # r_eff 45 px
    fit = fit_sersic(image, SCALE)
    assert not fit.reliable and "beyond the cutout's edge" in fit.note


def test_the_halo_of_a_bright_neighbour_is_left_out_of_the_candidates_fit():
    """A faint exponential LSBG at the centre, a galaxy 12 times brighter whose outskirts reach it: without
    the neighbour's light masked, the fit runs off to the neighbour."""
    from galview.core.photometry import rising_outward

    alone = noisy((96, 96), 0.004, 8.0, 1.0, 0.8, 0.3, centre=(47.6, 48.2), sky=0.0, noise=0.002)
    halo = sersic_image((96, 96), 0.05, 14.0, 1.0, 0.9, 0.0, 85.0, 85.0)
    fit_alone, fit = fit_sersic(alone, SCALE), fit_sersic(alone + halo, SCALE)
    assert fit_alone.reliable and fit.reliable and not fit.note
    assert (fit.x, fit.y) == pytest.approx((47.6, 48.2), abs=1.5)  # the candidate, not the neighbour
    assert fit.mag == pytest.approx(fit_alone.mag, abs=0.75)  # some of the halo stays under it
    y, x = np.indices(alone.shape)
    rising = rising_outward(alone + halo, 0.01)
    assert rising[np.hypot(x - 85, y - 85) < 10].all()  # the neighbour, beyond the saddle
    assert not rising[np.hypot(x - 47.6, y - 48.2) < 12].any()  # never the candidate
    assert not rising_outward(sersic_image((96, 96), 0.01, 8.0, 1.0, 0.8, 0.3, 47.6, 48.2), 1e-6).any()


def test_a_fit_drawn_off_the_centre_is_no_measurement():
    """Nothing at the centre, a galaxy off it whose light covers it: the centre runs to the edge of its
    range, and the fit says it measured another source."""
    image = noisy((64, 64), 0.03, 15.0, 1.0, 0.8, 0.0, centre=(25.0, 45.0), noise=0.004)
    fit = fit_sersic(image, SCALE)
    assert not fit.reliable and "the centre ran to the edge of the range tried" in fit.note
    assert not fit.low_surface_brightness


def test_a_small_galaxy_is_measured_through_the_psf():
    """r_eff 0.8″ blurred by a 1″ PSF: left in, the PSF makes it rounder; fitted through, its own shape."""
    from scipy.ndimage import gaussian_filter

    fine = sersic_image((256, 256), 0.05 / 16, 16.0, 1.5, 0.7, 0.5, 127.5, 129.5)  # 4× finer pixels
    blurred = gaussian_filter(fine, 20 / 2.3548)  # FWHM 5 pixels of 0.2″ (20 fine ones)
    image = blurred.reshape(64, 4, 64, 4).sum(axis=(1, 3))
    image = image + np.random.default_rng(0).normal(0, 0.0003, image.shape)
    left_in, through = fit_sersic(image, 0.2), fit_sersic(image, 0.2, psf_fwhm=1.0)
    assert through.reliable and through.psf_fwhm == 1.0 and left_in.psf_fwhm == 0.0
    assert through.axis_ratio == pytest.approx(0.7, abs=0.03) and left_in.axis_ratio > 0.74
    assert through.r_eff == pytest.approx(0.8, rel=0.1) and through.n == pytest.approx(1.5, abs=0.25)
    model = through.model_image(image.shape)  # blurred as fitted: only noise is left
    assert np.std(image - model) == pytest.approx(0.0003, rel=0.15)
    with pytest.raises(ValueError, match="PSF's FWHM"):
        fit_sersic(image, 0.2, psf_fwhm=float("nan"))


def test_the_stated_errors_are_the_scatter_over_noise_draws():
    """A pure exponential in white noise (the model describes it exactly): each number's stated error is
    the scatter of its fits over 16 noise draws (within what 16 draws can tell, ~±35 %)."""
    numbers = ("mag", "mean_mu_eff", "mu0", "r_eff", "n", "axis_ratio")
    fits = [
        fit_sersic(noisy((64, 64), 0.01, 6.0, 1.0, 0.7, 0.4, seed=seed, centre=(31.7, 32.2)), SCALE)
        for seed in range(16)
    ]
    for name in numbers:
        scatter = np.std([getattr(f, name) for f in fits], ddof=1)
        stated = np.median([getattr(f.errors, name) for f in fits])
        assert 0.6 * stated < scatter < 1.6 * stated, (name, scatter, stated)
    fit = fits[0]  # ⟨μ⟩e and r_eff, the LSBG cuts' numbers, are shown with their errors
    text = fit.describe()
    assert f"⟨μ⟩e {with_error(fit.mean_mu_eff, fit.errors.mean_mu_eff)} · " in text
    assert f"re {with_error(fit.r_eff, fit.errors.r_eff)}″ · " in text
    assert (
        replace(fit, errors=FitErrors())
        .describe()
        .startswith(f"μ0 {fit.mu0:.1f} · ⟨μ⟩e {fit.mean_mu_eff:.1f} · ")
    )


def test_an_error_is_written_with_the_decimals_it_needs():
    assert with_error(25.234, 0.31) == "25.2 ± 0.3"
    assert with_error(25.234, 0.04) == "25.23 ± 0.04"  # not "25.2 ± 0.0"
    assert with_error(25.234, math.nan) == "25.2"
    assert with_error(25.234, 0.31, 2) == "25.23 ± 0.31" and with_error(25.234, math.nan, 2) == "25.23"


def test_a_tilted_sky_is_fitted_and_left_out_of_the_galaxy():
    """The halo of something bright off the cutout tilts the sky by 4σ of the noise across it: the plane
    takes it, the galaxy is measured as on a flat sky, and the model leaves only noise."""
    flat = noisy((64, 64), 0.006, 7.0, 1.0, 0.8, 0.2, seed=3, centre=(31.6, 32.3))
    y, x = np.indices(flat.shape)
    gradient = (0.0003, -0.0002)  # per pixel: from -0.0096 to +0.0096 along x
    tilted = flat + gradient[0] * (x - 31.5) + gradient[1] * (y - 31.5)
    on_flat, on_tilt = fit_sersic(flat, SCALE), fit_sersic(tilted, SCALE)
    assert on_tilt.sky_gradient == pytest.approx(gradient, abs=4e-5)
    assert on_tilt.mag == pytest.approx(on_flat.mag, abs=2 * on_flat.errors.mag)
    assert on_tilt.r_eff == pytest.approx(on_flat.r_eff, abs=2 * on_flat.errors.r_eff)
    assert np.std(tilted - on_tilt.model_image(tilted.shape)) == pytest.approx(0.005, rel=0.1)


def test_the_sky_plane_is_kept_in_the_cutouts_pixels_when_the_fit_is_binned():
    image = noisy((300, 300), 0.004, 40.0, 0.8, 0.9, 1.0, centre=(150.3, 149.6), noise=0.002, sky=0.0)
    y, x = np.indices(image.shape)
    fit = fit_sersic(image + 2e-5 * (x - 149.5), 0.2)  # fitted on 3 × 3 sums
    assert fit.sky_gradient == pytest.approx((2e-5, 0.0), abs=2e-6)
    assert fit.sky == pytest.approx(0.0, abs=2e-4)

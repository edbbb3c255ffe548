"""Forced photometry: every band through the shape fitted in one gives the candidate's colours; the
fit's model leaves only noise where the galaxy was."""

from __future__ import annotations

import math

import numpy as np
import pytest

from galview.core.forced_photometry import (
    BandMagnitude,
    colour_text,
    colours,
    forced_magnitude,
    population,
)
from galview.core.photometry import fit_sersic, sersic_image

SCALE = 0.263  # DES
#: g−r and g−i of the galaxy drawn below (a red LSBG by DES Y3's g − i ≥ 0.60).
G_R, G_I = 0.45, 0.70


def three_bands(
    seed=0, shape=(96, 96), noise=(0.004, 0.005, 0.008), centre=(47.6, 48.3), r_eff=9.0, intensity=0.004
):
    """g, r, i of one exponential galaxy (``intensity`` at r_eff in g), each band brighter by its colour,
    with its own noise."""
    rng = np.random.default_rng(seed)
    profile = sersic_image(shape, 1.0, r_eff, 1.0, 0.6, 0.4, *centre)
    scales = [1.0, 10 ** (0.4 * G_R), 10 ** (0.4 * G_I)]
    planes = [
        intensity * s * profile + 0.02 + rng.normal(0, sigma, shape)
        for s, sigma in zip(scales, noise, strict=True)
    ]
    return np.stack(planes, axis=-1)


def test_colours_come_back_through_the_g_band_fit():
    cube = three_bands()
    fit = fit_sersic(cube[..., 0], SCALE)
    mags = [forced_magnitude(cube[..., k], fit, band) for k, band in enumerate("gri")]
    assert mags[0].mag == pytest.approx(fit.mag, abs=1e-6)  # the fitted band gives back its own fit
    found = {name: (value, error) for name, value, error in colours(mags)}
    assert list(found) == ["g−r", "g−i", "r−i"]
    assert found["g−r"][0] == pytest.approx(G_R, abs=4 * found["g−r"][1])
    assert found["g−i"][0] == pytest.approx(G_I, abs=4 * found["g−i"][1])
    assert 0.005 < found["g−i"][1] < 0.1 and all(m.snr > 10 for m in mags)
    assert population(mags) == "red"
    assert colour_text(mags) == f" · g−r {found['g−r'][0]:.2f} · g−i {found['g−i'][0]:.2f} (red)"


def test_the_stated_errors_are_the_scatter_over_noise_draws():
    colour, stated = [], []
    for seed in range(12):
        cube = three_bands(seed)
        fit = fit_sersic(cube[..., 0], SCALE)
        g, r = (forced_magnitude(cube[..., k], fit) for k in (0, 1))
        colour.append(g.mag - r.mag)
        stated.append(math.hypot(g.mag_err, r.mag_err))
    scatter = np.std(colour, ddof=1)
    # the shape is fitted to the same g pixels, so the colour scatters a little less than independent bands
    assert 0.4 * np.median(stated) < scatter < 1.6 * np.median(stated)
    assert np.mean(colour) == pytest.approx(G_R, abs=3 * scatter / math.sqrt(12) + 0.01)


def test_a_star_in_one_band_is_left_out_of_it():
    cube = three_bands()
    fit = fit_sersic(cube[..., 0], SCALE)
    y, x = np.indices(cube.shape[:2])
    with_star = cube[..., 2] + 3.0 * np.exp(-((x - 70) ** 2 + (y - 30) ** 2) / (2 * 1.5**2))
    assert forced_magnitude(with_star, fit).mag == pytest.approx(
        forced_magnitude(cube[..., 2], fit).mag, abs=0.03
    )


def test_a_band_without_the_galaxy_says_so_by_its_signal_to_noise():
    cube = three_bands()
    fit = fit_sersic(cube[..., 0], SCALE)
    empty = forced_magnitude(np.random.default_rng(9).normal(0.02, 0.005, cube.shape[:2]), fit, "z")
    assert abs(empty.snr) < 4 and (math.isnan(empty.mag) or empty.mag_err > 0.25)
    with pytest.raises(ValueError, match="no noise"):
        forced_magnitude(np.full(cube.shape[:2], 0.02), fit, "z")


def test_colours_go_blue_to_red_whatever_the_files_order():
    mags = [
        BandMagnitude("z", 19.0, 0.1, 10),
        BandMagnitude("g", 20.0, 0.1, 10),
        BandMagnitude("r", 19.5, 0.1, 10),
    ]
    assert [(name, round(value, 3)) for name, value, _e in colours(mags)] == [
        ("g−r", 0.5),
        ("g−z", 1.0),
        ("r−z", 0.5),
    ]
    assert population(mags) == ""  # no i band: DES Y3's split is not drawn
    assert population([BandMagnitude("g", 20.0, 0.1, 10), BandMagnitude("i", 19.5, 0.1, 10)]) == "blue"
    assert colour_text([BandMagnitude("g", 20.0, 0.1, 10), BandMagnitude("r", math.nan, math.nan, 0)]) == ""


@pytest.mark.parametrize("shape", [(96, 96), (300, 300)])
def test_the_model_leaves_only_noise_where_the_galaxy_was(shape):
    """Also for a cutout binned 3 × 3 to be fitted: the sky and noise are per pixel of the cutout."""
    centre = (shape[1] / 2 - 0.4, shape[0] / 2 + 0.3)
    r_eff = shape[0] / 10
    noise = 0.004
    cube = three_bands(shape=shape, noise=(noise,) * 3, centre=centre, r_eff=r_eff, intensity=5 * noise)
    fit = fit_sersic(cube[..., 0], SCALE)
    assert fit.noise == pytest.approx(noise, rel=0.1) and fit.sky == pytest.approx(0.02, abs=noise / 10)
    residual = cube[..., 0] - fit.model_image(shape)
    y, x = np.indices(shape)
    inside = np.hypot(x - centre[0], y - centre[1]) < r_eff  # where the galaxy's light is
    assert abs(residual[inside].mean()) < noise / 5
    assert residual[inside].std() == pytest.approx(noise, rel=0.15)
    assert (cube[..., 0][inside] - 0.02).mean() > 5 * noise  # the galaxy was there to be taken away


def test_the_figures_tiles_share_the_datas_stretch_and_the_residual_is_symmetric():
    from galview.core.fit_figure import fit_captions, fit_tiles
    from galview.core.forced_photometry import forced_magnitude

    cube = three_bands(intensity=0.02)
    fit = fit_sersic(cube[..., 0], SCALE)
    data, model, residual = fit_tiles(cube[..., 0], fit)
    assert data.shape == model.shape == residual.shape == (96, 96, 3) and data.dtype == np.uint8
    centre = (48, 48)
    assert abs(int(data[centre][0]) - int(model[centre][0])) < 25  # the same grey levels where they agree
    assert model[0, 0, 0] < data[centre][0] and model[0, 0, 0] == pytest.approx(
        data[:10, :10, 0].mean(), abs=25
    )
    assert abs(np.median(residual[..., 0]) - 127.5) < 3
    fit = replace_magnitudes(fit, [forced_magnitude(cube[..., k], fit, b) for k, b in enumerate("gri")])
    first, second, third = fit_captions("LSBG-7", "g", fit)
    assert first[0] == "LSBG-7" and "⟨μ⟩e" in first[1] and second[0].startswith("Sérsic n ")
    assert third[1].startswith("g−r ") and " · " not in third[1]


def replace_magnitudes(fit, magnitudes):
    from dataclasses import replace

    return replace(fit, magnitudes=tuple(magnitudes))


def test_one_named_colour_is_the_one_colours_gives():
    from galview.core.forced_photometry import colour_value

    magnitudes = [
        BandMagnitude("z", 19.0, 0.1, 10),
        BandMagnitude("g", 20.5, 0.1, 10),
        BandMagnitude("r", 20.0, 0.1, 10),
    ]
    for name, value, _error in colours(magnitudes):
        assert colour_value(magnitudes, name) == pytest.approx(value)
    assert math.isnan(colour_value(magnitudes, "g−i"))  # no i band

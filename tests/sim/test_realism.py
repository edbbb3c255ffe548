"""Realism measures of simulated cutouts: statistics, classifier AUC, comparison figure and table."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from galview.sim.realism import (
    compare,
    image_statistics,
    realism_auc,
    side_by_side,
    summary_table,
)

FAST = {"n_repeats": 1, "n_splits": 3, "n_trees": 30}


def make_cutouts(n, seed, background=40.0, noise=5.0, amplitude=60.0, sigma=3.0, size=64):
    """Gaussian noise around a constant background plus a centred round Gaussian blob, as uint8."""
    rng = np.random.default_rng(seed)
    yy, xx = np.indices((size, size))
    centre = (size - 1) / 2 + 0.5  # the pixel at size // 2, where the statistics put the centre
    blob = amplitude * np.exp(-((yy - centre) ** 2 + (xx - centre) ** 2) / (2 * sigma**2))
    images = background + blob[None, :, :, None] + rng.normal(0, noise, (n, size, size, 3))
    return np.clip(np.round(images), 0, 255).astype(np.uint8), blob


def test_statistics_recover_background_noise_and_central_blob():
    images, blob = make_cutouts(20, seed=1)
    stats = image_statistics(images)
    assert stats["background"].shape == (20, 3) and stats["size"].shape == (20,)
    np.testing.assert_allclose(np.median(stats["background"], axis=0), 40, atol=1)
    np.testing.assert_allclose(np.median(stats["noise"], axis=0), 5, atol=0.5)
    expected = blob[28:36, 28:36].mean()
    np.testing.assert_allclose(np.median(stats["central"], axis=0), expected, rtol=0.05)
    assert np.median(stats["central_brightness"]) == pytest.approx(expected, rel=0.05)
    assert np.median(stats["peak"]) == pytest.approx(60, abs=6)


def test_larger_blob_has_larger_size():
    sizes = [np.median(image_statistics(make_cutouts(8, 2, sigma=s)[0])["size"]) for s in (2, 4, 7)]
    assert 0 < sizes[0] < sizes[1] < sizes[2]
    assert sizes[1] == pytest.approx(np.sqrt(2) * 4, rel=0.25)  # <r²> of a Gaussian is 2σ², less truncation


def test_flat_and_blank_images_give_finite_statistics():
    images = np.stack([np.full((64, 64, 3), 30, np.uint8), np.zeros((64, 64, 3), np.uint8)])
    stats = image_statistics(images)
    assert all(np.isfinite(values).all() for values in stats.values())
    assert np.all(stats["size"] == 0) and np.all(stats["noise"] == 0)
    table = summary_table(stats)
    assert table["background_R"]["median"] == pytest.approx(15)
    assert set(table["size"]) == {"median", "p16", "p84", "n"}


def test_same_generator_is_indistinguishable():
    real, _ = make_cutouts(60, seed=3)
    sim, _ = make_cutouts(60, seed=4)
    result = realism_auc(real, sim, **FAST)
    assert result["auc_logistic"] < 0.65 and result["auc_forest"] < 0.65


def test_different_background_is_detected():
    real, _ = make_cutouts(30, seed=5, background=40)
    sim, _ = make_cutouts(50, seed=6, background=55)
    result = realism_auc(real, sim, **FAST)
    assert result["auc_logistic"] > 0.9 and result["auc_forest"] > 0.9
    assert result["n_per_class"] == 30
    names = [name for name, _ in result["top_features"]]
    assert len(names) == 10 and any("background" in n or "mean" in n or "lum_p" in n for n in names[:3])


def test_side_by_side_png_dimensions(tmp_path):
    real, _ = make_cutouts(10, seed=7)
    sim, _ = make_cutouts(6, seed=8)
    labels = np.array([1, 0] * 5)
    path = side_by_side(real, sim, tmp_path / "fig" / "cmp.png", n=4, real_labels=labels)
    with Image.open(path) as figure:
        # 3 rows (real LSBG, real artifact, simulated): width n*(128+4)+4, height rows*(16+128+4)+4
        assert figure.size == (4 * 132 + 4, 3 * 148 + 4) and figure.mode == "RGB"
        pixels = np.asarray(figure)
    top = 4 + 16  # first tile of the first row is real LSBG #0, upscaled x2 with nearest neighbour
    np.testing.assert_array_equal(pixels[top : top + 128 : 2, 4 : 4 + 128 : 2], real[0])


def test_compare_table_has_rows_and_aucs():
    real, _ = make_cutouts(12, seed=9)
    sim, _ = make_cutouts(12, seed=10, background=60)
    labels = np.array([1, 0] * 6)
    text = compare(real, sim, sim_labels=labels, real_labels=labels, **FAST)
    assert "| background_R |" in text and "| size |" in text and "AUC forest" in text
    assert "real LSBG (N=6)" in text and "| LSBG |" in text and "| artifact |" in text


def test_real_des_statistics(shared_data):
    with np.load(shared_data / "des_lsbg" / "des_lsbg_dev.npz", allow_pickle=False) as data:
        images, labels = data["images"], data["labels"]
    stats = image_statistics(images)
    assert all(np.isfinite(values).all() and len(values) == 112 for values in stats.values())
    lsbg, artifact = labels == 1, labels == 0
    # measured: LSBGs are centred and brighter at the centre (median ~30 vs ~20 grey levels) and blue
    assert np.median(stats["central_brightness"][lsbg]) > np.median(stats["central_brightness"][artifact]) + 5
    central = np.median(stats["central"][lsbg], axis=0)
    assert central[2] > central[0]  # B (g band) above R (z band)
    assert 25 < np.median(stats["background"]) < 45


def test_single_statistic_aucs_find_the_statistic_that_differs():
    from galview.sim.realism import statistic_aucs

    rng = np.random.default_rng(0)
    real = rng.normal(40, 5, (60, 64, 64, 3)).clip(0, 255).astype(np.uint8)
    sim = rng.normal(40, 5, (60, 64, 64, 3))
    sim[:, 6:-6, 6:-6, :] += 30  # brighter everywhere inside the border ring
    result = statistic_aucs(real, sim.clip(0, 255).astype(np.uint8))
    name, auc = result[0]
    assert auc < 0.05  # real is lower: far from 0.5 in the other direction
    assert abs(result[-1][1] - 0.5) <= abs(auc - 0.5)

"""Shortcut diagnostics: the masked-centre probe and Grad-CAM centrality (galview.ml.shortcuts)."""

from __future__ import annotations

import numpy as np
import pytest

from galview.ml.shortcuts import centrality, context_shortcut_auc, mask_centre, peak_distances


def _blob_cutouts(n: int, seed: int, corner_cue: bool) -> tuple[np.ndarray, np.ndarray]:
    """32×32×3 uint8 noise; class 1 has a bright blob at the centre; with ``corner_cue`` class 1 also has a
    bright square in a corner (a context shortcut), otherwise the corner square is random per cutout."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 2
    images = rng.normal(40, 6, (n, 32, 32, 3))
    yy, xx = np.mgrid[0:32, 0:32]
    blob = 80 * np.exp(-((yy - 15.5) ** 2 + (xx - 15.5) ** 2) / 8.0)
    images[labels == 1] += blob[None, ..., None]
    corner = labels == 1 if corner_cue else rng.random(n) < 0.5
    images[corner, 1:6, 1:6, :] += 90
    return np.clip(images, 0, 255).astype(np.uint8), labels


def test_mask_centre_hides_the_centre_with_the_cutouts_background():
    images, _ = _blob_cutouts(6, 0, corner_cue=False)
    masked = mask_centre(images, size=8)
    centre = masked[:, 12:20, 12:20, :]
    assert np.all(centre == centre[:, :1, :1, :])  # one value per cutout and channel
    assert np.all(np.abs(centre[:, 0, 0, :].astype(int) - 40) <= 3)  # the background, not the blob
    outside = np.ones((32, 32), bool)
    outside[12:20, 12:20] = False
    np.testing.assert_array_equal(masked[:, outside], images[:, outside])
    with pytest.raises(ValueError, match="expected cutouts"):
        mask_centre(images[0])


@pytest.mark.slow
def test_probe_finds_a_planted_context_cue_and_not_one_that_is_absent():
    cued, labels = _blob_cutouts(600, 1, corner_cue=True)
    fair, fair_labels = _blob_cutouts(600, 1, corner_cue=False)
    with_cue = context_shortcut_auc(cued, labels, size=12, epochs=4, with_full=False)
    without = context_shortcut_auc(fair, fair_labels, size=12, epochs=4)
    assert with_cue.masked_auc > 0.95
    assert without.masked_auc < 0.65  # the blob was the only cue, and it was hidden
    assert without.full_auc > 0.95  # ... while the whole cutout shows it
    assert with_cue.n_test == 150 and with_cue.n_train == 450


def test_peak_distances_and_flat_maps():
    maps = np.zeros((3, 64, 64), np.float32)
    maps[0, 32, 32] = 1.0  # 0.71 px from the centre (31.5, 31.5)
    maps[1, 0, 0] = 1.0  # a corner: 44.5 px away
    distances = peak_distances(maps)
    assert distances[0] == pytest.approx(np.hypot(0.5, 0.5))
    assert distances[1] == pytest.approx(np.hypot(31.5, 31.5))
    assert np.isnan(distances[2])  # all zeros: no peak


def test_centrality_counts_confident_maps_and_flat_ones_as_off_centre():
    maps = np.zeros((5, 64, 64), np.float32)
    maps[0, 30, 34] = maps[1, 40, 25] = 1.0  # central
    maps[2, 2, 60] = 1.0  # off-centre
    # maps[3] flat; maps[4] central but not confident
    maps[4, 31, 31] = 1.0
    probs = np.array([0.9, 0.95, 0.99, 0.85, 0.5])
    result = centrality(maps, probs)
    assert result.n_confident == 4 and result.n_flat == 1
    assert result.fraction == pytest.approx(2 / 4)
    assert np.isnan(centrality(maps, np.zeros(5)).fraction)

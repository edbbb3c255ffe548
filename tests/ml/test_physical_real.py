"""The 12 real Legacy Survey dwarfs through the shipped model (issue 11): adapted automatically, in the
DES viewer's colours, with probabilities that depend on the cutout. Their labels are never used here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from galview.io import open_collection
from galview.ml.adapt import adapt_for, adapter_note
from galview.ml.gradcam import explain
from galview.ml.loading import load_model
from galview.ml.physical import apply_physical
from galview.ml.scoring import score_batches
from galview.sim.realism import image_statistics

SHIPPED = Path(__file__).resolve().parents[2] / "models" / "deepshadows_des_sim.keras"  # this checkout's


@pytest.fixture(scope="module")
def shipped():
    return load_model(SHIPPED)


@pytest.fixture
def dwarfs(shared_data):
    with open_collection(shared_data / "legacy_dwarfs") as collection:
        yield collection


def test_adapted_dwarfs_look_like_the_des_viewer_cutouts(shipped, dwarfs, shared_data):
    """Per channel, the median background level within 30% of the real DES cutouts' and each cutout's
    within their range (less 20% at the bottom); the median noise within a factor of 4 (Legacy Survey
    DR8 here is shallower than DES: about 2.5× the DES noise is physics, not colour)."""
    adapted, note = adapt_for(shipped, dwarfs)
    assert note is not None
    images = apply_physical(dwarfs.get_batch(np.arange(len(dwarfs))), adapted.card.input.adapter)
    assert images.shape == (12, 64, 64, 3) and images.dtype == np.uint8
    des = np.load(shared_data / "des_lsbg" / "des_lsbg_dev.npz")["images"]
    ours, theirs = image_statistics(images), image_statistics(des)
    for k in range(3):
        levels, des_levels = ours["background"][:, k], theirs["background"][:, k]
        assert abs(np.median(levels) / np.median(des_levels) - 1) < 0.3, (k, levels, np.median(des_levels))
        assert np.all((levels > 0.8 * des_levels.min()) & (levels < des_levels.max())), (k, levels)
        ratio = np.median(ours["noise"][:, k]) / np.median(theirs["noise"][:, k])
        assert 1 / 4 < ratio < 4, (k, ratio)
    assert (images == 255).mean() < 0.01  # not saturated


def test_scoring_adapts_on_its_own_and_probabilities_depend_on_the_cutout(shipped, dwarfs):
    """What the window runs (score_batches with the unadapted model): before issue 11 the only way in
    was a resize, giving 0.2468–0.2481 for all 12; the count of LSBG calls is not asserted."""
    probs = np.concatenate([b.probs[:, 0] for b in score_batches(shipped, dwarfs, batch_size=5)])
    assert probs.shape == (12,) and np.all(np.isfinite(probs))
    assert np.ptp(probs) > 0.3, probs
    assert len(np.unique(np.round(probs, 3))) >= 10, probs
    assert adapter_note(shipped, dwarfs).startswith("256×256 g,r,z nanomaggies at 0.200″/px → 64×64 viewer")


def test_heat_maps_come_back_at_the_cutouts_resolution(shipped, dwarfs):
    cutouts = dwarfs.get_batch([0, 5])
    maps = explain(shipped, cutouts, collection=dwarfs)
    assert maps.shape == (2, 256, 256) and maps.dtype == np.float32
    assert maps.max() == pytest.approx(1.0) and maps.min() == 0.0
    crop = int((256 - 29.982 / 0.2) / 2)  # the model saw the central 30″ (150 of 256 pixels)
    assert maps[:, : crop - 1].max() == 0 and maps[:, :, 256 - crop + 1 :].max() == 0
    assert maps[:, crop + 2 : 256 - crop - 2, crop + 2 : 256 - crop - 2].max() == pytest.approx(1.0)


def test_a_truncated_file_in_the_folder_is_skipped_not_the_whole_folder(shipped, shared_data, tmp_path):
    """One damaged FITS file of twelve: the others are adapted and scored, and keep their sky positions."""
    import shutil

    folder = tmp_path / "dwarfs"
    shutil.copytree(shared_data / "legacy_dwarfs", folder)
    for path in folder.iterdir():
        path.chmod(0o644)
    damaged = sorted(folder.glob("*.fits"))[0]  # cutout 0: where the adapter looks first
    damaged.write_bytes(damaged.read_bytes()[:-100_000])
    with open_collection(folder) as collection:
        assert np.isnan(collection.ra[0]) and np.isfinite(collection.ra[1:]).all()
        batches = list(score_batches(shipped, collection, batch_size=5, skip_unreadable=True))
    probs = np.concatenate([b.probs[:, 0] for b in batches])
    assert np.isnan(probs[0]) and np.isfinite(probs[1:]).all()
    assert "is truncated" in batches[0].unreadable[0]

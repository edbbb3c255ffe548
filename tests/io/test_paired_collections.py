"""Opening another collection of the same objects as a job: the real Legacy Survey FITS, paired."""

from __future__ import annotations

import numpy as np
import pytest

from galview.core.errors import UserFacingError
from galview.io import open_collection
from galview.io.paired_collections import open_and_pair


@pytest.fixture
def dwarfs(shared_data):
    return open_collection(shared_data / "legacy_dwarfs")


def other_survey(dwarfs, path, order, **extra):
    """The same dwarfs as another survey would give them: g band only, 64 px, shuffled, with positions."""
    ra, dec = (np.asarray(c, float) for c in dwarfs.readable_coords())
    images = np.stack([dwarfs.get(int(i))[::4, ::4, :1] for i in order])
    np.savez(path, images=images, ra=ra[order], dec=dec[order] + 0.3 / 3600, **extra)
    return path


def test_the_same_dwarfs_from_another_file_are_paired_by_position(dwarfs, tmp_path):
    order = np.random.default_rng(1).permutation(len(dwarfs))[:9]
    path = other_survey(dwarfs, tmp_path / "deeper.npz", order)
    steps = []
    other, pairing = open_and_pair(dwarfs, path, on_progress=steps.append)
    assert len(other) == 9 and other.shape == (64, 64, 1) and len(steps) == 2
    assert pairing.by == "position" and pairing.paired == 9
    for k, i in enumerate(order):
        assert pairing.other_index[i] == k
        np.testing.assert_array_equal(other.get(k), dwarfs.get(int(i))[::4, ::4, :1])
    assert np.nanmax(pairing.separation_arcsec) == pytest.approx(0.3, abs=1e-3)


def test_files_that_cannot_be_paired_are_refused_naming_them(dwarfs, tmp_path):
    with pytest.raises(UserFacingError, match="is the collection already open"):
        open_and_pair(dwarfs, dwarfs.source)
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(UserFacingError, match="broken.npz"):
        open_and_pair(dwarfs, broken)
    nowhere = tmp_path / "nowhere.npz"
    np.savez(nowhere, images=np.zeros((5, 8, 8, 3), np.uint8))
    with pytest.raises(
        UserFacingError, match=r"nowhere.npz: cannot be paired with /.*/legacy_dwarfs: .*hold 12 and 5"
    ):
        open_and_pair(dwarfs, nowhere)

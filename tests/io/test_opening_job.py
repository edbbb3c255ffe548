"""The window's opening job reads what the window would otherwise read in its own thread."""

from __future__ import annotations

import shutil

from galview.io import fits_files
from galview.io.opening import open_for_viewing


def test_the_first_cutouts_wcs_is_read_by_the_job(shared_data, monkeypatch):
    """The window shows the first cutout with its WCS: astropy's WCS imported and read in its thread took
    0.3 s."""
    read = []
    real = fits_files.celestial_wcs
    monkeypatch.setattr(fits_files, "celestial_wcs", lambda header: read.append(1) or real(header))
    with open_for_viewing(shared_data / "legacy_dwarfs") as collection:
        assert len(read) == 1
        assert collection.wcs(0) is not None and len(read) == 1  # cached: the window reads nothing


def test_a_first_file_whose_wcs_cannot_be_read_still_opens(shared_data, tmp_path):
    folder = tmp_path / "dwarfs"
    shutil.copytree(shared_data / "legacy_dwarfs", folder)
    first = sorted(folder.glob("*.fits"))[0]
    first.write_bytes(first.read_bytes()[:2880] + b"\0" * 100)  # the header kept, the data cut short
    with open_for_viewing(folder) as collection:
        assert len(collection) == 12


def test_the_fingerprint_is_made_by_the_job(tmp_path):
    """It names the kept scores, features and photometry: the window asks for it at once."""
    import numpy as np

    from galview.core.collection import fingerprint

    np.save(tmp_path / "c.npy", np.zeros((40, 8, 8, 3), np.uint8))
    with open_for_viewing(tmp_path / "c.npy") as collection:
        made = collection._cache.get("fingerprint")
        assert made is not None and made == fingerprint(collection)

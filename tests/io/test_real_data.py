"""The real survey cutouts in ../shared/data open with the right shape, labels and coordinates."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from astropy.io import fits
from PIL import Image

from galview.io import open_collection


def _angular_sep_arcsec(ra1, dec1, ra2, dec2):
    """Great-circle separation (haversine), inputs in degrees, result in arcsec."""
    ra1, dec1, ra2, dec2 = (np.radians(np.asarray(v, dtype=np.float64)) for v in (ra1, dec1, ra2, dec2))
    a = np.sin((dec2 - dec1) / 2) ** 2 + np.cos(dec1) * np.cos(dec2) * np.sin((ra2 - ra1) / 2) ** 2
    return np.degrees(2 * np.arcsin(np.sqrt(a))) * 3600.0


# -- DES LSBG npz ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def des(shared_data):
    path = shared_data / "des_lsbg" / "des_lsbg_dev.npz"
    with open_collection(path) as collection:
        yield path, collection


def test_des_npz_shape_dtype_and_labels(des):
    path, c = des
    assert len(c) == 112
    assert c.shape == (64, 64, 3)
    assert c.dtype == np.uint8
    assert c.bands == ("R", "G", "B")
    assert c.has_labels
    labels = np.asarray(c.labels)
    assert labels.shape == (112,)
    assert int((labels == 1).sum()) == 58
    assert int((labels == 0).sum()) == 54
    assert c.describe() == {
        "n": 112,
        "shape": [64, 64, 3],
        "dtype": "uint8",
        "bands": ["R", "G", "B"],
        "has_labels": True,
        "has_coords": True,
    }


def test_des_npz_coords_match_file_with_nan_where_unknown(des):
    path, c = des
    assert c.has_coords
    with np.load(path) as raw:
        ra, dec = raw["ra"], raw["dec"]
    np.testing.assert_array_equal(c.ra, ra)  # NaN positions must agree too
    np.testing.assert_array_equal(c.dec, dec)
    assert c.coords[0] is c.ra
    assert 0 < int(np.isfinite(c.ra).sum()) < 112


def test_des_npz_pixels_equal_numpy(des):
    path, c = des
    with np.load(path) as raw:
        images = raw["images"]
    for i in (0, 57, 111):
        cutout = c.get(i)
        assert cutout.dtype == np.uint8
        np.testing.assert_array_equal(cutout, images[i])
    np.testing.assert_array_equal(c.get_batch([111, 3, 3]), images[[111, 3, 3]])
    assert c.ids[:3].tolist() == ["0", "1", "2"]
    assert c.id_of(111) == "111"


# -- Legacy Survey dwarfs: folder of FITS cubes --------------------------------------------------


@pytest.fixture(scope="module")
def dwarfs(shared_data):
    folder = shared_data / "legacy_dwarfs"
    with open_collection(folder) as collection:
        yield folder, collection


def test_legacy_dwarfs_folder_shape_and_bands(dwarfs):
    folder, c = dwarfs
    assert len(c) == 12
    assert c.shape == (256, 256, 3)
    assert c.dtype == np.dtype(np.float32)
    assert c.dtype.isnative
    assert c.bands == ("g", "r", "z")
    assert not c.has_labels  # candidates.csv is a catalogue, not a label table of the folder
    stems = sorted(p.name.removesuffix(".fits") for p in folder.glob("*.fits"))
    assert c.ids.tolist() == stems
    assert c.id_of(0) == "ngc3115_dwarf_00"


def test_legacy_dwarfs_coords_from_wcs_match_catalogue(dwarfs):
    folder, c = dwarfs
    assert c.has_coords
    with open(folder / "candidates.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    cat_ra = np.array([float(r["ra"]) for r in rows])
    cat_dec = np.array([float(r["dec"]) for r in rows])
    assert np.isfinite(c.ra).all() and np.isfinite(c.dec).all()
    matched = []
    for ra, dec in zip(c.ra, c.dec, strict=True):
        sep = _angular_sep_arcsec(ra, dec, cat_ra, cat_dec)
        best = int(np.argmin(sep))
        assert sep[best] < 1.0, f"cutout centre {ra}, {dec} is {sep[best]:.2f} arcsec from the catalogue"
        matched.append(best)
    assert len(set(matched)) == 12  # each cutout is a different catalogue object


def test_legacy_dwarfs_wcs_and_pixels_equal_astropy(dwarfs):
    folder, c = dwarfs
    for i in (0, 11):
        path = folder / f"{c.id_of(i)}.fits"
        data = fits.getdata(path)
        assert data.shape == (3, 256, 256)
        cutout = c.get(i)
        assert cutout.dtype == np.float32 and cutout.dtype.isnative
        np.testing.assert_array_equal(cutout, np.moveaxis(data, 0, -1))
        wcs = c.wcs(i)
        assert wcs is not None and wcs.naxis == 2
        ra, dec = wcs.all_pix2world([[127.5, 127.5]], 0)[0]
        assert _angular_sep_arcsec(ra, dec, c.ra[i], c.dec[i]) < 1e-6


# -- Galaxy Zoo rings: folder of PNGs in images/ with labels.csv ---------------------------------


@pytest.fixture(scope="module")
def rings(shared_data):
    folder = shared_data / "gz_decals_rings"
    with open_collection(folder) as collection:
        yield folder, collection


def test_gz_rings_shape_and_balanced_labels(rings):
    folder, c = rings
    assert len(c) == 100
    assert c.shape == (424, 424, 3)
    assert c.dtype == np.uint8
    assert c.bands == ("R", "G", "B")
    assert not c.has_coords
    labels = np.asarray(c.labels)
    assert int((labels == 1).sum()) == 50
    assert int((labels == 0).sum()) == 50


def test_gz_rings_labels_match_table_by_filename(rings):
    folder, c = rings
    with open(folder / "labels.csv", newline="") as handle:
        rows = {r["filename"]: r for r in csv.DictReader(handle)}
    names = [p.name for p in c.files]
    assert len(names) == 100 and set(names) == set(rows)
    expected_labels = [int(rows[n]["ring"]) for n in names]
    expected_ids = [rows[n]["iauname"] for n in names]
    assert c.labels.tolist() == expected_labels
    assert c.ids.tolist() == expected_ids


def test_gz_rings_pixels_equal_pillow(rings):
    folder, c = rings
    for i in (0, 99):
        with Image.open(c.files[i]) as image:
            expected = np.asarray(image.convert("RGB"))
        cutout = c.get(i)
        assert cutout.dtype == np.uint8
        np.testing.assert_array_equal(cutout, expected)


# -- LEDA 074886: single 2-D FITS image ----------------------------------------------------------


def test_leda_single_fits_image(shared_data):
    path = shared_data / "leda074886" / "leda074886_50px.fits"
    with open_collection(path) as c:
        assert len(c) == 1
        assert c.shape == (50, 50, 1)
        assert c.dtype == np.dtype(np.float32) and c.dtype.isnative
        assert c.ids.tolist() == ["leda074886_50px"]
        assert not c.has_labels
        cutout = c.get(0)
        np.testing.assert_array_equal(cutout[..., 0], fits.getdata(path))
        np.testing.assert_array_equal(c.get(-1), cutout)
        with pytest.raises(IndexError):
            c.get(1)

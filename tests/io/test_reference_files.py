"""Reference images from files: FITS, PNG, .npy of 2 or 3 axes; anything else refused in one line."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from galview.core.errors import CollectionError
from galview.io.reference_files import read_reference
from tests.io.refusals import one_line


def test_the_leda_fits_image_is_one_band_reference(shared_data):
    image, name = read_reference(shared_data / "leda074886" / "leda074886_50px.fits")
    assert image.shape == (50, 50, 1) and image.dtype == np.float32 and name == "leda074886_50px"
    assert np.isfinite(image).all()


@pytest.mark.parametrize(
    ("shape", "expected"),
    [
        ((20, 30), (20, 30, 1)),
        ((20, 30, 3), (20, 30, 3)),
        ((3, 20, 30), (20, 30, 3)),
        ((1, 20, 30, 2), (20, 30, 2)),
    ],
)
def test_npy_images_of_two_to_four_axes(tmp_path, shape, expected):
    path = tmp_path / "ref.npy"
    np.save(path, np.arange(np.prod(shape), dtype=np.float32).reshape(shape))
    image, name = read_reference(path)
    assert image.shape == expected and name == "ref"


def test_png_and_nan_pixels(tmp_path):
    Image.fromarray(np.full((12, 14, 3), 90, np.uint8)).save(tmp_path / "ref.png")
    image, _ = read_reference(tmp_path / "ref.png")
    assert image.shape == (12, 14, 3) and image.dtype == np.uint8
    partly = np.ones((8, 8), np.float32)
    partly[0, 0] = np.nan
    np.save(tmp_path / "nan.npy", partly)
    assert np.isnan(read_reference(tmp_path / "nan.npy")[0]).sum() == 1  # masked later, not refused


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (np.ones((2, 8, 8, 3), np.float32), "holds 2 cutouts; expected one image"),
        (np.ones(8, np.float32), "expected one image"),
        (np.ones((40, 8, 40), np.float32), "expected one image"),
        (np.array([{"a": 1}], dtype=object), "never unpickles"),
        (np.full((8, 8), np.nan, np.float32), "no finite pixel"),
    ],
)
def test_bad_arrays_are_refused_naming_the_file(tmp_path, content, fragment):
    path = tmp_path / "bad.npy"
    np.save(path, content, allow_pickle=True)
    with pytest.raises(CollectionError) as info:
        read_reference(path)
    one_line(info.value, path, [fragment])


def test_damaged_files_are_refused_naming_the_file(tmp_path):
    for name, data in (
        ("cut.npy", None),
        ("bad.png", b"\x89PNG\r\n\x1a\nrubbish"),
        ("bad.fits", b"SIMPLE  = rubbish"),
    ):
        path = tmp_path / name
        if data is None:
            np.save(path, np.ones((30, 30), np.float32))
            data = path.read_bytes()[:200]
        path.write_bytes(data)
        with pytest.raises(CollectionError) as info:
            read_reference(path)
        one_line(info.value, path, [])
    with pytest.raises(CollectionError) as info:
        read_reference(tmp_path / "missing.fits")
    one_line(info.value, tmp_path / "missing.fits", ["no such file"])


def _fits_cutouts(folder, n: int, size: int, arcsec: float):
    """``n`` one-band FITS cutouts of ``size`` px at ``arcsec``″ per pixel, with a celestial WCS."""
    from astropy.io import fits
    from astropy.wcs import WCS

    folder.mkdir()
    for k in range(n):
        wcs = WCS(naxis=2)
        wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
        wcs.wcs.crval = [150.0 + k * 0.01, 2.0]
        wcs.wcs.crpix = [size / 2, size / 2]
        wcs.wcs.cdelt = [-arcsec / 3600, arcsec / 3600]
        data = np.random.default_rng(k).normal(0, 1, (size, size)).astype(np.float32)
        fits.PrimaryHDU(data, header=wcs.to_header()).writeto(folder / f"c{k}.fits")
    return folder


def test_a_fits_reference_keeps_its_size_on_the_sky_of_fits_cutouts(shared_data, tmp_path):
    """A Legacy Survey cube at 0.2″ (256 px, 51″) against cutouts at 0.4″ (64 px, 25.6″): its centre, halved."""
    from galview.io.reference_files import read_reference_with_scale, reference_for
    from galview.io.registry import open_collection

    dwarf = shared_data / "legacy_dwarfs" / "ngc3115_dwarf_00.fits"
    assert read_reference_with_scale(dwarf)[2] == pytest.approx(0.2)
    assert read_reference_with_scale(shared_data / "leda074886" / "leda074886_50px.fits")[2] is None
    with open_collection(_fits_cutouts(tmp_path / "cutouts", 3, 64, 0.4)) as collection:
        prepared = reference_for(dwarf, collection)
    assert prepared.image.shape == (64, 64, 1)
    assert prepared.steps[:2] == (
        "resampled from 0.2″ to 0.4″ per pixel: 256×256 → 128×128",
        "its central 64×64 pixels kept (the cutouts' 25.6″ × 25.6″)",
    )

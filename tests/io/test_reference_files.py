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

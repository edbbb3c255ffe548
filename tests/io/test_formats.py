"""Every supported format and layout opens from small generated files with the right pixels and metadata."""

from __future__ import annotations

import gzip
import tracemalloc

import h5py
import numpy as np
import pytest
from astropy.io import fits
from PIL import Image

from galview.core.errors import CollectionError
from galview.core.layout import detect_layout
from galview.io import open_collection


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def _celestial_header(ra: float, dec: float, height: int, width: int) -> fits.Header:
    header = fits.Header()
    header["CTYPE1"] = "RA---TAN"
    header["CTYPE2"] = "DEC--TAN"
    header["CRVAL1"] = ra
    header["CRVAL2"] = dec
    header["CRPIX1"] = (width + 1) / 2
    header["CRPIX2"] = (height + 1) / 2
    header["CD1_1"] = -1e-4
    header["CD1_2"] = 0.0
    header["CD2_1"] = 0.0
    header["CD2_2"] = 1e-4
    return header


# -- detect_layout -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "expected"),
    [
        ((10, 64, 64), "NHW"),
        ((0, 5, 5), "NHW"),
        ((10, 64, 64, 3), "NHWC"),
        ((10, 64, 64, 1), "NHWC"),
        ((10, 64, 64, 16), "NHWC"),
        ((10, 3, 64, 64), "NCHW"),
        ((10, 16, 64, 64), "NCHW"),
        ((10, 3, 8, 8), "NCHW"),  # both short: the shorter axis is the band axis
        ((10, 8, 8, 3), "NHWC"),
        ((10, 4, 10, 4), "NHWC"),  # tie goes to channels-last
        ((2, 5, 5, 5), "NHWC"),
    ],
)
def test_detect_layout(shape, expected):
    assert detect_layout(shape) == expected


@pytest.mark.parametrize("shape", [(), (5,), (5, 6), (2, 3, 4, 5, 6)])
def test_detect_layout_rejects_wrong_dimensions(shape):
    with pytest.raises(ValueError, match=r"expected a 3-D \(N, H, W\) or 4-D"):
        detect_layout(shape)


def test_detect_layout_rejects_stack_without_band_axis():
    with pytest.raises(ValueError, match="no band axis of at most 16 channels"):
        detect_layout((10, 64, 64, 32))
    with pytest.raises(ValueError, match="no band axis"):
        detect_layout((10, 17, 64, 17))


# -- .npy --------------------------------------------------------------------------------------


def test_npy_nhwc_float(tmp_path, rng):
    data = rng.normal(size=(5, 16, 12, 3)).astype(np.float32)
    path = tmp_path / "stack.npy"
    np.save(path, data)
    with open_collection(path) as c:
        assert len(c) == 5
        assert c.shape == (16, 12, 3)
        assert c.dtype == np.float32
        assert c.bands == ("band0", "band1", "band2")
        assert c.labels is None and not c.has_labels
        assert c.coords is None and c.ra is None and c.dec is None and not c.has_coords
        assert c.ids.tolist() == ["0", "1", "2", "3", "4"]
        assert c.id_of(3) == "3"
        assert c.wcs(0) is None
        for i in range(5):
            np.testing.assert_array_equal(c.get(i), data[i])
        assert c.describe() == {
            "n": 5,
            "shape": [16, 12, 3],
            "dtype": "float32",
            "bands": ["band0", "band1", "band2"],
            "has_labels": False,
            "has_coords": False,
        }


def test_npy_nchw(tmp_path, rng):
    data = rng.normal(size=(4, 3, 20, 24)).astype(np.float32)
    path = tmp_path / "chw.npy"
    np.save(path, data)
    c = open_collection(path)
    assert c.shape == (20, 24, 3)
    batch = c.get_batch([0, 1, 2, 3])
    assert batch.shape == (4, 20, 24, 3)
    assert batch.flags.c_contiguous
    np.testing.assert_array_equal(batch, np.moveaxis(data, 1, -1))
    # channel 2 of cutout 1 is plane data[1, 2]
    np.testing.assert_array_equal(c.get(1)[..., 2], data[1, 2])


def test_npy_nhw_greyscale(tmp_path, rng):
    data = rng.integers(0, 255, size=(6, 10, 14), dtype=np.uint8)
    path = tmp_path / "grey.npy"
    np.save(path, data)
    c = open_collection(path)
    assert len(c) == 6
    assert c.shape == (10, 14, 1)
    assert c.dtype == np.uint8
    assert c.bands == ("L",)
    np.testing.assert_array_equal(c.get(4), data[4][..., np.newaxis])


def test_npy_nhw_float_band_name(tmp_path):
    path = tmp_path / "f.npy"
    np.save(path, np.ones((2, 4, 4), dtype=np.float64))
    c = open_collection(path)
    assert c.bands == ("band0",)
    assert c.dtype == np.float64


def test_npy_uint8_rgb_stays_uint8(tmp_path, rng):
    data = rng.integers(0, 256, size=(3, 8, 8, 3), dtype=np.uint8)
    path = tmp_path / "rgb.npy"
    np.save(path, data)
    c = open_collection(path)
    assert c.dtype == np.uint8
    assert c.bands == ("R", "G", "B")
    batch = c.get_batch([2, 0])
    assert batch.dtype == np.uint8
    np.testing.assert_array_equal(batch, data[[2, 0]])


@pytest.mark.parametrize("dtype", [np.uint16, np.int16, np.int32, np.float64])
def test_npy_other_numeric_dtypes_are_kept(tmp_path, dtype):
    data = (np.arange(2 * 4 * 4 * 2) % 100).astype(dtype).reshape(2, 4, 4, 2)
    path = tmp_path / "d.npy"
    np.save(path, data)
    c = open_collection(path)
    assert c.dtype == np.dtype(dtype)
    out = c.get(1)
    assert out.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(out, data[1])


def test_npy_big_endian_comes_back_native(tmp_path, rng):
    data = rng.normal(size=(2, 6, 6, 2)).astype(">f4")
    path = tmp_path / "be.npy"
    np.save(path, data)
    c = open_collection(path)
    assert c.dtype == np.dtype("float32") and c.dtype.isnative
    out = c.get(0)
    assert out.dtype.isnative
    np.testing.assert_array_equal(out, data[0].astype(np.float32))


def test_npy_layout_override(tmp_path, rng):
    # (N, 4, 10, 4) looks channels-last (tie), but the user says channels-first
    data = rng.normal(size=(3, 4, 10, 4)).astype(np.float32)
    path = tmp_path / "ambiguous.npy"
    np.save(path, data)
    assert open_collection(path).shape == (4, 10, 4)
    c = open_collection(path, layout="NCHW")
    assert c.shape == (10, 4, 4)
    np.testing.assert_array_equal(c.get(2), np.moveaxis(data[2], 0, -1))
    # layouts are case-insensitive
    assert open_collection(path, layout="nchw").shape == (10, 4, 4)
    np.testing.assert_array_equal(open_collection(path, layout="NHWC").get(2), data[2])


def test_npy_layout_override_must_fit_array(tmp_path):
    path = tmp_path / "four_d.npy"
    np.save(path, np.zeros((2, 8, 8, 3), dtype=np.float32))
    with pytest.raises(CollectionError, match="layout NHW needs a 3-D array") as info:
        open_collection(path, layout="NHW")
    assert str(info.value).startswith(str(path))
    with pytest.raises(CollectionError, match="unknown layout 'XYZW'"):
        open_collection(path, layout="xyzw")


def test_npy_is_memory_mapped_not_loaded(tmp_path):
    n, h, w, ch = 1500, 64, 64, 3  # 18 MB on disk
    path = tmp_path / "big.npy"
    stack = np.lib.format.open_memmap(path, mode="w+", dtype=np.uint8, shape=(n, h, w, ch))
    stack[n - 1] = 7
    stack.flush()
    del stack

    tracemalloc.start()
    try:
        c = open_collection(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2_000_000, f"opening allocated {peak} bytes; the stack must stay on disk"
    assert isinstance(c._array, np.memmap)
    assert len(c) == n and c.shape == (h, w, ch)
    assert int(c.get(-1).min()) == 7 and int(c.get(0).max()) == 0

    # the collection reads through to the file: a write made after opening is visible
    writer = np.load(path, mmap_mode="r+")
    writer[3] = 200
    writer.flush()
    del writer
    assert int(c.get(3).min()) == 200


# -- .npz --------------------------------------------------------------------------------------


def test_npz_with_all_metadata(tmp_path, rng):
    images = rng.normal(size=(4, 12, 12, 3)).astype(np.float32)
    labels = np.array([1, 0, 1, -1], dtype=np.int8)
    ra = np.array([10.0, np.nan, 30.5, 40.25])
    dec = np.array([-1.0, np.nan, 2.0, -89.5])
    ids = np.array(["obj_a", "obj_b", "obj_c", "obj_d"])
    bands = np.array(["g", "r", "i"])
    path = tmp_path / "full.npz"
    np.savez(path, images=images, labels=labels, ra=ra, dec=dec, ids=ids, bands=bands)
    c = open_collection(path)
    assert len(c) == 4 and c.shape == (12, 12, 3)
    assert c.bands == ("g", "r", "i")
    assert c.has_labels and c.labels.tolist() == [1, 0, 1, -1]
    assert c.has_coords
    np.testing.assert_array_equal(c.ra, ra)
    np.testing.assert_array_equal(c.dec, dec)
    assert c.ra.dtype == np.float64
    assert c.ids.tolist() == ["obj_a", "obj_b", "obj_c", "obj_d"]
    assert c.id_of(2) == "obj_c"
    np.testing.assert_array_equal(c.get_batch([3, 1]), images[[3, 1]])
    assert c.describe()["bands"] == ["g", "r", "i"]
    assert c.describe()["has_coords"] is True


def test_npz_compressed_and_bytes_ids(tmp_path, rng):
    images = rng.integers(0, 256, size=(3, 8, 8, 3), dtype=np.uint8)
    path = tmp_path / "packed.npz"
    np.savez_compressed(path, images=images, ids=np.array([b"x1", b"x2", b"x3"]))
    c = open_collection(path)
    assert c.dtype == np.uint8
    assert c.ids.tolist() == ["x1", "x2", "x3"]
    assert c.id_of(1) == "x2"
    np.testing.assert_array_equal(c.get(2), images[2])


def test_npz_all_nan_coords_mean_no_coords(tmp_path):
    path = tmp_path / "nocoords.npz"
    nan = np.full(2, np.nan)
    np.savez(path, images=np.ones((2, 4, 4, 1), np.float32), ra=nan, dec=nan)
    c = open_collection(path)
    assert c.coords is None and not c.has_coords and c.ra is None


def test_npz_single_stack_under_other_name_and_named_dataset(tmp_path, rng):
    stamps = rng.normal(size=(3, 2, 9, 9)).astype(np.float32)
    path = tmp_path / "other.npz"
    np.savez(path, stamps=stamps, y=np.array([0, 1, 1]))
    c = open_collection(path)
    assert c.shape == (9, 9, 2)
    assert c.labels.tolist() == [0, 1, 1]
    np.testing.assert_array_equal(c.get(1), np.moveaxis(stamps[1], 0, -1))

    two = tmp_path / "two.npz"
    first = np.zeros((2, 8, 8, 1), np.float32)
    second = rng.normal(size=(5, 6, 6)).astype(np.float32)
    np.savez(two, first=first, second=second)
    c = open_collection(two, dataset="second")
    assert len(c) == 5 and c.shape == (6, 6, 1)
    np.testing.assert_array_equal(c.get(4)[..., 0], second[4])


def test_npz_images_key_wins_over_other_stacks(tmp_path):
    path = tmp_path / "keys.npz"
    np.savez(path, images=np.full((2, 5, 5, 1), 3.0), other=np.zeros((7, 5, 5, 1)))
    c = open_collection(path)
    assert len(c) == 2
    assert float(c.get(0).max()) == 3.0


# -- HDF5 --------------------------------------------------------------------------------------


def test_hdf5_finds_images_under_non_standard_name(tmp_path, rng):
    stamps = rng.normal(size=(6, 16, 16, 2)).astype(np.float32)
    path = tmp_path / "survey.h5"
    with h5py.File(path, "w") as f:
        f["meta/zp"] = np.arange(6.0)  # 1-D, not an image stack
        f["meta/psf"] = np.ones((5, 5))  # 2-D, not an image stack
        f["small"] = np.zeros((2, 4, 4), np.float32)  # smaller stack
        f["obs/stamps_v2"] = stamps
    with open_collection(path) as c:
        assert len(c) == 6
        assert c.shape == (16, 16, 2)
        np.testing.assert_array_equal(c.get_batch([5, 0]), stamps[[5, 0]])
        assert c.labels is None and c.coords is None


def test_hdf5_named_dataset(tmp_path, rng):
    big = np.zeros((10, 8, 8, 1), np.float32)
    wanted = rng.normal(size=(3, 8, 8)).astype(np.float32)
    path = tmp_path / "two.hdf5"
    with h5py.File(path, "w") as f:
        f["big"] = big
        f["group/wanted"] = wanted
    assert len(open_collection(path)) == 10  # default: the largest stack
    with open_collection(path, dataset="group/wanted") as c:
        assert len(c) == 3 and c.shape == (8, 8, 1)
        np.testing.assert_array_equal(c.get(2)[..., 0], wanted[2])


def test_hdf5_nested_group_with_sibling_metadata(tmp_path, rng):
    images = rng.integers(0, 256, size=(4, 10, 10, 3), dtype=np.uint8)
    path = tmp_path / "nested.h5"
    with h5py.File(path, "w") as f:
        g = f.create_group("run1/set_a")
        g["images"] = images
        g["labels"] = np.array([1, 1, 0, 0], dtype=np.int64)
        g["ra"] = np.array([150.1, 150.2, 150.3, 150.4])
        g["dec"] = np.array([2.1, 2.2, 2.3, 2.4])
        g["ids"] = np.array([b"J1", b"J2", b"J3", b"J4"])
        f["run1/other_labels"] = np.array([9, 9, 9, 9])
    with open_collection(path) as c:
        assert c.dtype == np.uint8 and c.bands == ("R", "G", "B")
        assert c.labels.tolist() == [1, 1, 0, 0]
        np.testing.assert_allclose(c.ra, [150.1, 150.2, 150.3, 150.4])
        np.testing.assert_allclose(c.dec, [2.1, 2.2, 2.3, 2.4])
        assert c.ids.tolist() == ["J1", "J2", "J3", "J4"]
        assert c.id_of(3) == "J4"
        np.testing.assert_array_equal(c.get(1), images[1])


def test_hdf5_root_level_labels_used_when_group_has_none(tmp_path):
    path = tmp_path / "rootlabels.h5"
    with h5py.File(path, "w") as f:
        f["data/cutouts"] = np.ones((3, 6, 6, 1), np.float32)
        f["y"] = np.array([0, 2, 1])
    with open_collection(path) as c:
        assert c.labels.tolist() == [0, 2, 1]


@pytest.mark.parametrize(
    ("attr", "expected"),
    [("grz", ("g", "r", "z")), ("F115W,F150W,F200W", ("F115W", "F150W", "F200W"))],
)
def test_hdf5_bands_attribute(tmp_path, attr, expected):
    path = tmp_path / "bands.h5"
    with h5py.File(path, "w") as f:
        f["images"] = np.ones((2, 8, 8, 3), np.float32)
        f["images"].attrs["bands"] = attr
    with open_collection(path) as c:
        assert c.bands == expected


def test_hdf5_bands_attribute_as_list_on_file(tmp_path):
    path = tmp_path / "filebands.h5"
    with h5py.File(path, "w") as f:
        f["images"] = np.ones((2, 8, 8, 2), np.float32)
        f.attrs["bands"] = ["u", "g"]
    with open_collection(path) as c:
        assert c.bands == ("u", "g")


def test_hdf5_channels_first_from_layout_attribute(tmp_path, rng):
    # (N, 4, 10, 4) would be detected as channels-last; the attribute says otherwise
    images = rng.normal(size=(3, 4, 10, 4)).astype(np.float32)
    path = tmp_path / "chw.h5"
    with h5py.File(path, "w") as f:
        f["stack"] = images
        f["stack"].attrs["layout"] = "NCHW"
        f["stack"].attrs["bands"] = "griz"
    with open_collection(path) as c:
        assert c.shape == (10, 4, 4)
        assert c.bands == ("g", "r", "i", "z")
        np.testing.assert_array_equal(c.get(0), np.moveaxis(images[0], 0, -1))
    # an explicit layout= wins over the attribute
    with open_collection(path, layout="NHWC") as c:
        assert c.shape == (4, 10, 4)


def test_hdf5_channels_first_bands_string_counts_channels_not_width(tmp_path):
    path = tmp_path / "chw_grz.h5"
    with h5py.File(path, "w") as f:
        f["images"] = np.ones((2, 3, 32, 32), np.float32)
        f["images"].attrs["layout"] = "NCHW"
        f["images"].attrs["bands"] = "grz"
    with open_collection(path) as c:
        assert c.shape == (32, 32, 3)
        assert c.bands == ("g", "r", "z")


def test_hdf5_non_contiguous_batch_from_chunked_dataset(tmp_path, rng):
    images = rng.normal(size=(20, 6, 6, 1)).astype(np.float32)
    path = tmp_path / "chunked.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("images", data=images, chunks=(4, 6, 6, 1), compression="gzip")
    with open_collection(path) as c:
        order = [19, 2, 3, 4, 11, 2, -1, 0]
        np.testing.assert_array_equal(c.get_batch(order), images[order])


# -- FITS --------------------------------------------------------------------------------------


def test_fits_single_image_with_wcs_and_filter(tmp_path, rng):
    data = rng.normal(size=(20, 30)).astype(np.float32)
    header = _celestial_header(150.0, 2.0, 20, 30)
    header["FILTER"] = "r"
    path = tmp_path / "obj42.fits"
    fits.writeto(path, data, header)
    with open_collection(path) as c:
        assert len(c) == 1
        assert c.shape == (20, 30, 1)
        assert c.bands == ("r",)
        assert c.ids.tolist() == ["obj42"]
        np.testing.assert_array_equal(c.get(0)[..., 0], data)
        assert c.has_coords
        assert c.ra[0] == pytest.approx(150.0, abs=1e-9)
        assert c.dec[0] == pytest.approx(2.0, abs=1e-9)
        wcs = c.wcs(0)
        assert wcs is not None and wcs.has_celestial
        ra, dec = wcs.all_pix2world([[0, 0]], 0)[0]
        assert ra == pytest.approx(150.0 + 14.5e-4 / np.cos(np.radians(2.0)), abs=1e-6)
        assert dec == pytest.approx(2.0 - 9.5e-4, abs=1e-6)


def test_fits_cube_chw_with_bands_keyword(tmp_path, rng):
    cube = rng.normal(size=(3, 12, 16)).astype(np.float32)
    header = fits.Header()
    header["BANDS"] = "grz"
    path = tmp_path / "cube.fits"
    fits.writeto(path, cube, header)
    with open_collection(path) as c:
        assert len(c) == 1
        assert c.shape == (12, 16, 3)
        assert c.bands == ("g", "r", "z")
        assert not c.has_coords and c.wcs(0) is None
        np.testing.assert_array_equal(c.get(0), np.moveaxis(cube, 0, -1))


def test_fits_cube_band_keywords(tmp_path):
    header = fits.Header()
    header["BAND0"] = "u"
    header["BAND1"] = "i"
    path = tmp_path / "two_band.fits"
    fits.writeto(path, np.ones((2, 5, 5), np.float32), header)
    with open_collection(path) as c:
        assert c.bands == ("u", "i")


def test_fits_stack_nchw(tmp_path, rng):
    stack = rng.normal(size=(5, 2, 8, 10)).astype(np.float32)
    path = tmp_path / "stack.fits"
    fits.writeto(path, stack)
    with open_collection(path) as c:
        assert len(c) == 5
        assert c.shape == (8, 10, 2)
        assert c.ids.tolist() == ["0", "1", "2", "3", "4"]
        assert c.wcs(0) is None
        np.testing.assert_array_equal(c.get_batch([4, 1, 4]), np.moveaxis(stack[[4, 1, 4]], 1, -1))


def test_fits_3d_with_long_first_axis_is_a_stack_of_images(tmp_path, rng):
    stack = rng.normal(size=(20, 8, 9)).astype(np.float32)
    path = tmp_path / "images.fits"
    fits.writeto(path, stack)
    with open_collection(path) as c:
        assert len(c) == 20 and c.shape == (8, 9, 1)
        np.testing.assert_array_equal(c.get(17)[..., 0], stack[17])
    with open_collection(path, layout="CHW") as c:
        assert len(c) == 1 and c.shape == (8, 9, 20)


def test_fits_image_in_extension_hdu(tmp_path, rng):
    data = rng.normal(size=(7, 7)).astype(np.float32)
    path = tmp_path / "ext.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(data)]).writeto(path)
    with open_collection(path) as c:
        assert c.shape == (7, 7, 1)
        np.testing.assert_array_equal(c.get(0)[..., 0], data)


def test_fits_big_endian_float_comes_back_native_float32(tmp_path, rng):
    data = rng.normal(size=(3, 6, 6)).astype(">f4")
    path = tmp_path / "be.fits"
    fits.writeto(path, data)
    with fits.open(path) as hdul:
        assert hdul[0].data.dtype.byteorder == ">"  # stored big-endian, as FITS requires
    with open_collection(path) as c:
        assert c.dtype == np.dtype("float32") and c.dtype.isnative
        out = c.get(0)
        assert out.dtype == np.float32 and out.dtype.isnative
        np.testing.assert_array_equal(out, np.moveaxis(data.astype(np.float32), 0, -1))


def test_fits_uint8_and_int16_keep_their_type(tmp_path):
    path8 = tmp_path / "u8.fits"
    fits.writeto(path8, np.arange(64, dtype=np.uint8).reshape(8, 8))
    with open_collection(path8) as c:
        assert c.dtype == np.uint8
        assert c.get(0)[7, 7, 0] == 63
    path16 = tmp_path / "i16.fits"
    fits.writeto(path16, (np.arange(64, dtype=np.int16) - 32).reshape(8, 8))
    with open_collection(path16) as c:
        assert c.dtype == np.dtype(np.int16) and c.dtype.isnative
        assert c.get(0)[0, 0, 0] == -32


def test_gzipped_fits_opens(tmp_path, rng):
    data = rng.normal(size=(6, 6)).astype(np.float32)
    plain = tmp_path / "plain.fits"
    fits.writeto(plain, data)
    path = tmp_path / "img.fits.gz"
    path.write_bytes(gzip.compress(plain.read_bytes()))
    with open_collection(path) as c:
        assert c.shape == (6, 6, 1)
        np.testing.assert_array_equal(c.get(0)[..., 0], data)


def test_fits_folder_with_labels_csv(tmp_path, rng):
    folder = tmp_path / "fits_dir"
    folder.mkdir()
    cubes = {}
    for k, name in enumerate(["c_obj", "a_obj", "b_obj"]):
        cube = rng.normal(size=(2, 10, 10)).astype(np.float32)
        header = _celestial_header(100.0 + k, -30.0 + k, 10, 10)
        header["BAND0"] = "g"
        header["BAND1"] = "r"
        fits.writeto(folder / f"{name}.fits", cube, header)
        cubes[name] = cube
    (folder / "labels.csv").write_text("filename,label\nb_obj.fits,1\na_obj.fits,0\n")
    (folder / "notes.txt").write_text("not a cutout")
    with open_collection(folder) as c:
        assert len(c) == 3
        assert c.shape == (10, 10, 2)
        assert c.bands == ("g", "r")
        assert c.ids.tolist() == ["a_obj", "b_obj", "c_obj"]  # sorted by file name
        assert c.labels.tolist() == [0, 1, -1]  # c_obj is not in the table
        np.testing.assert_allclose(c.ra, [101.0, 102.0, 100.0], atol=1e-9)
        np.testing.assert_allclose(c.dec, [-29.0, -28.0, -30.0], atol=1e-9)
        assert c.wcs(2) is not None
        for i, name in enumerate(["a_obj", "b_obj", "c_obj"]):
            np.testing.assert_array_equal(c.get(i), np.moveaxis(cubes[name], 0, -1))
        assert c.describe()["has_labels"] is True


def test_fits_folder_table_coords_and_ids_take_precedence(tmp_path):
    folder = tmp_path / "fits_tab"
    folder.mkdir()
    for name in ("one", "two"):
        fits.writeto(folder / f"{name}.fits", np.ones((6, 6), np.float32))
    (folder / "labels.csv").write_text(
        "file,id,ra,dec,class\none.fits,OBJ-1,10.5,-5.5,2\ntwo.fits,OBJ-2,11.5,-6.5,3\n"
    )
    with open_collection(folder) as c:
        assert c.shape == (6, 6, 1)
        assert c.ids.tolist() == ["OBJ-1", "OBJ-2"]
        assert c.labels.tolist() == [2, 3]
        np.testing.assert_array_equal(c.ra, [10.5, 11.5])
        np.testing.assert_array_equal(c.dec, [-5.5, -6.5])


# -- PNG / JPEG --------------------------------------------------------------------------------


def _write_images(folder, arrays, suffix=".png", **save_kw):
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, array in arrays.items():
        path = folder / f"{name}{suffix}"
        Image.fromarray(array).save(path, **save_kw)
        paths.append(path)
    return paths


def test_png_folder_with_labels_csv(tmp_path, rng):
    arrays = {f"gal_{i:02d}": rng.integers(0, 256, size=(12, 14, 3), dtype=np.uint8) for i in range(4)}
    folder = tmp_path / "pngs"
    _write_images(folder, arrays)
    (folder / "labels.csv").write_text(
        "filename,ring\ngal_03.png,1\ngal_00.png,0\ngal_01.png,1\nmissing.png,1\ngal_02.png,\n"
    )
    with open_collection(folder) as c:
        assert len(c) == 4
        assert c.shape == (12, 14, 3)
        assert c.dtype == np.uint8
        assert c.bands == ("R", "G", "B")
        assert c.ids.tolist() == ["gal_00", "gal_01", "gal_02", "gal_03"]
        assert c.labels.tolist() == [0, 1, -1, 1]  # empty cell: unlabelled
        assert not c.has_coords
        for i, name in enumerate(sorted(arrays)):
            np.testing.assert_array_equal(c.get(i), arrays[name])


def test_png_folder_table_with_coords(tmp_path, rng):
    arrays = {n: rng.integers(0, 256, size=(6, 6, 3), dtype=np.uint8) for n in ("a", "b")}
    folder = tmp_path / "coords"
    _write_images(folder, arrays)
    (folder / "labels.csv").write_text("image,ra,dec,label\nb.png,20.0,-1.5,1\na.png,10.0,,0\n")
    with open_collection(folder) as c:
        assert c.has_coords
        np.testing.assert_array_equal(c.ra, [10.0, 20.0])
        np.testing.assert_array_equal(c.dec, [np.nan, -1.5])
        assert c.labels.tolist() == [0, 1]


def test_jpeg_folder(tmp_path, rng):
    arrays = {f"j{i}": rng.integers(0, 256, size=(16, 16, 3), dtype=np.uint8) for i in range(3)}
    folder = tmp_path / "jpegs"
    paths = _write_images(folder, arrays, suffix=".jpg", quality=90)
    (folder / "labels.csv").write_text("filename,label\nj0.jpg,1\nj1.jpg,0\nj2.jpg,1\n")
    with open_collection(folder) as c:
        assert len(c) == 3 and c.shape == (16, 16, 3) and c.dtype == np.uint8
        assert c.labels.tolist() == [1, 0, 1]
        for i, path in enumerate(paths):
            with Image.open(path) as image:
                np.testing.assert_array_equal(c.get(i), np.asarray(image))


def test_greyscale_png_folder_has_one_channel(tmp_path, rng):
    arrays = {f"g{i}": rng.integers(0, 256, size=(9, 11), dtype=np.uint8) for i in range(3)}
    folder = tmp_path / "grey"
    _write_images(folder, arrays)
    with open_collection(folder) as c:
        assert c.shape == (9, 11, 1)
        assert c.bands == ("L",)
        assert c.labels is None
        np.testing.assert_array_equal(c.get(1)[..., 0], arrays["g1"])


def test_rgba_png_becomes_rgb(tmp_path, rng):
    rgba = rng.integers(0, 256, size=(5, 5, 4), dtype=np.uint8)
    folder = tmp_path / "rgba"
    _write_images(folder, {"a": rgba, "b": rgba})
    with open_collection(folder) as c:
        assert c.shape == (5, 5, 3)
        with Image.open(folder / "a.png") as image:
            np.testing.assert_array_equal(c.get(0), np.asarray(image.convert("RGB")))


def test_images_in_images_subfolder_with_table_beside(tmp_path, rng):
    arrays = {f"s{i}": rng.integers(0, 256, size=(8, 8, 3), dtype=np.uint8) for i in range(3)}
    root = tmp_path / "dataset"
    _write_images(root / "images", arrays)
    (root / "labels.csv").write_text("filename,iauname,ring\ns2.png,J2,1\ns0.png,J0,0\ns1.png,J1,1\n")
    with open_collection(root) as c:
        assert len(c) == 3
        assert c.source == root
        assert [p.name for p in c.files] == ["s0.png", "s1.png", "s2.png"]
        assert c.ids.tolist() == ["J0", "J1", "J2"]
        assert c.labels.tolist() == [0, 1, 1]
        np.testing.assert_array_equal(c.get(2), arrays["s2"])


def test_single_png_file(tmp_path, rng):
    array = rng.integers(0, 256, size=(7, 9, 3), dtype=np.uint8)
    path = tmp_path / "one.png"
    Image.fromarray(array).save(path)
    with open_collection(path) as c:
        assert len(c) == 1 and c.shape == (7, 9, 3)
        assert c.ids.tolist() == ["one"]
        np.testing.assert_array_equal(c.get(0), array)


def test_format_detected_from_content_not_suffix(tmp_path, rng):
    data = rng.normal(size=(2, 5, 5)).astype(np.float32)
    path = tmp_path / "really_npy.dat"
    with open(path, "wb") as handle:
        np.save(handle, data)
    c = open_collection(path)
    assert c.shape == (5, 5, 1)
    np.testing.assert_array_equal(c.get(1)[..., 0], data[1])


# -- get_batch semantics -----------------------------------------------------------------------


@pytest.fixture(params=["npy", "hdf5", "fits", "png"])
def numbered(request, tmp_path):
    """A 5-cutout collection whose cutout i is filled with the value i, in several formats."""
    values = np.arange(5, dtype=np.uint8)
    stack = np.broadcast_to(values[:, None, None, None], (5, 4, 6, 3)).copy()
    if request.param == "npy":
        path = tmp_path / "n.npy"
        np.save(path, stack)
    elif request.param == "hdf5":
        path = tmp_path / "n.h5"
        with h5py.File(path, "w") as f:
            f["images"] = stack
    elif request.param == "fits":
        path = tmp_path / "n.fits"
        fits.writeto(path, np.ascontiguousarray(np.moveaxis(stack, -1, 1)))
    else:
        path = tmp_path / "pngs"
        _write_images(path, {f"im{i}": stack[i] for i in range(5)})
    with open_collection(path) as c:
        yield c


def _values(batch):
    assert batch.ndim == 4 and batch.shape[1:] == (4, 6, 3)
    return [int(b.min()) if b.min() == b.max() else None for b in batch]


def test_get_batch_order_repeats_and_negatives(numbered):
    c = numbered
    assert c.dtype == np.uint8
    assert _values(c.get_batch([4, 0, 2])) == [4, 0, 2]
    assert _values(c.get_batch([3, 3, 1, 3])) == [3, 3, 1, 3]
    assert _values(c.get_batch([-1, -5, 0])) == [4, 0, 0]
    assert _values(c.get_batch(np.array([2, 1]))) == [2, 1]
    assert _values(c.get_batch(range(5))) == [0, 1, 2, 3, 4]
    assert int(c.get(-2).max()) == 3
    empty = c.get_batch([])
    assert empty.shape == (0, 4, 6, 3) and empty.dtype == np.uint8


@pytest.mark.parametrize("bad", [[5], [0, 5], [-6], [2, -7]])
def test_get_batch_out_of_range_raises_index_error(numbered, bad):
    with pytest.raises(IndexError, match="out of range for a collection of 5"):
        numbered.get_batch(bad)


def test_get_out_of_range_raises_index_error(numbered):
    with pytest.raises(IndexError):
        numbered.get(5)
    with pytest.raises(IndexError):
        numbered.get(-6)


def test_the_index_as_id_is_as_narrow_as_the_largest_index():
    """A million ids as ``astype(str)`` made them: 84 MB of 21-character strings; now 28 MB."""
    from galview.core.collection import ArrayCollection

    for n, width in ((1, 1), (10, 1), (11, 2), (1000, 3), (1001, 4)):
        ids = ArrayCollection("memory", np.zeros((n, 2, 2, 3), np.uint8), "NHWC").ids
        assert ids.dtype == np.dtype(f"U{width}") and ids.tolist() == [str(i) for i in range(n)]

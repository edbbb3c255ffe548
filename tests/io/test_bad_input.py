"""Bad input raises CollectionError naming the file and what was expected, never a raw exception."""

from __future__ import annotations

import os
import pickle

import h5py
import numpy as np
import pytest
from astropy.io import fits
from PIL import Image

from galview.core.errors import CollectionError
from galview.io import open_collection

SUPPORTED = ".npy, .npz, HDF5 (.h5/.hdf5), FITS, PNG/JPEG, or a folder of FITS or PNG/JPEG files"


def _check(exc_info, path, *fragments):
    """The error is exactly a CollectionError that starts with ``path`` and mentions ``fragments``."""
    error = exc_info.value
    assert type(error) is CollectionError
    assert isinstance(error, ValueError)
    message = str(error)
    assert message.startswith(f"{path}: "), message
    assert error.path == str(path)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    return message


def _open_fails(path, *fragments, **options):
    with pytest.raises(CollectionError) as info:
        open_collection(path, **options)
    return _check(info, path, *fragments)


def _read_fails(collection, index, path, *fragments):
    with pytest.raises(CollectionError) as info:
        collection.get_batch(index if isinstance(index, list) else [index])
    return _check(info, path, *fragments)


def _rgb(rng, h=8, w=8):
    return rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)


@pytest.fixture
def rng():
    return np.random.default_rng(7)


class _Payload:
    """Unpickling this creates ``marker``: proof that a file was unpickled."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


# -- paths and formats -------------------------------------------------------------------------


def test_missing_path(tmp_path):
    _open_fails(tmp_path / "nowhere.npy", "no such file or folder")


def test_missing_path_given_as_string(tmp_path):
    path = str(tmp_path / "gone" / "cutouts.h5")
    with pytest.raises(CollectionError) as info:
        open_collection(path)
    _check(info, path, "no such file or folder")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.npy"
    path.write_bytes(b"")
    _open_fails(path, "is empty; expected", SUPPORTED)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("noise.bin", np.random.default_rng(1).integers(0, 256, 200, dtype=np.uint8).tobytes()),
        ("notes.txt", b"ra,dec\n1,2\n"),
        ("cutouts.npy", b"definitely not numpy"),
        ("table.fits", b"XTENSION= 'BINTABLE'"),
    ],
)
def test_unknown_format(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    _open_fails(path, "is not a format GalView knows; expected", SUPPORTED)


# -- truncated and corrupt files ---------------------------------------------------------------


def test_truncated_npy_data(tmp_path):
    path = tmp_path / "cut.npy"
    np.save(path, np.ones((10, 16, 16, 3), np.float32))
    full = path.read_bytes()
    path.write_bytes(full[: len(full) // 2])
    _open_fails(path, "is truncated", "fewer bytes than its header announces")


def test_truncated_npy_header(tmp_path):
    path = tmp_path / "cut_header.npy"
    np.save(path, np.ones((10, 16, 16, 3), np.float32))
    path.write_bytes(path.read_bytes()[:40])
    _open_fails(path, "is not a valid .npy file", "damaged header: the file ends 88 bytes short")


def test_truncated_npz(tmp_path):
    path = tmp_path / "cut.npz"
    np.savez(path, images=np.ones((10, 16, 16, 3), np.float32), labels=np.zeros(10))
    full = path.read_bytes()
    path.write_bytes(full[: len(full) // 2])
    _open_fails(path, "is not a readable .npz archive")


def test_corrupt_zip_magic_npz(tmp_path):
    path = tmp_path / "junk.npz"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 50)
    _open_fails(path, "is not a readable .npz archive")


@pytest.mark.parametrize("keep", [0.5, 0.05])
def test_truncated_hdf5(tmp_path, keep):
    path = tmp_path / "cut.h5"
    with h5py.File(path, "w") as f:
        f["images"] = np.ones((8, 16, 16, 3), np.float32)
        f["labels"] = np.zeros(8)
    full = path.read_bytes()
    path.write_bytes(full[: int(len(full) * keep)])
    _open_fails(path, "is not a readable HDF5 file, truncated or corrupt")


def test_truncated_fits_data(tmp_path):
    path = tmp_path / "cut.fits"
    fits.writeto(path, np.ones((4, 2, 16, 16), np.float32))
    full = path.read_bytes()
    path.write_bytes(full[: 2880 + 500])
    message = _open_fails(path, "is truncated", "header announces")
    assert f"the file holds {2880 + 500}" in message


def test_truncated_fits_header(tmp_path):
    path = tmp_path / "cut_header.fits"
    fits.writeto(path, np.ones((16, 16), np.float32))
    path.write_bytes(path.read_bytes()[:500])
    _open_fails(path, "is not a readable FITS file, truncated or corrupt")


@pytest.mark.parametrize("damaged", [1, 0])  # a truncated first file leaves the folder open too
def test_truncated_fits_in_folder_raises_when_read(tmp_path, damaged):
    folder = tmp_path / "fits_dir"
    folder.mkdir()
    for name in ("a", "b", "c"):
        fits.writeto(folder / f"{name}.fits", np.ones((2, 12, 12), np.float32))
    bad = folder / f"{'ab'[damaged]}.fits"
    bad.write_bytes(bad.read_bytes()[:3000])
    c = open_collection(folder)
    assert len(c) == 3
    assert c.get(1 - damaged).shape == (12, 12, 2)
    _read_fails(c, damaged, bad, "is truncated")


@pytest.mark.parametrize("damage", ["truncate_data", "truncate_header", "scramble"])
def test_corrupt_png_in_folder_raises_naming_that_png(tmp_path, rng, damage):
    folder = tmp_path / "pngs"
    folder.mkdir()
    for i in range(3):
        Image.fromarray(rng.integers(0, 256, size=(64, 64, 3), dtype=np.uint8)).save(folder / f"im{i}.png")
    bad = folder / "im1.png"
    raw = bytearray(bad.read_bytes())
    if damage == "truncate_data":
        raw = raw[: len(raw) // 2]
    elif damage == "truncate_header":
        raw = raw[:30]
    else:
        raw[200:400] = bytes(200)
    bad.write_bytes(bytes(raw))
    c = open_collection(folder)  # only the first image is read on opening
    assert len(c) == 3
    assert c.get(0).shape == (64, 64, 3)
    assert c.get(2).shape == (64, 64, 3)
    _read_fails(c, 1, bad, "im1.png", "is not a readable PNG/JPEG image, truncated or corrupt")
    _read_fails(c, [2, 1, 0], bad, "im1.png")


def test_a_corrupt_first_png_leaves_the_folder_open_and_fails_when_read(tmp_path, rng):
    """The folder's size and mode come from the first image that reads; only a folder whose first
    images all fail to read is refused on opening."""
    folder = tmp_path / "pngs"
    folder.mkdir()
    (folder / "a.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    Image.fromarray(_rgb(rng)).save(folder / "b.png")
    c = open_collection(folder)
    assert len(c) == 2 and c.get(1).shape == _rgb(rng).shape
    _read_fails(c, 0, folder / "a.png", "is not a readable PNG/JPEG image, truncated or corrupt")
    (folder / "b.png").write_bytes(b"not an image either")
    with pytest.raises(CollectionError) as info:
        open_collection(folder)
    _check(info, folder / "a.png", "is not a readable PNG/JPEG image, truncated or corrupt")


def test_truncated_single_jpeg(tmp_path, rng):
    path = tmp_path / "cut.jpg"
    Image.fromarray(rng.integers(0, 256, size=(64, 64, 3), dtype=np.uint8)).save(path, quality=95)
    path.write_bytes(path.read_bytes()[:20])
    _open_fails(path, "is not a readable PNG/JPEG image, truncated or corrupt")


def test_mixed_image_sizes_in_folder(tmp_path, rng):
    folder = tmp_path / "mixed"
    folder.mkdir()
    Image.fromarray(_rgb(rng, 10, 12)).save(folder / "a.png")
    Image.fromarray(_rgb(rng, 10, 12)).save(folder / "b.png")
    Image.fromarray(_rgb(rng, 14, 12)).save(folder / "c.png")
    # refused on opening, from the headers: the odd image is never decoded (issue 11)
    with pytest.raises(CollectionError) as info:
        open_collection(folder)
    _check(info, folder / "c.png", "is 12×14×3 uint8; expected 12×10×3 uint8 like the first image")


def test_mixed_colour_modes_in_folder(tmp_path, rng):
    folder = tmp_path / "modes"
    folder.mkdir()
    Image.fromarray(_rgb(rng)).save(folder / "a.png")
    Image.fromarray(rng.integers(0, 256, size=(8, 8), dtype=np.uint8)).save(folder / "b.png")
    with pytest.raises(CollectionError) as info:
        open_collection(folder)
    _check(info, folder / "b.png", "is 8×8×1 uint8; expected 8×8×3 uint8")


def test_mixed_fits_shapes_in_folder(tmp_path):
    folder = tmp_path / "fits_mixed"
    folder.mkdir()
    fits.writeto(folder / "a.fits", np.ones((3, 10, 10), np.float32))
    fits.writeto(folder / "b.fits", np.ones((3, 10, 12), np.float32))
    c = open_collection(folder)
    _read_fails(c, 1, folder / "b.fits", "holds shape (3, 10, 12); expected (3, 10, 10) like the first file")


def test_fits_stack_in_folder_of_cutouts(tmp_path):
    folder = tmp_path / "fits_stack"
    folder.mkdir()
    fits.writeto(folder / "a.fits", np.ones((2, 3, 10, 10), np.float32))
    with pytest.raises(CollectionError) as info:
        open_collection(folder)
    _check(info, folder / "a.fits", "expected one cutout, (H, W) or (C, H, W)")


# -- wrong dimensions, dtypes and sizes ------------------------------------------------------------


@pytest.mark.parametrize("shape", [(64,), (64, 64), (2, 3, 8, 8, 4)])
def test_npy_wrong_dimensions(tmp_path, shape):
    path = tmp_path / "dims.npy"
    np.save(path, np.ones(shape, np.float32))
    _open_fails(path, "expected a 3-D (N, H, W) or 4-D (N, H, W, C) array", f"found shape {shape}")


def test_npy_without_band_axis(tmp_path):
    path = tmp_path / "wide.npy"
    np.save(path, np.ones((2, 20, 20, 20), np.float32))
    _open_fails(path, "no band axis of at most 16 channels")


def test_npz_wrong_dimensions(tmp_path):
    path = tmp_path / "dims.npz"
    np.savez(path, images=np.ones((64, 64), np.float32))
    _open_fails(path, "expected a 3-D (N, H, W) or 4-D (N, H, W, C) array")


def test_fits_five_dimensional(tmp_path):
    path = tmp_path / "five.fits"
    fits.writeto(path, np.ones((2, 2, 3, 8, 8), np.float32))
    _open_fails(path, "image has 5 axes; expected 2 (H, W), 3 (C, H, W) or 4 (N, C, H, W)")


def test_fits_without_image(tmp_path):
    path = tmp_path / "one_d.fits"
    fits.writeto(path, np.ones(16, np.float32))
    _open_fails(path, "has no image HDU; expected a 2-D image")
    table = tmp_path / "table.fits"
    cols = fits.ColDefs([fits.Column(name="ra", format="D", array=np.array([1.0, 2.0]))])
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(cols)]).writeto(table)
    _open_fails(table, "has no image HDU")


@pytest.mark.parametrize("fmt", ["npy", "npz", "hdf5"])
def test_zero_cutouts(tmp_path, fmt):
    empty = np.zeros((0, 64, 64, 3), np.uint8)
    path = tmp_path / f"none.{fmt}"
    if fmt == "npy":
        np.save(path, empty)
    elif fmt == "npz":
        np.savez(path, images=empty)
    else:
        with h5py.File(path, "w") as f:
            f["images"] = empty
    _open_fails(path, "holds zero cutouts; expected at least one")


def test_cutouts_too_small(tmp_path):
    path = tmp_path / "tiny.npy"
    np.save(path, np.ones((5, 1, 8), np.float32))
    _open_fails(path, "cutouts of 1×8 pixels are too small; expected at least 2×2")


@pytest.mark.parametrize(("dtype", "shown"), [(np.complex64, "complex64"), (np.bool_, "bool"), ("U3", "<U3")])
def test_non_numeric_pixels_npy(tmp_path, dtype, shown):
    path = tmp_path / "odd.npy"
    np.save(path, np.zeros((2, 4, 4), dtype=dtype))
    _open_fails(path, "expected numeric pixel values (integer or float)", f"found dtype {shown}")


def test_hdf5_without_image_stack(tmp_path):
    path = tmp_path / "flat.h5"
    with h5py.File(path, "w") as f:
        f["catalog/ra"] = np.arange(5.0)
        f["psf"] = np.ones((9, 9))
        f["names"] = np.array([[[b"a", b"b"]]])  # 3-D but text
    message = _open_fails(path, "has no 3-D or 4-D numeric image dataset")
    assert "catalog/ra (5,)" in message and "psf (9, 9)" in message


def test_hdf5_empty_file(tmp_path):
    path = tmp_path / "nothing.h5"
    with h5py.File(path, "w"):
        pass
    _open_fails(path, "has no 3-D or 4-D numeric image dataset (found no datasets)")


def test_hdf5_named_dataset_missing(tmp_path):
    path = tmp_path / "named.h5"
    with h5py.File(path, "w") as f:
        f["grp/images"] = np.ones((2, 8, 8), np.float32)
    _open_fails(path, "has no dataset 'cutouts' (found grp/images)", dataset="cutouts")


def test_hdf5_named_dataset_not_numeric(tmp_path):
    path = tmp_path / "strings.h5"
    with h5py.File(path, "w") as f:
        f["images"] = np.ones((2, 8, 8), np.float32)
        f["names"] = np.array([b"a", b"b"])
    _open_fails(path, "dataset 'names' has dtype", "expected numeric pixels", dataset="names")


# -- Python objects never unpickled ------------------------------------------------------------


def test_object_npy_is_refused_without_unpickling(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.npy"
    np.save(path, np.array([_Payload(marker), None], dtype=object), allow_pickle=True)
    _open_fails(path, "holds Python objects, which GalView never unpickles; expected a numeric array")
    assert not marker.exists()
    # the payload is real: numpy with allow_pickle=True would run it
    np.load(path, allow_pickle=True)
    assert marker.is_dir()


def test_object_4d_npy_is_refused(tmp_path):
    path = tmp_path / "objects4d.npy"
    np.save(path, np.empty((2, 4, 4, 3), dtype=object), allow_pickle=True)
    _open_fails(path, "holds Python objects", "expected a numeric array")


def test_object_images_in_npz_are_refused_without_unpickling(tmp_path):
    marker = tmp_path / "pwned_images"
    images = np.empty((2, 4, 4, 1), dtype=object)
    images[0, 0, 0, 0] = _Payload(marker)
    path = tmp_path / "evil_images.npz"
    np.savez(path, images=images)
    _open_fails(path, "array 'images' holds Python objects; expected numeric pixels")
    assert not marker.exists()


def test_object_labels_in_npz_are_refused_without_unpickling(tmp_path):
    marker = tmp_path / "pwned_labels"
    path = tmp_path / "evil_labels.npz"
    labels = np.array([_Payload(marker), 1], dtype=object)
    np.savez(path, images=np.ones((2, 4, 4, 1), np.float32), labels=labels)
    _open_fails(path, "array 'labels' holds Python objects; expected numbers or text")
    assert not marker.exists()
    with np.load(path, allow_pickle=True) as archive:
        archive["labels"]
    assert marker.is_dir()  # the payload is real


def test_pickle_file_is_not_a_format(tmp_path):
    marker = tmp_path / "pwned_pickle"
    path = tmp_path / "cutouts.pkl"
    path.write_bytes(pickle.dumps(_Payload(marker)))
    _open_fails(path, "is not a format GalView knows")
    assert not marker.exists()


# -- npz structure -----------------------------------------------------------------------------


def test_npz_without_images(tmp_path):
    path = tmp_path / "labels_only.npz"
    np.savez(path, labels=np.zeros(4), ra=np.zeros(4))
    _open_fails(path, "has no 'images' array (found labels, ra); expected images of shape (N, H, W, C)")


def test_npz_with_two_unnamed_stacks_is_ambiguous(tmp_path):
    path = tmp_path / "two.npz"
    np.savez(path, a=np.ones((2, 8, 8, 1)), b=np.ones((3, 8, 8, 1)))
    _open_fails(path, "has no 'images' array (found a, b)")


def test_npz_named_dataset_missing(tmp_path):
    path = tmp_path / "named.npz"
    np.savez(path, images=np.ones((2, 8, 8, 1)), extra=np.ones((2, 8, 8, 1)))
    # 'stamps' is not there: no falling back to another array (issue 11)
    _open_fails(path, "has no array 'stamps' (found images, extra)", dataset="stamps")


# -- pixels without finite values --------------------------------------------------------------


@pytest.fixture(params=["npy", "hdf5", "fits"])
def nan_stack(request, tmp_path):
    """Cutout 0 all NaN, 1 all +/-Inf, 2 mixed NaN/Inf, 3 valid with a few NaN pixels."""
    stack = np.ones((4, 6, 6, 2), np.float32)
    stack[0] = np.nan
    stack[1] = np.inf
    stack[1, 0, 0, 0] = -np.inf
    stack[2] = np.nan
    stack[2, 3] = np.inf
    stack[3, 0, 0, 0] = np.nan
    stack[3, 5, 5, 1] = np.nan
    stack[3, 2, 2, 0] = 42.0
    if request.param == "npy":
        path = tmp_path / "nan.npy"
        np.save(path, stack)
    elif request.param == "hdf5":
        path = tmp_path / "nan.h5"
        with h5py.File(path, "w") as f:
            f["images"] = stack
    else:
        path = tmp_path / "nan.fits"
        fits.writeto(path, np.ascontiguousarray(np.moveaxis(stack, -1, 1)))
    with open_collection(path) as c:
        yield path, c


@pytest.mark.parametrize("index", [0, 1, 2])
def test_non_finite_cutout_raises_when_read(nan_stack, index):
    path, c = nan_stack
    _read_fails(c, index, path, f"cutout {index} has no finite pixel (all NaN/Inf); expected image data")
    # also inside a batch with good cutouts, and via a negative index
    _read_fails(c, [3, index], path, f"cutout {index} has no finite pixel")
    _read_fails(c, index - 4, path, f"cutout {index} has no finite pixel")


def test_cutout_with_a_few_nan_pixels_reads_fine(nan_stack):
    path, c = nan_stack
    cutout = c.get(3)
    assert cutout.shape == (6, 6, 2)
    assert int(np.isnan(cutout).sum()) == 2
    assert np.isnan(cutout[0, 0, 0]) and np.isnan(cutout[5, 5, 1])
    assert cutout[2, 2, 0] == 42.0
    assert float(np.nansum(cutout)) == 42.0 + (6 * 6 * 2 - 3)


def test_all_nan_cutout_in_fits_folder(tmp_path):
    folder = tmp_path / "nan_dir"
    folder.mkdir()
    fits.writeto(folder / "a.fits", np.ones((8, 8), np.float32))
    fits.writeto(folder / "b.fits", np.full((8, 8), np.nan, np.float32))
    c = open_collection(folder)
    assert float(c.get(0).sum()) == 64.0
    _read_fails(c, 1, folder, "cutout 1 has no finite pixel")


# -- metadata of the wrong length --------------------------------------------------------------


def test_npz_labels_of_wrong_length(tmp_path):
    path = tmp_path / "short_labels.npz"
    np.savez(path, images=np.ones((5, 8, 8, 1), np.float32), labels=np.array([0, 1, 0]))
    c = open_collection(path)
    assert len(c) == 5
    with pytest.raises(CollectionError) as info:
        c.labels  # noqa: B018
    _check(info, path, "has 3 labels for 5 cutouts; expected one per cutout")
    with pytest.raises(CollectionError):
        c.has_labels  # noqa: B018


def test_hdf5_labels_of_wrong_length(tmp_path):
    path = tmp_path / "long_labels.h5"
    with h5py.File(path, "w") as f:
        f["images"] = np.ones((3, 8, 8), np.float32)
        f["labels"] = np.arange(7)
    with open_collection(path) as c:
        with pytest.raises(CollectionError) as info:
            c.labels  # noqa: B018
        _check(info, path, "has 7 labels for 3 cutouts; expected one per cutout")


def test_npz_coords_and_ids_of_wrong_length(tmp_path):
    path = tmp_path / "bad_meta.npz"
    np.savez(
        path,
        images=np.ones((4, 8, 8, 1), np.float32),
        ra=np.zeros(2),
        dec=np.zeros(4),
        ids=np.array(["a", "b", "c", "d", "e"]),
    )
    c = open_collection(path)
    with pytest.raises(CollectionError) as info:
        c.coords  # noqa: B018
    _check(info, path, "has 2 RA values for 4 cutouts")
    with pytest.raises(CollectionError) as info:
        c.ids  # noqa: B018
    _check(info, path, "has 5 ids for 4 cutouts")


# -- folders -----------------------------------------------------------------------------------


def test_empty_folder(tmp_path):
    folder = tmp_path / "empty_dir"
    folder.mkdir()
    _open_fails(
        folder, "is a folder without FITS, PNG, JPEG, HDF5 or .npy files; expected a folder of cutouts"
    )


def test_folder_with_only_other_files(tmp_path):
    folder = tmp_path / "other"
    folder.mkdir()
    (folder / "labels.csv").write_text("filename,label\na.png,1\n")
    (folder / "notes.txt").write_bytes(b"x")
    _open_fails(folder, "is a folder without FITS, PNG, JPEG, HDF5 or .npy files")


def test_folder_with_a_corrupt_npy_shard_names_the_shard(tmp_path):
    folder = tmp_path / "other"
    folder.mkdir()
    (folder / "cutouts.npy").write_bytes(b"x")
    _open_fails(folder / "cutouts.npy", "is not a format GalView knows")


def test_folder_with_empty_images_subfolder(tmp_path):
    folder = tmp_path / "set"
    (folder / "images").mkdir(parents=True)
    (folder / "labels.csv").write_text("filename,label\n")
    _open_fails(folder, "holds no PNG or JPEG files; expected a folder of image cutouts")


def test_label_table_without_file_column(tmp_path, rng):
    folder = tmp_path / "badtable"
    folder.mkdir()
    Image.fromarray(_rgb(rng)).save(folder / "a.png")
    (folder / "labels.csv").write_text("object,label\na,1\n")
    with pytest.raises(CollectionError) as info:
        open_collection(folder)
    _check(info, folder / "labels.csv", "has no file-name column; expected one of filename, file, image")

"""Damaged, odd and hostile FITS files (issue 11, section 6): one clean error each, or the right pixels."""

from __future__ import annotations

import gzip
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from galview.core.errors import CollectionError
from galview.io import open_collection
from tests.hostile import cases_files
from tests.io.refusals import one_line


def _open_fails(path, *fragments):
    with pytest.raises(CollectionError) as info:
        with open_collection(path) as c:
            c.get(0)
    return one_line(info.value, path, fragments)


# -- headers that do not describe an image ---------------------------------------------------------


def test_header_missing_naxis2_is_a_clean_error(tmp_path):
    path = cases_files._fits_missing_naxis2(tmp_path)
    _open_fails(path, "NAXIS2")


def test_header_negative_naxis_names_the_keyword(tmp_path):
    path = cases_files._fits_negative_naxis(tmp_path)
    _open_fails(path, "NAXIS2 = -64", "expected a whole number of pixels")


@pytest.mark.parametrize("keyword", ["BITPIX", "NAXIS", "NAXIS1", "NAXIS2"])
def test_header_with_an_unparsable_layout_card_is_a_clean_error(tmp_path, keyword):
    path = cases_files._fits_garbled_card(tmp_path, keyword)
    message = _open_fails(path, f"unparsable {keyword} card", "expected a valid FITS image header")
    assert "verify" not in message  # astropy's advice to call .verify('fix') means nothing to a user


def test_an_extension_whose_xtension_card_is_unparsable_is_a_clean_error(tmp_path):
    """Found by mutation fuzzing (seed 20261207): astropy's VerifyError escaped from ``is_image``."""
    path = tmp_path / "stack.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(np.ones((2, 3, 8, 8), np.float32))]).writeto(path)
    data = bytearray(path.read_bytes())
    at = data.index(b"XTENSION")
    data[at + 28] = ord("\n")  # a control character in the card, as the fuzzer made
    path.write_bytes(bytes(data))
    message = _open_fails(path, "HDU 1 has an unparsable header", "expected a valid FITS image header")
    assert "verify('fix')" not in message


def test_header_with_invalid_bitpix_is_a_clean_error(tmp_path):
    path = cases_files._fits_bad_bitpix(tmp_path)
    _open_fails(path, "BITPIX")


def test_damaged_rice_tiles_of_a_single_image_are_refused_on_opening(tmp_path):
    path = cases_files._fits_damaged_rice(tmp_path)
    with pytest.raises(CollectionError) as info:
        open_collection(path)  # not later, in a thumbnail thread
    assert str(info.value).startswith(f"{path}: image data cannot be read, truncated or corrupt (")


def test_damaged_tile_of_a_compressed_stack_is_a_clean_error_when_read(tmp_path):
    stack = np.random.default_rng(3).normal(size=(20, 32, 32)).astype(np.float32)
    path = tmp_path / "stack.fits"
    tiled = fits.CompImageHDU(stack, compression_type="RICE_1", tile_shape=(1, 32, 32))
    fits.HDUList([fits.PrimaryHDU(), tiled]).writeto(path)
    with fits.open(path) as hdul:
        start = hdul[1].fileinfo()["datLoc"]
    raw = bytearray(path.read_bytes())
    for i in range(start + 20 * 16 + 10, len(raw) - 2000):  # the tiles, past the tile table
        raw[i] = (raw[i] * 73 + 41) & 0xFF
    path.write_bytes(bytes(raw))
    with open_collection(path) as c:
        assert len(c) == 20  # a stack is not read on opening
        with pytest.raises(CollectionError, match="cannot be read, truncated or corrupt"):
            c.get(0)


@pytest.mark.parametrize("kind", ["gzip", "rice"])
def test_reads_of_a_compressed_stack_from_several_threads_agree(tmp_path, kind):
    stack = np.random.default_rng(4).normal(size=(12, 2, 24, 24)).astype(np.float32)
    path = tmp_path / "stack.fits"
    if kind == "rice":
        fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(stack, tile_shape=(1, 1, 24, 24))]).writeto(path)
    else:
        plain = tmp_path / "plain.bin"
        fits.writeto(plain, stack)
        path.write_bytes(gzip.compress(plain.read_bytes()))
    with open_collection(path) as c:
        expected = c.get_batch(range(12))
        errors, same = [], []

        def read(offset):
            try:
                for k in range(30):
                    i = (offset * 5 + k) % 12
                    same.append(np.array_equal(c.get(i), expected[i]))
            except Exception as exc:  # noqa: BLE001 - any failure is the answer
                errors.append(exc)

        threads = [threading.Thread(target=read, args=(t,)) for t in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert not errors and len(same) == 120 and all(same)


# -- memory ---------------------------------------------------------------------------------------


def _refused_within(path: Path, seconds: float, limit_gb: float = 1.5) -> str:
    """Open ``path`` in a subprocess limited to ``limit_gb`` of address space; its one-line error."""
    code = "from galview.io import open_collection; import sys; open_collection(sys.argv[1]).get(0)"

    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (int(limit_gb * 2**30),) * 2)

    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    start = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, env=env, preexec_fn=cap
    )
    assert time.monotonic() - start < seconds
    assert "CollectionError" in result.stderr and "MemoryError" not in result.stderr, result.stderr
    return result.stderr.strip().splitlines()[-1]


def test_gzip_bomb_is_refused_before_it_is_decompressed(tmp_path):
    path = cases_files._fits_gzip_bomb(tmp_path)
    assert path.stat().st_size < 10 * 2**20
    line = _refused_within(path, seconds=30)
    assert "holds 3.0 GB of data once decompressed" in line
    assert "at most 256 MB (decompress it first)" in line


def test_gzip_stack_within_budget_opens(tmp_path):
    stack = np.arange(4 * 3 * 8 * 8, dtype=np.float32).reshape(4, 3, 8, 8)
    plain = tmp_path / "plain.bin"
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(stack)]).writeto(plain)
    path = tmp_path / "stack.fits.gz"
    path.write_bytes(gzip.compress(plain.read_bytes()))
    with open_collection(path) as c:
        assert len(c) == 4
        np.testing.assert_array_equal(c.get(3), np.moveaxis(stack[3], 0, -1))


def test_gzip_of_something_else_is_a_clean_error(tmp_path):
    path = tmp_path / "notfits.fits.gz"
    path.write_bytes(gzip.compress(b"hello world" * 1000))
    _open_fails(path, "holds no FITS file")


def test_truncated_gzip_is_a_clean_error(tmp_path):
    data = np.random.default_rng(1).normal(size=(64, 64)).astype(np.float32)
    plain = tmp_path / "plain.bin"
    fits.writeto(plain, data)
    path = tmp_path / "cut.fits.gz"
    packed = gzip.compress(plain.read_bytes())
    path.write_bytes(packed[: len(packed) // 2])
    _open_fails(path)


def test_gzip_header_without_end_is_refused_after_a_few_megabytes(tmp_path):
    path = cases_files._fits_gzip_header_without_end(tmp_path)
    start = time.monotonic()
    _open_fails(path, "header longer than 1000 blocks without END")
    assert time.monotonic() - start < 10


def test_huge_image_is_refused_before_it_is_read(tmp_path):
    path = cases_files._fits_huge_sparse(tmp_path)
    _open_fails(path, "24000×24000 float32", "at most 256 MB")


# -- valid files that were refused or misread ------------------------------------------------------


def test_uint16_with_bzero_reads_unsigned_values(tmp_path):
    data = np.array([[0, 1, 40000], [65535, 32768, 7]] * 2, dtype=np.uint16)
    path = tmp_path / "u16.fits"
    fits.writeto(path, data)
    with fits.open(path, do_not_scale_image_data=True) as hdul:
        assert hdul[0].header["BZERO"] == 32768  # stored as scaled int16
    with open_collection(path) as c:
        assert c.dtype == np.uint16
        np.testing.assert_array_equal(c.get(0)[..., 0], data)


def test_scaled_int16_reads_physical_values(tmp_path):
    raw = np.array([[-3000, 0, 2999]] * 3, dtype=np.int16)
    path = tmp_path / "scaled.fits"
    hdu = fits.PrimaryHDU(raw)
    hdu.header["BSCALE"], hdu.header["BZERO"] = 0.01, 100.0
    hdu.writeto(path)
    with open_collection(path) as c:
        assert c.dtype.kind == "f"
        np.testing.assert_allclose(c.get(0)[..., 0], raw * 0.01 + 100.0, rtol=1e-6)


def test_scaled_stack_reads_each_cutout(tmp_path):
    raw = np.arange(5 * 2 * 4 * 4, dtype=np.int16).reshape(5, 2, 4, 4)
    path = tmp_path / "stack.fits"
    hdu = fits.PrimaryHDU(raw)
    hdu.header["BSCALE"] = 0.5
    hdu.writeto(path)
    with open_collection(path) as c:
        assert len(c) == 5
        np.testing.assert_allclose(c.get_batch([4, 0]), np.moveaxis(raw[[4, 0]] * 0.5, 1, -1))


def test_rice_compressed_file_named_fits_is_read(tmp_path):
    path = cases_files._fits_rice_named_fits(tmp_path)
    with fits.open(path) as hdul:
        expected = hdul[1].data
    with open_collection(path) as c:
        assert c.shape == (64, 64, 1)
        np.testing.assert_allclose(c.get(0)[..., 0], expected)


def test_gzip_file_named_fits_is_recognised_by_content(tmp_path):
    data = np.arange(64, dtype=np.float32).reshape(8, 8)
    plain = tmp_path / "plain.bin"
    fits.writeto(plain, data, output_verify="silentfix")
    path = tmp_path / "gzipped.fits"
    path.write_bytes(gzip.compress(plain.read_bytes()))
    with open_collection(path) as c:
        np.testing.assert_array_equal(c.get(0)[..., 0], data)


def test_fits_folder_of_rice_and_scaled_files(tmp_path):
    folder = tmp_path / "mixed_encodings"
    folder.mkdir()
    data = np.arange(256, dtype=np.int16).reshape(16, 16)
    fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(data.astype(np.float32))]).writeto(folder / "a.fits")
    hdu = fits.PrimaryHDU(data)
    hdu.header["BZERO"] = 0.0
    hdu.header["BSCALE"] = 1.0
    hdu.writeto(folder / "b.fits")
    with open_collection(folder) as c:
        np.testing.assert_allclose(c.get_batch([0, 1])[..., 0], np.stack([data, data]).astype(np.float32))


# -- coordinates from RA/DEC keywords -------------------------------------------------------------


@pytest.mark.parametrize(
    ("ra", "dec", "expected"),
    [
        (150.1, 2.2, (150.1, 2.2)),
        ("10:00:24.0", "+02:12:00", (150.1, 2.2)),
        ("150.1", "2.2", (150.1, 2.2)),
    ],
)
def test_fits_ra_dec_keywords_give_coordinates(tmp_path, ra, dec, expected):
    path = tmp_path / "radec.fits"
    hdu = fits.PrimaryHDU(np.ones((8, 8), np.float32))
    hdu.header["RA"], hdu.header["DEC"] = ra, dec
    hdu.writeto(path)
    with open_collection(path) as c:
        assert c.has_coords
        assert (c.ra[0], c.dec[0]) == pytest.approx(expected, abs=1e-9)


def test_fits_ra_dec_keywords_off_the_sky_are_ignored(tmp_path):
    path = tmp_path / "radec.fits"
    hdu = fits.PrimaryHDU(np.ones((8, 8), np.float32))
    hdu.header["RA"], hdu.header["DEC"] = 150.0, 123.0
    hdu.writeto(path)
    with open_collection(path) as c:
        assert not c.has_coords


def test_fits_folder_takes_coordinates_from_keywords(tmp_path):
    folder = tmp_path / "objects"
    folder.mkdir()
    for i, keywords in enumerate([{"RA": 10.5, "DEC": -3.0}, {}, {"OBJRA": 20.0, "OBJDEC": 1.0}]):
        hdu = fits.PrimaryHDU(np.ones((8, 8), np.float32) + i)
        hdu.header.update(keywords)
        hdu.writeto(folder / f"obj{i}.fits")
    with open_collection(folder) as c:
        np.testing.assert_array_equal(c.ra, [10.5, np.nan, 20.0])
        np.testing.assert_array_equal(c.dec, [-3.0, np.nan, 1.0])


# -- names that are not UTF-8 ---------------------------------------------------------------------


def test_fits_folder_with_non_utf8_file_name_hands_out_valid_ids(tmp_path):
    folder = cases_files._fits_folder_non_utf8_name(tmp_path)
    with open_collection(folder) as c:
        assert len(c) == 2
        for index in range(2):
            c.ids[index].encode("utf-8")
            c.id_of(index).encode("utf-8")
        assert "ngc\ufffd\ufffd-obj" in c.ids.tolist()
        assert c.get_batch([0, 1]).shape == (2, 32, 32, 3)


@pytest.mark.parametrize("keyword", ["BANDS", "BUNIT", "RA"])
def test_an_unparsable_optional_card_is_ignored(tmp_path, keyword):
    cube = np.arange(3 * 16 * 16, dtype=np.float32).reshape(3, 16, 16)
    path = tmp_path / "cube.fits"
    fits.writeto(
        path, cube, fits.Header([("BANDS", "grz"), ("BUNIT", "nanomaggy"), ("RA", 10.0), ("DEC", 2.0)])
    )
    raw = bytearray(path.read_bytes())
    at = next(i for i in range(0, 2880, 80) if raw[i : i + 8].decode().strip() == keyword)
    raw[at + 78] = 0x14  # a control byte in the card: astropy refuses to parse its value
    path.write_bytes(bytes(raw))
    with open_collection(path) as collection:  # the garbled card counts as absent, the rest is read
        np.testing.assert_array_equal(collection.get(0), np.moveaxis(cube, 0, -1))
        collection.describe()
        assert (collection.coords is None) == (keyword == "RA")
        assert (tuple(collection.bands) == ("g", "r", "z")) == (keyword != "BANDS")
        assert (collection.flux_unit() == "nanomaggy") == (keyword != "BUNIT")

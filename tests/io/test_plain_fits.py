"""Plain per-object FITS files read without astropy give what astropy gives; anything else falls back."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from galview.io import fits_files, plain_fits
from galview.io.fits_headers import header_coords
from galview.io.registry import open_collection

SHAPES = [(5, 7), (3, 5, 7), (1, 6, 6)]
DTYPES = ["u1", ">i2", ">i4", ">i8", ">f4", ">f8"]


def _wcs_header(ctype="TAN", crpix=(4.0, 3.5), crval=(150.25, -8.5), **extra) -> fits.Header:
    header = fits.Header()
    header["CTYPE1"], header["CTYPE2"] = f"RA---{ctype}", f"DEC--{ctype}"
    header["CRVAL1"], header["CRVAL2"] = crval
    header["CRPIX1"], header["CRPIX2"] = crpix
    header["CD1_1"], header["CD1_2"], header["CD2_1"], header["CD2_2"] = -7.3e-5, 1e-6, 2e-6, 7.3e-5
    for key, value in extra.items():
        header[key] = value
    return header


def _write(path: Path, data: np.ndarray, header: fits.Header | None = None) -> Path:
    fits.PrimaryHDU(data, header=header).writeto(path)
    return path


def _astropy_cutout(path: Path) -> np.ndarray:
    return fits_files._read_fits_cutout(path, None)[0]


def _astropy_centre(path: Path, height: int, width: int):
    return header_coords(fits_files._read_fits_header(path), height, width)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_plain_pixels_equal_astropy(tmp_path, shape, dtype):
    data = (np.arange(np.prod(shape)).reshape(shape) * 3 - 7).astype(dtype)
    if data.dtype.kind == "f":
        data.flat[2] = np.nan
    path = _write(tmp_path / "c.fits", data, _wcs_header())
    plain = fits_files._read_plain_cutout(path, None)
    assert plain is not None, "a plain file must be read without astropy"
    expected = _astropy_cutout(path)
    assert plain.dtype == expected.dtype and plain.shape == expected.shape
    np.testing.assert_array_equal(plain, expected)


def test_long_header_over_several_blocks(tmp_path):
    header = _wcs_header()
    for k in range(120):  # 120 cards: the header takes 3 blocks of 2880 bytes
        header[f"NOTE{k}"] = f"value {k}"
    path = _write(tmp_path / "c.fits", np.ones((3, 4, 4), ">f4") * 2.5, header)
    plain = fits_files._read_plain_cutout(path, None)
    assert plain is not None
    np.testing.assert_array_equal(plain, _astropy_cutout(path))


def _scaled(path):
    hdu = fits.PrimaryHDU(np.arange(48, dtype=">i2").reshape(3, 4, 4))
    hdu.header["BSCALE"], hdu.header["BZERO"] = 2.0, 10.0
    hdu.writeto(path)
    return path


def _unsigned(path):
    fits.PrimaryHDU(np.arange(48, dtype=np.uint16).reshape(3, 4, 4) + 40000).writeto(path)
    return path


def _blank(path):
    hdu = fits.PrimaryHDU(np.arange(48, dtype=">i2").reshape(3, 4, 4))
    hdu.header["BLANK"] = 5
    hdu.writeto(path)
    return path


def _in_extension(path):
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(np.ones((3, 4, 4), ">f4"))]).writeto(path)
    return path


def _gzipped(path):
    plain = _write(path.with_suffix(".tmp"), np.ones((3, 4, 4), ">f4"))
    path.write_bytes(gzip.compress(plain.read_bytes()))
    return path


def _truncated(path):
    _write(path, np.ones((3, 64, 64), ">f4"))
    path.write_bytes(path.read_bytes()[:5000])
    return path


def _compressed_tiles(path):
    fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(np.ones((16, 16), ">f4"))]).writeto(path)
    return path


def _duplicate_naxis1(path):
    _write(path, np.ones((4, 5), ">f4"))
    raw = bytearray(path.read_bytes())
    end = raw.index(b"END     ")
    raw[end : end + 80] = b"NAXIS1  =                    9".ljust(80)
    raw[end + 80 : end + 160] = b"END".ljust(80)
    path.write_bytes(bytes(raw))
    return path


NOT_PLAIN = {
    "scaled": _scaled,
    "unsigned (BZERO)": _unsigned,
    "BLANK": _blank,
    "image in an extension": _in_extension,
    "gzip": _gzipped,
    "truncated": _truncated,
    "tile-compressed": _compressed_tiles,
    "duplicate NAXIS1": _duplicate_naxis1,
}


@pytest.mark.parametrize("make", NOT_PLAIN.values(), ids=NOT_PLAIN.keys())
def test_anything_else_is_left_to_astropy(tmp_path, make):
    path = make(tmp_path / "c.fits")
    assert fits_files._read_plain_cutout(path, None) is None


def test_a_folder_reads_plain_and_other_files_alike(tmp_path):
    """Scaled and unsigned files in a folder of plain ones: every cutout as astropy reads it."""
    folder = tmp_path / "folder"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for k in range(4):
        _write(folder / f"p{k}.fits", rng.normal(size=(3, 4, 4)).astype(">f4"))
    _scaled(folder / "s.fits")
    with open_collection(folder) as collection:
        got = collection.get_batch(list(range(len(collection))))
        expected = [np.moveaxis(_astropy_cutout(f), 0, -1) for f in sorted(folder.glob("*.fits"))]
    np.testing.assert_array_equal(got, np.stack(expected).astype(got.dtype))


CENTRED = {  # a cutout service's header: the reference pixel at the centre of a 6 × 7 image
    "TAN": _wcs_header(),
    "SIN": _wcs_header("SIN"),
    "ZEA near the pole": _wcs_header("ZEA", crval=(359.5, 89.2)),
    "WCS beside RA/DEC text (the WCS counts)": _wcs_header(RA="10:00:24.5", DEC="-08:30:00"),
    "CRPIX as integers (odd sizes)": None,
}


@pytest.mark.parametrize("name", CENTRED)
def test_centred_wcs_gives_astropy_position(tmp_path, name):
    shape = (5, 7) if name.startswith("CRPIX as integers") else (6, 7)
    header = _wcs_header(crpix=(4, 3)) if CENTRED[name] is None else CENTRED[name]
    path = _write(tmp_path / "c.fits", np.zeros(shape, ">f4"), header)
    plain = plain_fits.centre_coords(plain_fits.read_header(path), *shape)
    assert plain is not plain_fits.NOT_PLAIN, "a centred zenithal WCS must be read without astropy"
    np.testing.assert_allclose(plain, _astropy_centre(path, *shape), rtol=0, atol=1e-9)


@pytest.mark.parametrize(
    "header",
    [
        _wcs_header(crpix=(10.0, 3.5)),  # reference pixel off the centre
        _wcs_header("CAR"),  # not zenithal
        _wcs_header(PV2_1=0.1),  # projection parameters
        _wcs_header(A_ORDER=2, A_0_2=1e-6, B_ORDER=2, B_2_0=1e-6),  # SIP polynomials (CTYPE not -SIP)
        _wcs_header(crval=(-10.0, 5.0)),  # longitude outside 0–360
    ],
    ids=["off centre", "CAR", "PV", "SIP cards", "negative CRVAL1"],
)
def test_other_wcs_is_left_to_astropy(tmp_path, header):
    path = _write(tmp_path / "c.fits", np.zeros((6, 7), ">f4"), header)
    assert plain_fits.centre_coords(plain_fits.read_header(path), 6, 7) is plain_fits.NOT_PLAIN


def test_keyword_positions(tmp_path):
    numbers = fits.Header({"RA_OBJ": 370.5 - 360, "DEC_OBJ": -3.25})
    text = fits.Header({"RA": "10:00:24.5", "DEC": "-08:30:00"})
    path = _write(tmp_path / "n.fits", np.zeros((4, 4), ">f4"), numbers)
    assert plain_fits.centre_coords(plain_fits.read_header(path), 4, 4) == (10.5, -3.25)
    assert plain_fits.centre_coords(plain_fits.read_header(path), 4, 4) == _astropy_centre(path, 4, 4)
    path = _write(tmp_path / "t.fits", np.zeros((4, 4), ">f4"), text)
    assert plain_fits.centre_coords(plain_fits.read_header(path), 4, 4) is plain_fits.NOT_PLAIN
    path = _write(tmp_path / "none.fits", np.zeros((4, 4), ">f4"))
    assert plain_fits.centre_coords(plain_fits.read_header(path), 4, 4) is None
    assert _astropy_centre(path, 4, 4) is None


def test_folder_coordinates_equal_astropy_for_mixed_headers(tmp_path):
    """Centred, off-centre, keyword, text and no positions in one folder: each as astropy reads it."""
    folder = tmp_path / "folder"
    folder.mkdir()
    headers = [_wcs_header(crpix=(4.0, 3.5), crval=(10.0 + k, -5.0 + k)) for k in range(3)] + [
        _wcs_header(crpix=(1.0, 1.0)),
        fits.Header({"RA": 12.5, "DEC": 45.0}),
        fits.Header({"RA": "10:00:24.5", "DEC": "-08:30:00"}),
        fits.Header(),
    ]
    for k, header in enumerate(headers):
        _write(folder / f"c{k}.fits", np.zeros((2, 6, 7), ">f4"), header)
    expected = [_astropy_centre(f, 6, 7) for f in sorted(folder.glob("*.fits"))]
    with open_collection(folder) as collection:
        ra, dec = collection.coords
    for k, position in enumerate(expected):
        if position is None:
            assert np.isnan(ra[k]) and np.isnan(dec[k])
        else:
            np.testing.assert_allclose((ra[k], dec[k]), position, rtol=0, atol=1e-9)


def test_real_legacy_survey_files_take_the_plain_path(shared_data):
    """The Legacy Survey cutout service's files are plain: same pixels and centre as astropy's."""
    for path in sorted((shared_data / "legacy_dwarfs").glob("*.fits")):
        plain = fits_files._read_plain_cutout(path, None)
        assert plain is not None
        np.testing.assert_array_equal(plain, _astropy_cutout(path))
        position = plain_fits.centre_coords(plain_fits.read_header(path), 256, 256)
        assert position is not plain_fits.NOT_PLAIN
        np.testing.assert_allclose(position, _astropy_centre(path, 256, 256), rtol=0, atol=1e-9)


def test_header_announcing_huge_axes_is_left_to_astropy(tmp_path):
    """Axes whose product overflows 64 bits, or a cutout beyond the budget: never read here."""
    path = _write(tmp_path / "c.fits", np.zeros((3, 4, 4), ">f4"))
    raw = path.read_bytes()
    for sizes in ((2**40, 2**40), (100_000, 100_000)):
        damaged = raw.replace(b"NAXIS1  =                    4", f"NAXIS1  = {sizes[0]:>20}".encode())
        damaged = damaged.replace(b"NAXIS2  =                    4", f"NAXIS2  = {sizes[1]:>20}".encode())
        path.write_bytes(damaged)
        assert fits_files._read_plain_cutout(path, None) is None


def test_a_truncated_file_has_no_position_whichever_way_it_is_read(tmp_path):
    path = _write(tmp_path / "c.fits", np.zeros((3, 64, 64), ">f4"), _wcs_header(crpix=(32.5, 32.5)))
    path.write_bytes(path.read_bytes()[:-10_000])  # the header whole, the pixels cut short
    assert plain_fits.centre_coords(plain_fits.read_header(path), 64, 64) is plain_fits.NOT_PLAIN
    assert fits_files._centre_coords(path, 64, 64) is None

"""Per-object FITS files in their plainest form, read without astropy: the same values, much faster.

Cutout services write each cutout as a primary HDU holding an uncompressed image, unscaled, with a
tangent-plane WCS whose reference pixel is the cutout's centre. For a folder of tens of thousands of
such files astropy's generality costs about 1 ms a file to read the pixels and 2.5 ms to find the
sky position (measured in ``benchmarks/bench_fits_folder.py``). Here the header's 80-character cards
are read directly. Anything beyond the plain case — gzip, tile compression, BSCALE/BZERO or BLANK,
random groups, the image in an extension, a short file, a card that does not parse, a WCS with
distortion or projection parameters or not centred on the cutout — gives None, and the caller reads
the file with astropy as before, which also words any error.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

import numpy as np

from galview.io.fits_headers import BLOCK, COORD_KEYWORDS, MAX_HEADER_BLOCKS

CARD = 80
#: FITS pixel types, as astropy returns them (big-endian, unscaled).
BITPIX_DTYPES = {8: np.dtype("u1"), 16: np.dtype(">i2"), 32: np.dtype(">i4"), 64: np.dtype(">i8")}
BITPIX_DTYPES.update({-32: np.dtype(">f4"), -64: np.dtype(">f8")})
#: Zenithal projections: the reference pixel is the native pole, whose sky position is CRVAL.
ZENITHAL = ("TAN", "SIN", "ARC", "ZEA", "STG")
#: Keywords that change the pixel values or how the data are laid out: their presence means "not plain".
NOT_PLAIN_KEYS = frozenset({"BSCALE", "BZERO", "BLANK", "GROUPS"})
#: Keywords that move a WCS's reference point or distort the sky around it (projection parameters,
#: SIP polynomials, distortion tables).
WCS_EXTRAS = re.compile(r"P[VS]\d+_\d+[A-Z]?|(A|B|AP|BP)_(ORDER|DMAX|\d+_\d+)|C[PQ]DIS\d+|D2IM\w*|D[PQ]\d+")
_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([ED][+-]?\d+)?", re.IGNORECASE)
#: A value that was present but is not plain text, a number or a logical.
_UNPARSED = object()


class PlainHeader:
    """The cards of a primary header, as parsed values, and where its data start.

    Only single-valued keywords are kept; a keyword that appears twice is remembered as
    unparsed, so nothing depends on which copy a reader would take.
    """

    def __init__(self, cards: dict, data_offset: int, file_size: int):
        self.cards = cards
        self.data_offset = data_offset
        self.file_size = file_size

    def get(self, keyword: str, default=None):
        return self.cards.get(keyword, default)

    def has_any(self, keywords) -> bool:
        return any(key in self.cards for key in keywords)

    def has_match(self, pattern: re.Pattern) -> bool:
        return any(pattern.fullmatch(key) for key in self.cards)


def read_header(path: Path) -> PlainHeader | None:
    """The primary header of ``path`` if it opens like a plain FITS file (``SIMPLE = T``), else None."""
    try:
        with open(path, "rb") as handle:
            return _header_from(handle)
    except (OSError, UnicodeDecodeError):
        return None


def _header_from(handle) -> PlainHeader | None:
    """The primary header of an open file, read from its start (see :func:`read_header`)."""
    cards: dict = {}
    for block_number in range(MAX_HEADER_BLOCKS):
        block = handle.read(BLOCK)
        if len(block) < BLOCK:
            return None
        if block_number == 0 and not _is_simple(block[:CARD]):
            return None
        for start in range(0, BLOCK, CARD):
            card = block[start : start + CARD]
            keyword = card[:8].rstrip()
            if keyword == b"END":
                return PlainHeader(cards, (block_number + 1) * BLOCK, os.fstat(handle.fileno()).st_size)
            if card[8:10] == b"= " and keyword:
                _add_card(cards, keyword, card[10:])
    return None


def _is_simple(card: bytes) -> bool:
    return card[:10] == b"SIMPLE  = " and card[10:30].strip() == b"T"


def _add_card(cards: dict, keyword: bytes, value: bytes) -> None:
    name = keyword.decode("ascii")
    cards[name] = _UNPARSED if name in cards else _parse_value(value.decode("ascii"))


def _parse_value(text: str):
    """A card's value: str, bool, int or float; :data:`_UNPARSED` for anything else."""
    text = text.strip()
    if text.startswith("'"):
        closing = re.match(r"'((?:[^']|'')*)'", text)
        return _UNPARSED if closing is None else closing.group(1).replace("''", "'").rstrip()
    value = text.split("/", 1)[0].strip()
    if value in ("T", "F"):
        return value == "T"
    if _INT.fullmatch(value):
        return int(value)
    if _FLOAT.fullmatch(value):
        return float(value.upper().replace("D", "E"))
    return _UNPARSED


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def image_shape(header: PlainHeader) -> tuple[tuple[int, ...], np.dtype] | None:
    """The primary image's shape in numpy order and its pixel type, if it is a plain 2-D or 3-D image."""
    if header.has_any(NOT_PLAIN_KEYS) or header.get("PCOUNT", 0) != 0 or header.get("GCOUNT", 1) != 1:
        return None
    dtype = BITPIX_DTYPES.get(header.get("BITPIX")) if _whole(header.get("BITPIX")) else None
    naxis = header.get("NAXIS")
    if dtype is None or naxis not in (2, 3) or not _whole(naxis):
        return None
    sizes = [header.get(f"NAXIS{axis}") for axis in range(1, naxis + 1)]
    if not all(_whole(size) and size > 0 for size in sizes):
        return None
    return tuple(reversed(sizes)), dtype


def read_image(path: Path, wanted) -> np.ndarray | None:
    """The primary image of a plain file exactly as astropy's ``section`` gives it (big-endian,
    unscaled), reading the file once; None when it is not plain, is short, or ``wanted(shape, dtype)``
    (asked before any pixel is read) says no."""
    try:
        with open(path, "rb") as handle:
            header = _header_from(handle)
            described = None if header is None else image_shape(header)
            if described is None or not wanted(*described):
                return None
            shape, dtype = described
            size = math.prod(shape) * dtype.itemsize
            handle.seek(header.data_offset)
            data = handle.read(size)
    except (OSError, UnicodeDecodeError):
        return None
    if len(data) < size:
        return None  # truncated: astropy's reading names it
    return np.frombuffer(data, dtype=dtype).reshape(shape)


def centre_coords(header: PlainHeader, height: int, width: int):
    """(ra, dec) at the centre of the image, or None when the header gives none.

    Returns :data:`NOT_PLAIN` when only a full WCS reading can tell: a WCS that is not a plain
    zenithal RA/Dec projection with its reference pixel at the centre, or coordinates in text.
    """
    described = image_shape(header)
    if described is None:  # the image, and so the header that counts, may be in an extension
        return NOT_PLAIN
    shape, dtype = described
    if header.data_offset + math.prod(shape) * dtype.itemsize > header.file_size:
        return NOT_PLAIN  # a truncated file: no position, as for any file that cannot be read
    if "CTYPE1" in header.cards:
        return _wcs_centre(header, height, width)
    for ra_key, dec_key in COORD_KEYWORDS:
        if ra_key in header.cards and dec_key in header.cards:
            ra, dec = header.get(ra_key), header.get(dec_key)
            if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (ra, dec)):
                return NOT_PLAIN  # sexagesimal text, a logical, a duplicate: astropy's reading decides
            if math.isfinite(ra) and math.isfinite(dec) and 0 <= ra <= 360 and -90 <= dec <= 90:
                return float(ra) % 360, float(dec)
    return None


#: What :func:`centre_coords` returns when the header needs astropy's full WCS reading.
NOT_PLAIN = "not plain"


def _wcs_centre(header: PlainHeader, height: int, width: int):
    ctype1, ctype2 = header.get("CTYPE1"), header.get("CTYPE2")
    if not (isinstance(ctype1, str) and isinstance(ctype2, str)) or header.has_match(WCS_EXTRAS):
        return NOT_PLAIN
    if len(ctype1) != 8 or len(ctype2) != 8 or not (ctype1.startswith("RA--") and ctype2.startswith("DEC-")):
        return NOT_PLAIN
    if ctype1[5:] != ctype2[5:] or ctype1[5:] not in ZENITHAL or ctype1[4] != "-":
        return NOT_PLAIN
    crpix = header.get("CRPIX1"), header.get("CRPIX2")
    crval = header.get("CRVAL1"), header.get("CRVAL2")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (*crpix, *crval)):
        return NOT_PLAIN
    if crpix != ((width + 1) / 2, (height + 1) / 2):
        return NOT_PLAIN
    ra, dec = float(crval[0]), float(crval[1])
    if not (0 <= ra < 360 and -90 < dec < 90):
        return NOT_PLAIN
    return ra, dec

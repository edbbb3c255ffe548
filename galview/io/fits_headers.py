"""What a FITS header says, checked: image axes, band names and sky coordinates (WCS or RA/DEC keywords).

Split from :mod:`galview.io.fits_files` (the collections) to keep modules small. Nothing here reads
pixels; astropy is imported inside the functions.
"""

from __future__ import annotations

import logging
import math
import warnings
from pathlib import Path

import numpy as np

from galview.core.errors import CollectionError

logger = logging.getLogger(__name__)

#: Bytes per stored value for each valid BITPIX.
BITPIX_BYTES = {8: 1, 16: 2, 32: 4, 64: 8, -32: 4, -64: 8}
#: Header keyword pairs giving an object's position in degrees (or sexagesimal text), tried in order.
COORD_KEYWORDS = (("RA", "DEC"), ("RA_OBJ", "DEC_OBJ"), ("OBJRA", "OBJDEC"), ("RA_TARG", "DEC_TARG"))


def image_axes(path: str | Path, header) -> tuple[int, ...]:
    """The image's shape in numpy order (NAXISn … NAXIS1) after checking the header announces one.

    Raises
    ------
    CollectionError
        If BITPIX is not a FITS pixel type, or NAXIS or an NAXISn keyword is missing, unparsable, not a
        whole number or negative.
    """
    bitpix = _structural(path, header, "BITPIX")
    if not _is_int(bitpix) or bitpix not in BITPIX_BYTES:
        raise CollectionError(
            path, f"has BITPIX = {bitpix!r} in its header; expected one of 8, 16, 32, 64, -32, -64"
        )
    naxis = _structural(path, header, "NAXIS")
    if not _is_int(naxis) or not 0 <= naxis <= 999:
        raise CollectionError(path, f"has NAXIS = {naxis!r} in its header; expected a whole number 0–999")
    sizes = []
    for axis in range(1, naxis + 1):
        value = _structural(path, header, f"NAXIS{axis}")
        if value is None:
            raise CollectionError(
                path, f"header has NAXIS = {naxis} but no NAXIS{axis}; expected NAXIS1 … NAXIS{naxis}"
            )
        if not _is_int(value) or value < 0:
            raise CollectionError(
                path, f"header has NAXIS{axis} = {value!r}; expected a whole number of pixels, 0 or more"
            )
        sizes.append(int(value))
    return tuple(reversed(sizes))


def _structural(path: str | Path, header, keyword: str):
    """A keyword that describes the image's layout; a card astropy cannot parse is the file's fault."""
    try:
        return header.get(keyword)
    except Exception as exc:  # astropy's VerifyError for a garbled value, e.g. "NAXIS3 = 1.2.3x"
        raise CollectionError(
            path, f"has an unparsable {keyword} card in its header; expected a valid FITS image header"
        ) from exc


def optional_value(header, keyword: str, default=None):
    """A keyword GalView can do without: a card astropy cannot parse counts as absent (logged)."""
    try:
        return header.get(keyword, default)
    except Exception as exc:  # astropy's VerifyError for a garbled value or comment
        logger.info("a FITS header's %s card is unparsable, so it is ignored: %s", keyword, exc)
        return default


def fits_bands(header, n_channels: int) -> list[str] | None:
    """Band names from BANDS ('grz') or BAND0..BANDn or FILTER keywords, if present."""
    bands = optional_value(header, "BANDS")
    if isinstance(bands, str):
        bands = bands.strip()
        names = bands.split(",") if "," in bands else list(bands)
        if len(names) == n_channels:
            return names
    names = [optional_value(header, f"BAND{i}") for i in range(n_channels)]
    if all(isinstance(n, str) for n in names):
        return [n.strip() for n in names]
    band = optional_value(header, "FILTER")
    if n_channels == 1 and isinstance(band, str):
        return [band.strip()]
    return None


def header_unit(header) -> str | None:
    """The pixel unit a header states (``BUNIT``), stripped; None when absent or blank."""
    unit = optional_value(header, "BUNIT")
    return (unit.strip() or None) if isinstance(unit, str) else None


def celestial_wcs(header):
    """The celestial part of a header's WCS, or None when it has none."""
    from astropy.wcs import WCS, FITSFixedWarning

    if "CTYPE1" not in header:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FITSFixedWarning)
        try:
            wcs = WCS(header).celestial
        except Exception as exc:  # astropy raises many types for malformed WCS keywords
            logger.info("a FITS header's WCS is unusable, so no sky coordinates: %s", exc)
            return None
    return wcs if wcs.has_celestial else None


def centre_coords(wcs, height: int, width: int) -> tuple[float, float]:
    """(ra, dec) in degrees at the centre pixel of an image."""
    ra, dec = wcs.all_pix2world([[(width - 1) / 2, (height - 1) / 2]], 0)[0]
    return float(ra), float(dec)


def keyword_coords(header) -> tuple[float, float] | None:
    """(ra, dec) in degrees from RA/DEC-style keywords (:data:`COORD_KEYWORDS`), or None.

    Numbers are degrees; text is read as sexagesimal (``"10:00:24.5"``: RA in hours when written
    with colons or ``h``, Dec in degrees). Values off the sky (RA outside 0–360°, |Dec| > 90°) are
    ignored.
    """
    for ra_key, dec_key in COORD_KEYWORDS:
        if ra_key in header and dec_key in header:
            ra = _angle(optional_value(header, ra_key), hours=True)
            dec = _angle(optional_value(header, dec_key), hours=False)
            if ra is not None and dec is not None and 0 <= ra <= 360 and -90 <= dec <= 90:
                return ra % 360, dec
    return None


def header_coords(header, height: int, width: int) -> tuple[float, float] | None:
    """(ra, dec) of an image's centre: from its celestial WCS, else from RA/DEC keywords, else None."""
    wcs = celestial_wcs(header)
    if wcs is not None:
        ra, dec = centre_coords(wcs, height, width)
        if math.isfinite(ra) and math.isfinite(dec):
            return ra, dec
    return keyword_coords(header)


def _angle(value, hours: bool) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if not isinstance(value, str) or not value.strip():
        return None
    from astropy.coordinates import Angle

    text = value.strip()
    sexagesimal_hours = hours and (":" in text or "h" in text.lower() or " " in text)
    try:
        return float(Angle(text, unit="hourangle" if sexagesimal_hours else "deg").degree)
    except (ValueError, TypeError, ArithmeticError):
        return None


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


#: Header blocks read before giving up on finding END (a header bomb): 1000 × 2880 bytes.
MAX_HEADER_BLOCKS = 1000
BLOCK = 2880


def data_bytes(header, shape: tuple[int, ...]) -> int:
    """Bytes of data an HDU's header announces: |BITPIX|/8 × GCOUNT × (PCOUNT + NAXIS1 × … × NAXISn)."""
    count = int(np.prod(shape, dtype=object)) if shape else 0
    gcount, pcount = optional_value(header, "GCOUNT", 1), optional_value(header, "PCOUNT", 0)
    gcount = gcount if _is_int(gcount) and gcount > 0 else 1
    pcount = pcount if _is_int(pcount) and pcount > 0 else 0
    return BITPIX_BYTES[header["BITPIX"]] * gcount * (pcount + count) if count or pcount else 0


def check_compressed_size(path: Path, handle, budget: int) -> None:
    """Walk the headers of a gzip/bzip2 FITS stream up to its first image, refusing more than ``budget``
    bytes of data on the way.

    A compressed file cannot be memory-mapped or seeked into: astropy decompresses everything before
    the data it reads, and skips past the first image's data while opening. So the data announced up to
    and including the first image must fit ``budget``; a gzip bomb is refused after reading only its
    headers.

    Parameters
    ----------
    path : Path
        For messages.
    handle : file-like
        The decompressed stream (``gzip.open(path)``), positioned at its start.
    budget : int
        Most bytes of data to decompress.
    """
    from galview.core.budget import megabytes

    total = 0
    for index in range(1000):
        header = _next_header(path, handle, first=index == 0)
        if header is None:
            return
        shape = image_axes(path, header)
        size = data_bytes(header, shape)
        total += size
        if total > budget:
            raise CollectionError(
                path,
                f"is compressed and holds {megabytes(total)} of data once decompressed; GalView reads "
                f"compressed FITS files of at most {megabytes(budget)} (decompress it first)",
            )
        if _is_image_header(header, shape):
            return
        _skip(handle, size + (-size) % BLOCK)


def _is_image_header(header, shape) -> bool:
    kind = optional_value(header, "XTENSION", "IMAGE")
    return len(shape) >= 2 and (kind == "IMAGE" or optional_value(header, "ZIMAGE") is True)


def _next_header(path: Path, handle, first: bool):
    """The next header of a stream, or None at its end."""
    from astropy.io import fits

    blocks = []
    for _ in range(MAX_HEADER_BLOCKS):
        block = handle.read(BLOCK)
        if not block:
            if not blocks and not first:
                return None
            raise CollectionError(path, "is compressed but ends inside a FITS header; truncated or corrupt?")
        if first and not blocks and not block.startswith(b"SIMPLE"):
            raise CollectionError(path, "is compressed but holds no FITS file (no SIMPLE card at its start)")
        blocks.append(block)
        if any(
            block[i : i + 3] == b"END" and block[i + 3 : i + 80].strip() == b""
            for i in range(0, len(block), 80)
        ):
            break
    else:
        raise CollectionError(
            path,
            f"has a FITS header longer than {MAX_HEADER_BLOCKS} blocks without END; truncated or corrupt?",
        )
    text = b"".join(blocks).decode("ascii", "replace")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fits.Header.fromstring(text)
    except Exception as exc:  # astropy's many exception types for malformed cards
        raise CollectionError(
            path, f"has a FITS header that cannot be parsed ({type(exc).__name__}: {exc})"
        ) from exc


def _skip(handle, size: int) -> None:
    while size > 0:
        chunk = handle.read(min(size, 1 << 20))
        if not chunk:
            return
        size -= len(chunk)

"""Readers for FITS: one cube or image per file, or a folder of per-object FITS cutouts.

Pixels are read through astropy's ``section`` interface, so integer images with BSCALE/BZERO are
scaled on read (unsigned 16-bit with BZERO = 32768 stays ``uint16``; other scaled integers become
float), tile-compressed images (``CompImageHDU``, e.g. RICE) decompress only the tiles asked for,
and gzip files are recognised by their content whatever their name. A header is checked before
anything is read (:func:`galview.io.fits_headers.image_axes`); a cutout larger than
:data:`galview.core.budget.MAX_CUTOUT_BYTES` is refused before its pixels are read.

In a folder of per-object files, a file in the plainest form (an unscaled, uncompressed primary
image with a WCS centred on it, as cutout services write) is read without astropy
(:mod:`galview.io.plain_fits`: the same values, 4–30× faster); every other file as above.
"""

from __future__ import annotations

import logging
import math
import threading
import warnings
from pathlib import Path

import numpy as np

from galview.core.budget import MAX_CUTOUT_BYTES, megabytes
from galview.core.collection import ArrayCollection, Collection
from galview.core.errors import CollectionError
from galview.core.layout import MAX_BANDS
from galview.io import plain_fits
from galview.io.fits_headers import (
    celestial_wcs,
    check_compressed_size,
    fits_bands,
    header_coords,
    header_unit,
    image_axes,
)
from galview.io.folder_files import first_readable
from galview.io.registry import FITS_SUFFIXES
from galview.io.tables import read_label_table
from galview.io.text import one_line, valid_text

logger = logging.getLogger(__name__)

__all__ = [
    "FitsCollection",
    "FitsFolderCollection",
    "celestial_wcs",
    "fits_bands",
    "header_unit",
    "open_fits",
]
__all__ += ["open_fits_folder"]


def _open_hdul(path: Path, memmap: bool | None = None):
    """The HDU list, headers read lazily; astropy's many exception types become a CollectionError.

    A gzip or bzip2 file is first walked header by header (:func:`check_compressed_size`): astropy
    would decompress all of a gzip bomb's data just to open it.
    """
    from astropy.io import fits

    _check_compressed(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fits.open(path, memmap=memmap, lazy_load_hdus=True)
    except MemoryError:
        raise
    except KeyError as exc:  # astropy sizes the data from NAXISn while parsing the header
        raise CollectionError(
            path, f"has a FITS header without the keyword {exc.args[0]}; expected a complete image header"
        ) from exc
    except Exception as exc:  # OSError, ValueError, TypeError, EOFError, VerifyError...
        _check_first_header(path)
        raise CollectionError(
            path, f"is not a readable FITS file, truncated or corrupt ({_reason(exc)})"
        ) from exc


def _check_compressed(path: Path) -> None:
    """Refuse a compressed FITS file whose data up to its first image exceeds the cutout budget."""
    import bz2
    import gzip
    import zlib

    with open(path, "rb") as handle:
        head = handle.read(3)
    opener = gzip.open if head.startswith(b"\x1f\x8b") else bz2.open if head == b"BZh" else None
    if opener is None:
        return
    try:
        with opener(path, "rb") as stream:
            check_compressed_size(path, stream, MAX_CUTOUT_BYTES)
    except (OSError, EOFError, zlib.error) as exc:
        raise CollectionError(
            path, f"is compressed but cannot be decompressed, truncated or corrupt ({_reason(exc)})"
        ) from exc


def _check_first_header(path: Path) -> None:
    """Raise the header's own problem (a missing or negative NAXISn, a bad BITPIX) if it has one."""
    from astropy.io import fits

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            header = fits.Header.fromfile(path)
    except Exception:  # not even a header: the caller's message stands
        return
    image_axes(path, header)


def _reason(exc: BaseException) -> str:
    """An exception as a short one-line reason for a message."""
    text = one_line(exc)
    return text if text == type(exc).__name__ else f"{type(exc).__name__}: {text}"


def _is_compressed(path: Path) -> bool:
    """Whether the file is compressed as a whole (gzip, bzip2, zip): decided by content, not name."""
    with open(path, "rb") as handle:
        return not handle.read(6).startswith(b"SIMPLE")


def _hdus(path: Path, hdul):
    """Each HDU in turn; reading the next header's failure is a CollectionError."""
    index = 0
    while True:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                hdu = hdul[index]
        except IndexError:
            return
        except MemoryError:
            raise
        except Exception as exc:
            raise CollectionError(
                path, f"HDU {index} cannot be read, truncated or corrupt ({_reason(exc)})"
            ) from exc
        yield hdu
        index += 1


def _is_image(path: Path, index: int, hdu) -> bool:
    """Whether an HDU is an image; a header whose XTENSION card cannot be parsed is a CollectionError."""
    try:
        return bool(getattr(hdu, "is_image", False))
    except MemoryError:
        raise
    except Exception as exc:  # astropy's VerifyError for an unparsable card
        raise CollectionError(
            path,
            f"HDU {index} has an unparsable header ({_reason(exc).split(', fix it first')[0]}); "
            "expected a valid FITS image header",
        ) from exc


def _image_hdu(path: Path, hdul):
    """The first HDU holding a 2-D to 4-D numeric image, checked against its header and truncation."""
    from astropy.io import fits

    for index, hdu in enumerate(_hdus(path, hdul)):
        if not _is_image(path, index, hdu):
            continue
        shape = image_axes(path, hdu.header)
        if len(shape) < 2:
            continue
        if len(shape) > 4:
            raise CollectionError(
                path, f"image has {len(shape)} axes; expected 2 (H, W), 3 (C, H, W) or 4 (N, C, H, W)"
            )
        if not isinstance(hdu, fits.CompImageHDU) and not _is_compressed(path):
            _check_not_truncated(path, hdu, shape)
        return hdu
    raise CollectionError(path, "has no image HDU; expected a 2-D image or a (C, H, W) / (N, C, H, W) cube")


def _check_not_truncated(path: Path, hdu, shape: tuple[int, ...]) -> None:
    info = hdu.fileinfo()
    if info is None:
        return
    size = path.stat().st_size
    bytes_needed = info["datLoc"] + abs(hdu.header["BITPIX"]) // 8 * int(np.prod(shape, dtype=object))
    if bytes_needed > size:
        raise CollectionError(
            path, f"is truncated: its header announces {bytes_needed} bytes of data, the file holds {size}"
        )


def _section(path: Path, hdu):
    """The HDU's lazily read, scaled pixels (astropy ``Section``/``CompImageSection``)."""
    try:
        section = hdu.section
        np.dtype(section.dtype)
    except MemoryError:
        raise
    except Exception as exc:
        raise CollectionError(path, f"image data cannot be read ({_reason(exc)})") from exc
    return section


def _stack_layout(shape: tuple[int, ...], layout: str | None) -> str:
    if layout:
        return layout.upper()
    if len(shape) == 2:
        return "HW"
    if len(shape) == 3:
        return "CHW" if shape[0] <= MAX_BANDS else "NHW"
    return "NCHW"


def _check_budget(path: Path, cutout_shape: tuple[int, ...], dtype) -> None:
    """Refuse a cutout that would take more than :data:`MAX_CUTOUT_BYTES` once read."""
    size = int(np.prod(cutout_shape, dtype=object)) * np.dtype(dtype).itemsize
    if size > MAX_CUTOUT_BYTES:
        shown = "×".join(str(s) for s in cutout_shape)
        raise CollectionError(
            path,
            f"holds cutouts of {shown} {np.dtype(dtype).name} ({megabytes(size)} each); "
            f"GalView shows cutouts of at most {megabytes(MAX_CUTOUT_BYTES)}",
        )


def _read_section(path: Path, section, key) -> np.ndarray:
    """``section[key]`` as an array; a damaged tile or short file is a CollectionError."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return np.asarray(section[key])
    except MemoryError:
        raise
    except Exception as exc:  # astropy's decompressors raise OSError, ValueError, RuntimeError...
        raise CollectionError(
            path, f"image data cannot be read, truncated or corrupt ({_reason(exc)})"
        ) from exc


class _Pixels:
    """A section as an array-like for :class:`ArrayCollection`, optionally seen with a leading axis of
    one (a single image or cube as a stack of one cutout); read errors name the file.

    Reads are serialised: astropy reads compressed tiles and gzip streams through one shared file
    handle, which two threads (the window's thumbnails and its detail view) must not seek at once.
    A single compressed image is decompressed once and kept (it is within the cutout budget).
    """

    def __init__(self, path: Path, section, add_axis: bool, keep: bool = False):
        self._path, self._section, self._add_axis, self._keep = path, section, add_axis, keep
        self.shape = (1, *section.shape) if add_axis else tuple(section.shape)
        self.dtype = np.dtype(section.dtype)
        self._lock = threading.Lock()
        self._whole: np.ndarray | None = None

    def __getitem__(self, key):
        with self._lock:
            if not self._add_axis:
                return _read_section(self._path, self._section, key)
            whole = self._whole
            if whole is None:
                whole = _read_section(
                    self._path, self._section, tuple(slice(None) for _ in self._section.shape)
                )
                self._whole = whole if self._keep else None
        return whole[np.newaxis][key]


class FitsCollection(ArrayCollection):
    """A FITS image or cube; keeps the HDU list open (memory-mapped) until closed."""

    def __init__(self, source, hdul, data, layout, header, **kwargs):
        self._hdul = hdul
        self._header = header
        super().__init__(source, data, layout, **kwargs)

    def wcs(self, index: int):
        return self._cached("wcs", lambda: celestial_wcs(self._header)) if len(self) == 1 else None

    def flux_unit(self) -> str | None:
        return header_unit(self._header)

    def close(self) -> None:
        self._hdul.close()


def open_fits(path: Path, layout: str | None = None, **_ignored) -> FitsCollection:
    """Open a FITS file holding one image (H, W), one cube (C, H, W) or a stack (N, C, H, W)."""
    from astropy.io import fits

    hdul = _open_hdul(path)
    try:
        hdu = _image_hdu(path, hdul)
        section = _section(path, hdu)
        kind = _stack_layout(tuple(section.shape), layout)
        single = kind in ("HW", "CHW")
        compressed = isinstance(hdu, fits.CompImageHDU) or _is_compressed(path)
        data = _Pixels(path, section, add_axis=single, keep=single and compressed)
        if single:
            kind = "NHW" if kind == "HW" else "NCHW"
        _check_budget(path, data.shape[1:], data.dtype)
        if single and compressed:
            _ = data[0:1]  # damaged tiles or a truncated stream: refused now, not in a thumbnail thread
        n_channels = data.shape[1] if kind == "NCHW" else (1 if kind == "NHW" else data.shape[-1])
        header = hdu.header
        coords = header_coords(header, *data.shape[-2:]) if data.shape[0] == 1 else None
        return FitsCollection(
            path,
            hdul,
            data,
            kind,
            header,
            bands=fits_bands(header, n_channels),
            ra=None if coords is None else np.array([coords[0]]),
            dec=None if coords is None else np.array([coords[1]]),
            ids=np.array([valid_text(path.name.split(".")[0])]) if data.shape[0] == 1 else None,
        )
    except BaseException:
        hdul.close()
        raise


def _read_fits_cutout(path: Path, layout: str | None) -> tuple[np.ndarray, object]:
    """(C, H, W) data and header of one per-object FITS file."""
    hdul = _open_hdul(path, memmap=False)
    with hdul:
        hdu = _image_hdu(path, hdul)
        section = _section(path, hdu)
        shape = tuple(section.shape)
        kind = _stack_layout(shape, layout)
        if kind not in ("HW", "CHW"):
            raise CollectionError(path, f"holds shape {shape}; expected one cutout, (H, W) or (C, H, W)")
        _check_budget(path, shape, section.dtype)
        data = _read_section(path, section, tuple(slice(None) for _ in shape))
        header = hdu.header.copy()
    return (data[np.newaxis] if kind == "HW" else data), header


def _read_plain_cutout(path: Path, layout: str | None) -> np.ndarray | None:
    """(C, H, W) data of a plain per-object file read without astropy (:mod:`galview.io.plain_fits`),
    or None when the file is not plain or not one cutout as ``layout`` says (astropy then reads it)."""

    def wanted(shape, dtype) -> bool:
        """One cutout as ``layout`` says, within the budget (beyond it, refused in words by astropy's path)."""
        one = _stack_layout(shape, layout) == ("HW" if len(shape) == 2 else "CHW")
        return one and math.prod(shape) * dtype.itemsize <= MAX_CUTOUT_BYTES

    data = plain_fits.read_image(path, wanted)
    if data is None:
        return None
    return data[np.newaxis] if data.ndim == 2 else data


def _centre_coords(path: Path, height: int, width: int) -> tuple[float, float] | None:
    """(ra, dec) at a per-object file's centre: from its plain header when that is enough, else as
    astropy reads the header (None for a file that cannot be read)."""
    header = plain_fits.read_header(path)
    coords = plain_fits.NOT_PLAIN if header is None else plain_fits.centre_coords(header, height, width)
    if coords is not plain_fits.NOT_PLAIN:
        return coords
    full = _header_or_none(path)
    return None if full is None else header_coords(full, height, width)


def _read_fits_header(path: Path):
    """The header of a per-object FITS file's image HDU, without reading its pixels."""
    with _open_hdul(path, memmap=False) as hdul:
        return _image_hdu(path, hdul).header.copy()


def _header_or_none(path: Path):
    """:func:`_read_fits_header`, or None when the file cannot be read (its cutout says why when read)."""
    try:
        return _read_fits_header(path)
    except CollectionError:
        return None


class FitsFolderCollection(Collection):
    """A folder of per-object FITS files, one cutout each, read on demand.

    Labels come from an optional ``labels.csv`` naming the files; RA/Dec from each file's WCS at
    the cutout centre, else from its RA/DEC keywords.
    """

    def __init__(self, folder: Path, files: list[Path], layout: str | None):
        self._files = files
        self._layout = layout
        first, header = first_readable(files, lambda path: _read_fits_cutout(path, layout))
        c, h, w = first.shape
        super().__init__(folder, len(files), (h, w, c), first.dtype, fits_bands(header, c))
        self._unit = header_unit(header)
        self._table = read_label_table(folder, [f.name for f in files])

    def _read(self, indices: np.ndarray) -> np.ndarray:
        out = np.empty((len(indices), *self.shape), dtype=self.dtype)
        for row, i in enumerate(indices):
            data = _read_plain_cutout(self._files[i], self._layout)
            if data is None:
                data, _header = _read_fits_cutout(self._files[i], self._layout)
            if data.shape != (self.shape[2], self.shape[0], self.shape[1]):
                raise CollectionError(
                    self._files[i],
                    f"holds shape {data.shape}; expected {(self.shape[2], *self.shape[:2])} like the first file",
                )
            out[row] = np.moveaxis(data, 0, -1)
        return out

    def wcs(self, index: int):
        return self._cached(f"wcs{index}", lambda: celestial_wcs(_read_fits_header(self._files[index])))

    def flux_unit(self) -> str | None:
        """The first file's ``BUNIT`` (the files of a folder are taken to share it)."""
        return self._unit

    def _load_coords(self):
        if self._table is not None and self._table.ra is not None:
            return self._table.ra, self._table.dec
        ra = np.full(len(self), np.nan)
        dec = np.full(len(self), np.nan)
        for i, path in enumerate(self._files):
            coords = _centre_coords(path, self.shape[0], self.shape[1])
            if coords is not None:
                ra[i], dec[i] = coords
        return ra, dec

    def _load_labels(self):
        return None if self._table is None else self._table.labels

    def _load_class_names(self):
        return None if self._table is None else self._table.class_names

    def _load_ids(self):
        if self._table is not None and self._table.ids is not None:
            return self._table.ids
        return np.array([valid_text(f.name.split(".")[0]) for f in self._files])


def open_fits_folder(folder: Path, layout: str | None = None, **_ignored) -> FitsFolderCollection:
    """Open a folder of per-object FITS cutouts, sorted by file name."""
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.name.lower().endswith(FITS_SUFFIXES))
    if not files:
        raise CollectionError(folder, "holds no FITS files; expected per-object .fits cutouts")
    return FitsFolderCollection(folder, files, layout)

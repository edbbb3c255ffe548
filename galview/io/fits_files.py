"""Readers for FITS: one cube or image per file, or a folder of per-object FITS cutouts."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import numpy as np

from galview.core.collection import ArrayCollection, Collection
from galview.core.errors import CollectionError
from galview.core.layout import MAX_BANDS
from galview.io.registry import FITS_SUFFIXES
from galview.io.tables import read_label_table

logger = logging.getLogger(__name__)


def _open_hdul(path: Path, memmap: bool = True):
    from astropy.io import fits

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fits.open(path, memmap=memmap, lazy_load_hdus=False)
    except (OSError, ValueError, TypeError, EOFError) as exc:
        raise CollectionError(path, f"is not a readable FITS file, truncated or corrupt ({exc})") from exc


def _image_hdu(path: Path, hdul):
    """The first HDU holding a 2-D to 4-D numeric image, checked against truncation."""
    size = path.stat().st_size
    for hdu in hdul:
        naxis = hdu.header.get("NAXIS", 0)
        if not getattr(hdu, "is_image", False) or naxis < 2:
            continue
        if naxis > 4:
            raise CollectionError(
                path, f"image has {naxis} axes; expected 2 (H, W), 3 (C, H, W) or 4 (N, C, H, W)"
            )
        info = hdu.fileinfo()
        if info is not None and not path.name.lower().endswith((".gz", ".fz")):
            bytes_needed = info["datLoc"] + abs(hdu.header.get("BITPIX", 8)) // 8 * int(
                np.prod([hdu.header.get(f"NAXIS{i}", 0) for i in range(1, naxis + 1)])
            )
            if bytes_needed > size:
                raise CollectionError(
                    path,
                    f"is truncated: its header announces {bytes_needed} bytes of data, the file holds {size}",
                )
        return hdu
    raise CollectionError(path, "has no image HDU; expected a 2-D image or a (C, H, W) / (N, C, H, W) cube")


def fits_bands(header, n_channels: int) -> list[str] | None:
    """Band names from BANDS ('grz') or BAND0..BANDn or FILTER keywords, if present."""
    bands = header.get("BANDS")
    if isinstance(bands, str):
        bands = bands.strip()
        names = bands.split(",") if "," in bands else list(bands)
        if len(names) == n_channels:
            return names
    names = [header.get(f"BAND{i}") for i in range(n_channels)]
    if all(isinstance(n, str) for n in names):
        return [n.strip() for n in names]
    if n_channels == 1 and isinstance(header.get("FILTER"), str):
        return [header["FILTER"].strip()]
    return None


def header_unit(header) -> str | None:
    """The pixel unit a header states (``BUNIT``), stripped; None when absent or blank."""
    unit = header.get("BUNIT")
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


def _stack_layout(shape: tuple[int, ...], layout: str | None) -> str:
    if layout:
        return layout.upper()
    if len(shape) == 2:
        return "HW"
    if len(shape) == 3:
        return "CHW" if shape[0] <= MAX_BANDS else "NHW"
    return "NCHW"


class _LeadingAxis:
    """View a single image or cube as a stack of one cutout: adds axis 0 on read."""

    def __init__(self, data):
        self._data = data
        self.shape = (1, *data.shape)
        self.dtype = data.dtype

    def __getitem__(self, key):
        return np.asarray(self._data)[np.newaxis][key]


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
    hdul = _open_hdul(path)
    try:
        hdu = _image_hdu(path, hdul)
        try:
            data = hdu.data
        except (OSError, ValueError, TypeError) as exc:
            raise CollectionError(path, f"image data cannot be read ({exc})") from exc
        kind = _stack_layout(data.shape, layout)
        if kind in ("HW", "CHW"):
            data = _LeadingAxis(data)
            kind = "NHW" if kind == "HW" else "NCHW"
        n_channels = data.shape[1] if kind == "NCHW" else (1 if kind == "NHW" else data.shape[-1])
        header = hdu.header
        wcs = celestial_wcs(header) if data.shape[0] == 1 else None
        ra = dec = None
        if wcs is not None:
            h, w = data.shape[-2:]
            ra_c, dec_c = centre_coords(wcs, h, w)
            ra, dec = np.array([ra_c]), np.array([dec_c])
        return FitsCollection(
            path,
            hdul,
            data,
            kind,
            header,
            bands=fits_bands(header, n_channels),
            ra=ra,
            dec=dec,
            ids=np.array([path.name.split(".")[0]]) if data.shape[0] == 1 else None,
        )
    except Exception:
        hdul.close()
        raise


def _read_fits_cutout(path: Path, layout: str | None) -> tuple[np.ndarray, object]:
    """(C, H, W) data and header of one per-object FITS file."""
    hdul = _open_hdul(path, memmap=False)
    with hdul:
        hdu = _image_hdu(path, hdul)
        try:
            data = np.asarray(hdu.data)
        except (OSError, ValueError, TypeError) as exc:
            raise CollectionError(path, f"image data cannot be read ({exc})") from exc
        header = hdu.header.copy()
    kind = _stack_layout(data.shape, layout)
    if kind == "HW":
        data = data[np.newaxis]
    elif kind != "CHW":
        raise CollectionError(path, f"holds shape {data.shape}; expected one cutout, (H, W) or (C, H, W)")
    return data, header


def _read_fits_header(path: Path):
    """The header of a per-object FITS file's image HDU, without reading its pixels."""
    with _open_hdul(path) as hdul:
        return _image_hdu(path, hdul).header.copy()


class FitsFolderCollection(Collection):
    """A folder of per-object FITS files, one cutout each, read on demand.

    Labels come from an optional ``labels.csv`` naming the files; RA/Dec from each
    file's WCS at the cutout centre.
    """

    def __init__(self, folder: Path, files: list[Path], layout: str | None):
        self._files = files
        self._layout = layout
        first, header = _read_fits_cutout(files[0], layout)
        c, h, w = first.shape
        super().__init__(folder, len(files), (h, w, c), first.dtype, fits_bands(header, c))
        self._unit = header_unit(header)
        self._table = read_label_table(folder, [f.name for f in files])

    def _read(self, indices: np.ndarray) -> np.ndarray:
        out = np.empty((len(indices), *self.shape), dtype=self.dtype)
        for row, i in enumerate(indices):
            data, _header = _read_fits_cutout(self._files[i], self._layout)
            if data.shape != (self.shape[2], self.shape[0], self.shape[1]):
                raise CollectionError(
                    self._files[i],
                    f"holds shape {data.shape}; expected {(self.shape[2], *self.shape[:2])} like the first file",
                )
            out[row] = np.moveaxis(data, 0, -1)
        return out

    def _headers(self):
        return self._cached("headers", lambda: [_read_fits_cutout(f, self._layout)[1] for f in self._files])

    def wcs(self, index: int):
        if "headers" in self._cache:
            return celestial_wcs(self._headers()[index])
        return self._cached(f"wcs{index}", lambda: celestial_wcs(_read_fits_header(self._files[index])))

    def flux_unit(self) -> str | None:
        """The first file's ``BUNIT`` (the files of a folder are taken to share it)."""
        return self._unit

    def _load_coords(self):
        if self._table is not None and self._table.ra is not None:
            return self._table.ra, self._table.dec
        ra = np.full(len(self), np.nan)
        dec = np.full(len(self), np.nan)
        for i in range(len(self)):
            wcs = self.wcs(i)
            if wcs is not None:
                ra[i], dec[i] = centre_coords(wcs, self.shape[0], self.shape[1])
        return ra, dec

    def _load_labels(self):
        return None if self._table is None else self._table.labels

    def _load_ids(self):
        if self._table is not None and self._table.ids is not None:
            return self._table.ids
        return np.array([f.name.split(".")[0] for f in self._files])


def open_fits_folder(folder: Path, layout: str | None = None, **_ignored) -> FitsFolderCollection:
    """Open a folder of per-object FITS cutouts, sorted by file name."""
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.name.lower().endswith(FITS_SUFFIXES))
    if not files:
        raise CollectionError(folder, "holds no FITS files; expected per-object .fits cutouts")
    return FitsFolderCollection(folder, files, layout)

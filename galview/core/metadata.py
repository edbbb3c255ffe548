"""Checks and conversions of the metadata a file stores beside its cutouts: labels, coordinates, ids, bands.

Files hold these in every odd shape and type (0-d arrays, 2-D columns, text where numbers belong,
bytes that are not UTF-8). Each function here either returns a clean value or raises a
:class:`CollectionError` that says what was found and what was expected.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from galview.core.errors import CollectionError

#: Largest class index a label may hold (a 32-bit integer; the label store keeps 64-bit ones).
MAX_CLASS = 2**31 - 1


def as_text(value) -> str:
    """A name or id as text: bytes are decoded as UTF-8, undecodable bytes shown as ``\\xff``."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, bytes | np.bytes_):
        return bytes(value).decode("utf-8", "backslashreplace")
    return str(value)


def one_per_cutout(path: str | Path, name: str, values, n: int) -> np.ndarray | None:
    """``values`` as a 1-D array of ``n`` plain values (None stays None).

    Raises
    ------
    CollectionError
        For Python objects, or any shape but (n,).
    """
    if values is None:
        return None
    values = np.asarray(values)
    if values.dtype.hasobject:
        raise CollectionError(path, f"{name} are Python objects; expected plain numbers or text")
    check_per_cutout_shape(path, name, values.shape, n)
    return values


def check_per_cutout_shape(path: str | Path, name: str, shape: tuple[int, ...], n: int) -> None:
    """Refuse metadata of any shape but (n,): one value per cutout (checked before reading it)."""
    if len(shape) != 1:
        raise CollectionError(
            path, f"{name} have shape {tuple(shape)}; expected one per cutout, shape ({n},)"
        )
    if shape[0] != n:
        raise CollectionError(path, f"has {shape[0]} {name} for {n} cutouts; expected one per cutout")


def checked_labels(path: str | Path, values: np.ndarray) -> np.ndarray:
    """Labels as stored, once they are class indices: integers 0…, -1 (unsure) or NaN (none)."""
    if values.dtype.kind not in "biuf":
        raise CollectionError(
            path,
            f"labels are of type {values.dtype}; expected integer class indices (-1 unsure, NaN none)",
        )
    numbers = values.astype(np.float64)
    known = numbers[~np.isnan(numbers)]
    bad = known[(known != np.round(known)) | (known < -1) | (known > MAX_CLASS)]
    if bad.size:
        raise CollectionError(
            path,
            f"a label is {bad[0]:g}; expected integer class indices 0 to {MAX_CLASS}, -1 (unsure) or NaN (none)",
        )
    return values


def checked_coordinate(path: str | Path, name: str, values: np.ndarray) -> np.ndarray:
    """RA or Dec values as float64 degrees (NaN where unknown)."""
    if values.dtype.kind not in "iuf":
        raise CollectionError(path, f"{name} are of type {values.dtype}; expected numbers in degrees")
    return values.astype(np.float64)


def checked_ids(path: str | Path, values: np.ndarray) -> np.ndarray:
    """Identifiers as stored, once they are text or numbers."""
    if values.dtype.kind not in "USbiufmM":
        raise CollectionError(path, f"ids are of type {values.dtype}; expected text or integers")
    return values


def text_ids(values: np.ndarray) -> np.ndarray:
    """Identifiers as a text array; bytes are decoded as UTF-8 (undecodable bytes shown as ``\\xff``)."""
    if values.dtype.kind == "U":
        return values
    if values.dtype.kind == "S":
        return np.array([as_text(v) for v in values.tolist()], dtype=str)
    return values.astype(str)


def band_names(bands, n_channels: int) -> tuple[str, ...] | None:
    """One name per channel from a file's band metadata, or None when it does not give that.

    A single text such as ``"grz"`` names one band per character, or ``"F115W,F150W"`` one per
    comma-separated part; an array of any shape names one band per element.
    """
    if bands is None:
        return None
    if isinstance(bands, str | bytes) or np.ndim(bands) == 0:
        text = as_text(bands)
        names = list(text) if len(text) == n_channels else [part.strip() for part in text.split(",")]
    else:
        array = np.asarray(bands)
        if array.dtype.hasobject and not all(isinstance(b, str | bytes) for b in array.reshape(-1)):
            return None
        names = [as_text(b) for b in array.reshape(-1).tolist()]
    return tuple(names) if len(names) == n_channels else None

"""Readers for .npy stacks (memory-mapped) and .npz archives (read lazily)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from galview.core.collection import ArrayCollection
from galview.core.errors import CollectionError
from galview.core.layout import detect_layout

IMAGE_KEYS = ("images", "image", "cutouts", "x", "X", "data")
LABEL_KEYS = ("labels", "label", "y")
ID_KEYS = ("ids", "id", "objid")


def choose_layout(path, shape: tuple[int, ...], layout: str | None) -> str:
    """The layout asked for, or the one detected from ``shape``; errors name the file."""
    if layout is not None:
        return layout.upper()
    try:
        return detect_layout(shape)
    except ValueError as exc:
        raise CollectionError(path, str(exc)) from exc


def _explain_npy_error(path, exc: Exception) -> CollectionError:
    text = str(exc)
    if "allow_pickle" in text or "Object arrays" in text or "Python objects" in text:
        return CollectionError(
            path, "holds Python objects, which GalView never unpickles; expected a numeric array"
        )
    if "mmap length" in text or "cannot reshape" in text or "larger than" in text:
        return CollectionError(path, "is truncated: it holds fewer bytes than its header announces")
    return CollectionError(path, f"is not a valid .npy file ({text})")


def open_npy(path: Path, layout: str | None = None, **_ignored) -> ArrayCollection:
    """Open an (N, H, W, C), (N, C, H, W) or (N, H, W) ``.npy`` file as a memory map."""
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise _explain_npy_error(path, exc) from exc
    if array.dtype.hasobject:
        raise CollectionError(
            path, "holds Python objects, which GalView never unpickles; expected a numeric array"
        )
    return ArrayCollection(path, array, choose_layout(path, array.shape, layout))


class _LazyNpzMember:
    """An npz member whose header is read now and whose pixels are read on first use."""

    def __init__(self, path: Path, member: str, shape: tuple[int, ...], dtype: np.dtype):
        self.path, self.member, self.shape, self.dtype = path, member, shape, dtype
        self._array: np.ndarray | None = None

    def _load(self) -> np.ndarray:
        if self._array is None:
            try:
                with np.load(self.path, allow_pickle=False) as archive:
                    self._array = archive[self.member[:-4]]
            except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
                raise _explain_npy_error(self.path, exc) from exc
        return self._array

    def __getitem__(self, key):
        return self._load()[key]


def _npz_headers(path: Path) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """Shape and dtype of every array in an npz archive, read from the member headers only."""
    headers = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                if not name.endswith(".npy"):
                    continue
                with archive.open(name) as member:
                    version = np.lib.format.read_magic(member)
                    if version == (1, 0):
                        shape, _fortran, dtype = np.lib.format.read_array_header_1_0(member)
                    else:
                        shape, _fortran, dtype = np.lib.format.read_array_header_2_0(member)
                headers[name] = (tuple(shape), np.dtype(dtype))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise CollectionError(path, f"is not a readable .npz archive ({exc})") from exc
    return headers


def _pick(keys: tuple[str, ...], available: dict) -> str | None:
    for key in keys:
        if key + ".npy" in available:
            return key + ".npy"
    return None


def open_npz(
    path: Path, layout: str | None = None, dataset: str | None = None, **_ignored
) -> ArrayCollection:
    """Open an ``.npz`` archive with an ``images`` array and optional labels, ra, dec, ids, bands."""
    headers = _npz_headers(path)
    member = _pick((dataset,) if dataset else IMAGE_KEYS, headers)
    if member is None:
        stacks = [k for k, (shape, _dt) in headers.items() if len(shape) in (3, 4)]
        if len(stacks) != 1:
            found = ", ".join(k[:-4] for k in headers) or "nothing"
            raise CollectionError(
                path, f"has no 'images' array (found {found}); expected images of shape (N, H, W, C)"
            )
        member = stacks[0]
    shape, dtype = headers[member]
    if dtype.hasobject:
        raise CollectionError(path, f"array '{member[:-4]}' holds Python objects; expected numeric pixels")
    images = _LazyNpzMember(path, member, shape, dtype)

    def small(keys):
        key = _pick(keys, headers)
        if key is None:
            return None
        if headers[key][1].hasobject:
            raise CollectionError(path, f"array '{key[:-4]}' holds Python objects; expected numbers or text")
        return lambda: _LazyNpzMember(path, key, *headers[key])._load()

    bands_loader = small(("bands",))
    bands = [str(b) for b in bands_loader()] if bands_loader else None
    return ArrayCollection(
        path,
        images,
        choose_layout(path, shape, layout),
        bands=bands,
        labels=small(LABEL_KEYS),
        ra=small(("ra",)),
        dec=small(("dec",)),
        ids=small(ID_KEYS),
    )

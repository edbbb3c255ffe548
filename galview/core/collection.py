"""The collection protocol: random access to cutouts and their metadata, lazily."""

from __future__ import annotations

import abc
from pathlib import Path
from typing import Any

import numpy as np

from galview.core.budget import check_collection_size, check_read
from galview.core.errors import CollectionError
from galview.core.metadata import (
    as_text,
    band_names,
    checked_coordinate,
    checked_ids,
    checked_labels,
    one_per_cutout,
    text_ids,
)

#: Default display-band names for 3-channel uint8 images (already colour composites).
RGB_BANDS = ("R", "G", "B")


def default_bands(n_channels: int, dtype: np.dtype) -> tuple[str, ...]:
    """Band names to use when a file does not name its bands."""
    if n_channels == 3 and np.dtype(dtype) == np.uint8:
        return RGB_BANDS
    if n_channels == 1:
        return ("L",) if np.dtype(dtype) == np.uint8 else ("band0",)
    return tuple(f"band{i}" for i in range(n_channels))


def check_pixel_dtype(path: str | Path, dtype: np.dtype) -> np.dtype:
    """Refuse pixel types GalView cannot show (objects, strings, complex)."""
    dtype = np.dtype(dtype)
    if dtype.kind not in "uif":
        raise CollectionError(path, f"expected numeric pixel values (integer or float), found dtype {dtype}")
    return dtype.newbyteorder("=")  # FITS is big-endian; hand out native-order arrays


class Collection(abc.ABC):
    """A set of same-shaped cutouts with optional labels, ids and sky coordinates.

    Subclasses implement :meth:`_read` and, where the file has them, the ``_load_*``
    methods. Pixels are never read when a collection is opened; metadata arrays are
    loaded on first use and cached.

    Attributes
    ----------
    source : Path
        The file or folder the collection came from.
    shape : tuple of int
        (H, W, C) of one cutout.
    dtype : numpy.dtype
        Native pixel type; uint8 RGB stays uint8.
    bands : tuple of str
        One name per channel.
    opened_with : dict or None
        ``{"path": ..., "options": {...}}`` that :func:`galview.io.open_collection` opens again,
        in another process; None for a collection built in memory.
    """

    opened_with: dict | None = None

    def __init__(self, source: str | Path, n: int, shape: tuple[int, int, int], dtype, bands=None):
        self.source = Path(source)
        self.dtype = check_pixel_dtype(source, dtype)
        if n <= 0:
            raise CollectionError(source, "holds zero cutouts; expected at least one")
        h, w, c = (int(v) for v in shape)
        if c < 1:
            raise CollectionError(source, "cutouts have no band (0 channels); expected at least one")
        if h < 2 or w < 2:
            raise CollectionError(source, f"cutouts of {h}×{w} pixels are too small; expected at least 2×2")
        check_collection_size(source, n, (h, w, c))
        self._n = int(n)
        self.shape = (h, w, c)
        self.bands = band_names(bands, c) or default_bands(c, self.dtype)
        self._cache: dict[str, Any] = {}

    # -- pixels -----------------------------------------------------------------------
    def __len__(self) -> int:
        return self._n

    @abc.abstractmethod
    def _read(self, indices: np.ndarray) -> np.ndarray:
        """Read cutouts at sorted, unique, in-range indices as (B, H, W, C)."""

    def __getitem__(self, index: int) -> np.ndarray:
        """``collection[i]`` is ``collection.get(i)``: one (H, W, C) cutout."""
        return self.get(int(index))

    def get(self, index: int) -> np.ndarray:
        """One cutout as an (H, W, C) array of the native dtype."""
        return self.get_batch([index])[0]

    def get_batch(self, indices) -> np.ndarray:
        """Cutouts at any indices (repeats and any order allowed) as (B, H, W, C).

        Raises
        ------
        IndexError
            If an index is out of range.
        CollectionError
            If the file cannot be read there, or a cutout has no finite pixel.
        """
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        if idx.size == 0:
            return np.empty((0, *self.shape), dtype=self.dtype)
        idx = np.where(idx < 0, idx + self._n, idx)
        if idx.min() < 0 or idx.max() >= self._n:
            raise IndexError(f"cutout index out of range for a collection of {self._n}")
        unique, inverse = np.unique(idx, return_inverse=True)
        check_read(self.source, unique.size, self.shape, self.dtype)
        try:
            block = self._read(unique)
        except CollectionError:
            raise
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise CollectionError(self.source, f"could not read cutouts ({exc})") from exc
        if block.dtype != self.dtype:
            block = block.astype(self.dtype)
        if block.shape[1:] != self.shape:
            raise CollectionError(
                self.source, f"a cutout has shape {block.shape[1:]}; expected {self.shape} like the first"
            )
        if self.dtype.kind == "f":
            self._check_finite(block, unique)
        return block[inverse] if unique.size != idx.size or not np.array_equal(unique, idx) else block

    def get_batch_skipping(self, indices) -> tuple[np.ndarray, dict[int, str]]:
        """Like :meth:`get_batch`, but a cutout that cannot be read (all NaN, a damaged image of a
        folder) comes back as zeros, its position in ``indices`` → why in the dict.

        The batch is read at once; only if that fails, cutout by cutout. When no cutout of a batch
        of several can be read, the file itself is at fault: its error is raised.
        """
        try:
            return self.get_batch(indices), {}
        except CollectionError as batch_error:
            whole_batch = batch_error
        indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        cutouts = np.zeros((len(indices), *self.shape), dtype=self.dtype)
        unreadable = {}
        for position, index in enumerate(indices):
            try:
                cutouts[position] = self.get_batch([int(index)])[0]
            except CollectionError as exc:  # its reason, naming the file when it is one of a folder's
                unreadable[position] = exc.problem if str(exc.path) == str(self.source) else str(exc)
        if len(indices) > 1 and len(unreadable) == len(indices):
            raise whole_batch
        return cutouts, unreadable

    def _check_finite(self, block: np.ndarray, indices: np.ndarray) -> None:
        finite_any = np.isfinite(block).reshape(len(block), -1).any(axis=1)
        if not finite_any.all():
            bad = int(indices[np.argmin(finite_any)])
            raise CollectionError(
                self.source, f"cutout {bad} has no finite pixel (all NaN/Inf); expected image data"
            )

    # -- metadata ---------------------------------------------------------------------
    def _load_labels(self) -> np.ndarray | None:
        return None

    def _load_coords(self) -> tuple[np.ndarray, np.ndarray] | None:
        return None

    def _load_ids(self) -> np.ndarray | None:
        return None

    def _load_class_names(self) -> tuple[str, ...] | None:
        """Names of the label values 0, 1, … as the file gives them (an attribute, a column name)."""
        return None

    def _cached(self, key: str, loader):
        if key not in self._cache:
            try:
                value = loader()
            except CollectionError:
                raise
            except (OSError, ValueError, KeyError, RuntimeError, TypeError) as exc:
                what = {"coords": "coordinates", "raw_ids": "ids"}.get(key, key)
                raise CollectionError(self.source, f"could not read its {what} ({exc})") from exc
            self._cache[key] = value
        return self._cache[key]

    def _checked_length(self, name: str, values) -> np.ndarray | None:
        return one_per_cutout(self.source, name, values, self._n)

    @property
    def labels(self) -> np.ndarray | None:
        """Original labels from the file, shape (N,), or None.

        Raises
        ------
        CollectionError
            If they are not one integer class index (or -1, or NaN) per cutout.
        """

        def load():
            values = self._checked_length("labels", self._load_labels())
            return None if values is None else checked_labels(self.source, values)

        return self._cached("labels", load)

    @property
    def class_names(self) -> tuple[str, ...] | None:
        """Names of the label values 0, 1, … from the file (or :meth:`set_class_names`), or None.

        None means the file does not say: GalView then calls the classes "0", "1"… and never borrows
        another task's names (a model's, say).
        """
        return self._cached("class_names", lambda: _valid_class_names(self.source, self._load_class_names()))

    def set_class_names(self, names) -> None:
        """Name the label values 0, 1, … (``galview view --classes``, Labels ▸ Class names…); None forgets."""
        self._cache["class_names"] = None if names is None else _valid_class_names(self.source, names)

    @property
    def coords(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(ra, dec) in degrees, each shape (N,) with NaN where unknown, or None."""

        def load():
            pair = self._load_coords()
            if pair is None:
                return None
            ra, dec = (
                checked_coordinate(self.source, name, self._checked_length(name, values))
                for name, values in (("RA values", pair[0]), ("Dec values", pair[1]))
            )
            return (ra, dec) if np.isfinite(ra).any() else None

        return self._cached("coords", load)

    def readable_coords(self) -> tuple[np.ndarray, np.ndarray] | None:
        """:attr:`coords`, or None also when the file's positions cannot be read (what a table or a search
        leaves out rather than fail on)."""
        try:
            return self.coords
        except CollectionError:
            return None

    @property
    def ra(self) -> np.ndarray | None:
        return None if self.coords is None else self.coords[0]

    @property
    def dec(self) -> np.ndarray | None:
        return None if self.coords is None else self.coords[1]

    def _raw_ids(self) -> np.ndarray | None:
        def load():
            values = self._checked_length("ids", self._load_ids())
            return None if values is None else checked_ids(self.source, values)

        return self._cached("raw_ids", load)

    @property
    def ids(self) -> np.ndarray:
        """Identifier of each cutout as text, shape (N,); the index when the file has none."""

        def load():
            raw = self._raw_ids()
            if raw is None:
                # as wide as the largest index: a million in 0.11 s and 28 MB (astype(str): 0.4 s, 84 MB)
                return np.arange(self._n).astype(f"U{len(str(max(self._n - 1, 0)))}")
            return text_ids(raw)

        return self._cached("ids", load)

    def id_of(self, index: int) -> str:
        """Identifier of one cutout, without building an id array when the file has none."""
        raw = self._raw_ids()
        return str(index) if raw is None else as_text(raw[index])

    @property
    def has_labels(self) -> bool:
        return self.labels is not None

    @property
    def has_coords(self) -> bool:
        return self.coords is not None

    @property
    def has_ids(self) -> bool:
        """Whether the file gives ids (else each cutout's id is its index)."""
        return self._raw_ids() is not None

    def wcs(self, index: int):
        """Celestial WCS of one cutout (astropy ``WCS``) for pixel-to-sky readout, or None."""
        return None

    def flux_unit(self) -> str | None:
        """The unit of the pixel values as the file states it (FITS ``BUNIT``), or None if it does not."""
        return None

    def pixel_scale(self, index: int) -> float | None:
        """Arcseconds per pixel of one cutout, from its WCS; None when the file does not say."""
        from galview.core.sky_scale import arcsec_per_pixel

        return arcsec_per_pixel(self.wcs(index))

    def describe(self) -> dict:
        """Summary used by ``galview info``: n, shape (H, W, C), dtype, bands, has_labels, has_coords.

        Reads (and so checks) every metadata column, ids included: bad metadata is reported here,
        when a collection is opened, not later in a thumbnail or a score file.
        """
        self._raw_ids()
        return {
            "n": len(self),
            "shape": list(self.shape),
            "dtype": str(self.dtype),
            "bands": list(self.bands),
            "has_labels": self.has_labels,
            "has_coords": self.has_coords,
        }

    def close(self) -> None:
        """Release open file handles; the collection cannot be read afterwards."""
        return None  # readers that hold handles override this

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self) -> str:
        h, w, c = self.shape
        return f"<{type(self).__name__} {len(self)} × {h}×{w}×{c} {self.dtype} from {self.source}>"


class ArrayCollection(Collection):
    """A collection over one array-like stack: numpy array, memory map or h5py dataset.

    Parameters
    ----------
    source : str or Path
        Where the array came from (used in messages).
    array : array-like
        Stored stack, 3-D or 4-D, indexable along its first axis.
    layout : {"NHWC", "NCHW", "NHW"}
        Axis order of ``array``.
    labels, ra, dec, ids : array-like or callable, optional
        Metadata, or zero-argument callables that load it on first use.
    """

    def __init__(
        self,
        source,
        array,
        layout: str,
        *,
        bands=None,
        labels=None,
        ra=None,
        dec=None,
        ids=None,
        class_names=None,
    ):
        from galview.core.layout import cutout_shape

        self._array = array
        self._layout = layout
        try:
            shape = cutout_shape(tuple(array.shape), layout)
        except ValueError as exc:
            raise CollectionError(source, str(exc)) from exc
        super().__init__(source, array.shape[0], shape, array.dtype, bands)
        self._meta = {"labels": labels, "ra": ra, "dec": dec, "ids": ids, "class_names": class_names}

    def _meta_value(self, key):
        value = self._meta[key]
        return value() if callable(value) else value

    def _load_labels(self):
        return self._meta_value("labels")

    def _load_coords(self):
        ra, dec = self._meta_value("ra"), self._meta_value("dec")
        return None if ra is None or dec is None else (ra, dec)

    def _load_ids(self):
        return self._meta_value("ids")

    def _load_class_names(self):
        return self._meta_value("class_names")

    def _read(self, indices: np.ndarray) -> np.ndarray:
        from galview.core.layout import to_nhwc

        if isinstance(self._array, np.ndarray):
            stored = self._array[indices]
        else:
            stored = read_runs(self._array, indices)
        return to_nhwc(np.asarray(stored), self._layout)


def read_runs(array, indices: np.ndarray) -> np.ndarray:
    """Read sorted unique rows of a lazily indexed array as contiguous slices.

    h5py and FITS sections read a slice far faster than a list of single rows, so
    consecutive indices are merged into one read each.
    """
    breaks = np.flatnonzero(np.diff(indices) != 1) + 1
    starts = np.concatenate(([0], breaks))
    ends = np.concatenate((breaks, [len(indices)]))
    parts = [
        np.asarray(array[int(indices[s]) : int(indices[e - 1]) + 1])
        for s, e in zip(starts, ends, strict=True)
    ]
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _valid_class_names(source, names) -> tuple[str, ...] | None:
    """``names`` as a tuple of distinct non-empty strings (a comma-separated string is split), or None."""
    if names is None:
        return None
    if isinstance(names, bytes):
        names = names.decode("utf-8", errors="replace")
    if isinstance(names, str):
        names = names.split(",")
    try:
        values = tuple(
            (n.decode("utf-8", errors="replace") if isinstance(n, bytes) else str(n)).strip() for n in names
        )
    except TypeError:
        raise CollectionError(source, f"class names must be a list of text, got {names!r}") from None
    if len(values) < 2 or any(not v for v in values) or len(set(values)) != len(values):
        raise CollectionError(
            source, f"class names must be two or more distinct names, got {', '.join(values)!r}"
        )
    return values


#: Cutouts hashed by :func:`fingerprint` (evenly spaced through the collection).
FINGERPRINT_SAMPLE = 16


def read_skipping(source, indices) -> tuple[np.ndarray, dict[int, str]]:
    """Cutouts ``indices`` of an (N, H, W, C) array, of a collection
    (:meth:`Collection.get_batch_skipping`) or of anything else with ``get_batch``, and position →
    why for those that could not be read (zeros in the batch)."""
    if isinstance(source, np.ndarray):
        return source[indices], {}
    if not hasattr(source, "get_batch_skipping"):
        return source.get_batch(indices), {}
    return source.get_batch_skipping(indices)


def fingerprint(collection: Collection, count: int | None = None) -> str:
    """A short identity of a collection's content: ``"112×64×64×3 uint8 #1f2e3d4c5b6a"``.

    Count, cutout shape, pixel type and a SHA-256 of :data:`FINGERPRINT_SAMPLE` evenly spaced
    cutouts (raw bytes in native order; an unreadable cutout counts as its position). Two files
    with the same cutouts give the same fingerprint wherever they lie; a different file of the
    same size almost surely does not. Computed once per collection object.

    ``count`` fingerprints only the first ``count`` cutouts, exactly as a collection holding just
    those would be fingerprinted (features kept for a collection that has since grown are
    recognised by it). It is not cached.
    """
    import hashlib

    n = len(collection) if count is None else min(int(count), len(collection))
    cached = collection._cache.get("fingerprint")
    if cached is not None and n == len(collection):
        return cached
    digest = hashlib.sha256(f"{n}:{collection.shape}:{collection.dtype.str}".encode())
    for index in np.unique(np.linspace(0, n - 1, min(n, FINGERPRINT_SAMPLE)).round().astype(np.int64)):
        try:
            digest.update(np.ascontiguousarray(collection.get(int(index))).tobytes())
        except CollectionError:
            digest.update(f"unreadable {index}".encode())
    h, w, c = collection.shape
    value = f"{n}×{h}×{w}×{c} {collection.dtype} #{digest.hexdigest()[:12]}"
    if n == len(collection):
        collection._cache["fingerprint"] = value
    return value

"""Reader for HDF5 files: the image dataset is found automatically and read in chunks on demand.

Before anything is read, the datasets used are checked where they keep their data
(:mod:`galview.io.hdf5_storage`: no external files or virtual sources outside the file's folder
unless allowed, no self-referencing virtual datasets, no filter this installation lacks, no
oversized chunk), and their attributes and metadata for type and size. Damaged metadata is one
line naming the file, never an HDF5 traceback, and a file that crashes the HDF5 library itself is
found in a child process first (:mod:`galview.io.hdf5_probe`).
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import NamedTuple

import numpy as np

from galview.core.budget import check_whole_array
from galview.core.collection import ArrayCollection
from galview.core.errors import CollectionError
from galview.core.layout import LAYOUTS
from galview.core.metadata import as_text, check_per_cutout_shape
from galview.io.hdf5_storage import check_storage, keeps_data_elsewhere, open_dataset
from galview.io.npz_members import short
from galview.io.numpy_files import ID_KEYS, IMAGE_KEYS, LABEL_KEYS, choose_layout

#: Largest attribute GalView reads (a layout or band names take a few bytes).
MAX_ATTRIBUTE_BYTES = 2**16
_HDF5_ERRORS = (OSError, RuntimeError, KeyError, ValueError, TypeError, AttributeError, IndexError)


class _Seen(NamedTuple):
    """A dataset's shape and type, noted while walking the file (the dataset itself is not kept open:
    it is reopened with :func:`~galview.io.hdf5_storage.open_dataset`)."""

    shape: tuple[int, ...]
    dtype: np.dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=object))


def _datasets(h5file) -> dict[str, _Seen]:
    import h5py

    found: dict[str, _Seen] = {}

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            found[name] = _Seen(tuple(obj.shape or ()), obj.dtype)

    h5file.visititems(visit)
    return found


def _find_images(path, datasets: dict, dataset: str | None):
    if dataset is not None:
        if dataset not in datasets:
            raise CollectionError(path, f"has no dataset '{dataset}' (found {', '.join(datasets) or 'none'})")
        return dataset
    stacks = {name: ds for name, ds in datasets.items() if ds.ndim in (3, 4) and ds.dtype.kind in "uif"}
    for key in IMAGE_KEYS:
        for name in stacks:
            if name.split("/")[-1] == key:
                return name
    if not stacks:
        found = ", ".join(f"{n} {d.shape}" for n, d in datasets.items()) or "no datasets"
        raise CollectionError(path, f"has no 3-D or 4-D numeric image dataset (found {found})")
    return max(stacks, key=lambda n: stacks[n].size)


def _sibling(datasets: dict, image_name: str, keys: tuple[str, ...]) -> str | None:
    """The dataset named like one of ``keys``, next to the images or at the root."""
    group = image_name.rsplit("/", 1)[0] if "/" in image_name else ""
    for key in keys:
        for candidate in (f"{group}/{key}" if group else key, key):
            if candidate in datasets:
                return candidate
    return None


def _attribute(path: Path, obj, name: str):
    """An attribute's value, None if absent; refused when larger than :data:`MAX_ATTRIBUTE_BYTES`."""
    if name not in obj.attrs:
        return None
    attr = obj.attrs.get_id(name)
    size = attr.get_storage_size()
    if size > MAX_ATTRIBUTE_BYTES:
        raise CollectionError(
            path, f"attribute '{name}' of '{obj.name}' holds {size:,} bytes; expected a short text"
        )
    return obj.attrs[name]


def _layout_attribute(path: Path, images) -> str | None:
    value = _attribute(path, images, "layout")
    if value is None:
        return None
    text = as_text(value) if isinstance(value, str | bytes) or np.ndim(value) == 0 else None
    if text is None or text.upper() not in LAYOUTS:
        shown = value.tolist() if isinstance(value, np.ndarray | np.generic) else value
        raise CollectionError(
            path, f"attribute 'layout' of '{images.name}' is {shown!r}; expected one of {', '.join(LAYOUTS)}"
        )
    return text.upper()


def _unit_attribute(path: Path, images) -> str | None:
    """The pixels' unit as the dataset states it (``unit`` or ``BUNIT``), as text; None otherwise."""
    for name in ("unit", "BUNIT"):
        value = _attribute(path, images, name)
        if isinstance(value, str | bytes):
            return as_text(value)
    return None


def _scale_attribute(path: Path, images) -> float | None:
    """The ``pixel_scale`` attribute (arcsec per pixel) when it is one positive finite number."""
    value = _attribute(path, images, "pixel_scale")
    try:
        scale = float(value) if value is not None and np.ndim(value) == 0 else None
    except (TypeError, ValueError):
        return None
    return scale if scale is not None and np.isfinite(scale) and scale > 0 else None


def _read_metadata(path: Path, dataset, name: str, n: int) -> np.ndarray:
    """A metadata dataset's values, once it is checked to hold one small value per cutout."""
    import h5py

    check_per_cutout_shape(path, name, dataset.shape, n)
    check_whole_array(
        path, f"dataset '{dataset.name}'", n * dataset.dtype.itemsize, "expected one value per cutout"
    )
    if h5py.check_string_dtype(dataset.dtype) is not None:
        values = dataset.asstr("utf-8", "backslashreplace")[()]
        return np.array([str(v) for v in values.tolist()], dtype=str)
    return dataset[()]


class Hdf5Collection(ArrayCollection):
    """An :class:`ArrayCollection` that owns and closes its h5py file handle."""

    def __init__(self, source, h5file, *args, unit=None, scale=None, collect_on_close=True, **kwargs):
        self._file = h5file
        self._unit, self._scale = unit, scale
        self._collect_on_close = collect_on_close  # False: no dataset of the file keeps data elsewhere
        super().__init__(source, *args, **kwargs)

    def flux_unit(self) -> str | None:
        """The images dataset's ``unit`` (or ``BUNIT``) attribute: GalView's simulations say nanomaggies."""
        return self._unit

    def pixel_scale(self, index: int) -> float | None:
        """The images dataset's ``pixel_scale`` attribute (arcsec), when it is a positive number."""
        return self._scale

    def close(self) -> None:
        """Drop every dataset of the file, then close it.

        The datasets (and their creation property lists) go first: HDF5 crashes at interpreter exit
        when it has to release a virtual dataset's property list whose file was closed before it. The
        garbage collection that makes sure of it takes 0.3 s with TensorFlow loaded (holding the GIL, so
        the window waits too): only for files with virtual or external datasets.
        """
        if self._file is not None:
            self._array = None
            self._meta = {key: None for key in self._meta}
            if self._collect_on_close:
                gc.collect()
            self._file.close()
            self._file = None


def open_hdf5(
    path: Path,
    layout: str | None = None,
    dataset: str | None = None,
    allow_external: bool = False,
    **_ignored,
) -> Hdf5Collection:
    """Open an HDF5 collection; images are read lazily, chunk by chunk.

    Parameters
    ----------
    allow_external : bool
        Read pixels the file keeps elsewhere (external storage, virtual datasets with sources
        outside its folder); refused otherwise.

    Raises
    ------
    CollectionError
        If the file or its metadata is damaged, no image stack is found, or a dataset's storage,
        type or size is not one GalView reads (see :mod:`galview.io.hdf5_storage`).
    """
    import h5py

    from galview.io.hdf5_probe import check_in_child

    check_in_child(path, {"layout": layout, "dataset": dataset, "allow_external": allow_external})
    try:
        h5file = h5py.File(path, "r")
    except OSError as exc:
        raise CollectionError(
            path, f"is not a readable HDF5 file, truncated or corrupt ({short(exc)})"
        ) from exc
    try:
        return _open(path, h5file, layout, dataset, allow_external)
    except CollectionError:
        h5file.close()
        raise
    except _HDF5_ERRORS as exc:
        h5file.close()
        raise CollectionError(
            path, f"has damaged HDF5 metadata ({short(exc)}); expected a valid HDF5 file"
        ) from exc


def _open(path: Path, h5file, layout, dataset, allow_external) -> Hdf5Collection:
    datasets = _datasets(h5file)
    # opened plainly and let go at once: HDF5 opens no dataset twice with different path prefixes
    elsewhere = any(keeps_data_elsewhere(h5file[found]) for found in datasets)
    name = _find_images(path, datasets, dataset)
    images = open_dataset(h5file, name)
    if images.dtype.kind not in "uif":
        raise CollectionError(path, f"dataset '{name}' has dtype {images.dtype}; expected numeric pixels")
    check_storage(path, h5file, name, images, allow_external)
    layout = choose_layout(path, images.shape, layout or _layout_attribute(path, images))
    n = images.shape[0] if images.shape else 0
    bands = _attribute(path, images, "bands")
    if bands is None:
        bands = _attribute(path, h5file, "bands")

    def class_names():
        """The ``class_names`` attribute of the labels dataset, else of the file (None if neither)."""
        found = _sibling(datasets, name, LABEL_KEYS)
        value = _attribute(path, open_dataset(h5file, found), "class_names") if found else None
        return value if value is not None else _attribute(path, h5file, "class_names")

    def reader(keys: tuple[str, ...], what: str):
        found = _sibling(datasets, name, keys)
        if found is None:
            return None
        ds = open_dataset(h5file, found)
        check_storage(path, h5file, found, ds, allow_external)
        return lambda: _read_metadata(path, ds, what, n)

    return Hdf5Collection(
        path,
        h5file,
        images,
        layout,
        collect_on_close=elsewhere,
        unit=_unit_attribute(path, images),
        scale=_scale_attribute(path, images),
        bands=bands,
        labels=reader(LABEL_KEYS, "labels"),
        ra=reader(("ra", "RA"), "RA values"),
        dec=reader(("dec", "DEC", "Dec"), "Dec values"),
        ids=reader(ID_KEYS, "ids"),
        class_names=class_names,
    )

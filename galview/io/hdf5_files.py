"""Reader for HDF5 files: the image dataset is found automatically and read in chunks on demand."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from galview.core.collection import ArrayCollection
from galview.core.errors import CollectionError
from galview.io.numpy_files import ID_KEYS, IMAGE_KEYS, LABEL_KEYS, choose_layout


def _datasets(h5file) -> dict[str, object]:
    import h5py

    found: dict[str, object] = {}

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            found[name] = obj

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


def _sibling(datasets: dict, image_name: str, keys: tuple[str, ...]):
    """A 1-D dataset named like one of ``keys``, next to the images or at the root."""
    group = image_name.rsplit("/", 1)[0] if "/" in image_name else ""
    for key in keys:
        for candidate in (f"{group}/{key}" if group else key, key):
            ds = datasets.get(candidate)
            if ds is not None and ds.ndim == 1:
                return ds
    return None


def _text_attr(obj, name: str):
    value = obj.attrs.get(name)
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.ndarray):
        return [v.decode() if isinstance(v, bytes) else str(v) for v in value]
    return str(value)


class Hdf5Collection(ArrayCollection):
    """An :class:`ArrayCollection` that owns and closes its h5py file handle."""

    def __init__(self, source, h5file, *args, **kwargs):
        self._file = h5file
        super().__init__(source, *args, **kwargs)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def open_hdf5(
    path: Path, layout: str | None = None, dataset: str | None = None, **_ignored
) -> Hdf5Collection:
    """Open an HDF5 collection; images are read lazily, chunk by chunk."""
    import h5py

    try:
        h5file = h5py.File(path, "r")
    except OSError as exc:
        raise CollectionError(path, f"is not a readable HDF5 file, truncated or corrupt ({exc})") from exc
    try:
        datasets = _datasets(h5file)
        name = _find_images(path, datasets, dataset)
        images = datasets[name]
        if images.dtype.kind not in "uif":
            raise CollectionError(path, f"dataset '{name}' has dtype {images.dtype}; expected numeric pixels")
        layout = choose_layout(path, images.shape, layout or _text_attr(images, "layout"))
        n_channels = {"NCHW": images.shape[1], "NHW": 1}.get(layout, images.shape[-1])
        bands = _text_attr(images, "bands") or _text_attr(h5file, "bands")
        if isinstance(bands, str):
            bands = list(bands) if len(bands) == n_channels else bands.split(",")

        def reader(keys):
            ds = _sibling(datasets, name, keys)
            return None if ds is None else (lambda: ds[()])

        return Hdf5Collection(
            path,
            h5file,
            images,
            layout,
            bands=bands,
            labels=reader(LABEL_KEYS),
            ra=reader(("ra", "RA")),
            dec=reader(("dec", "DEC", "Dec")),
            ids=reader(ID_KEYS),
        )
    except Exception:
        h5file.close()
        raise

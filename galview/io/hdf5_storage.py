"""Where an HDF5 dataset keeps its pixels, checked before any is read.

HDF5 lets a dataset keep its data outside its file: *external storage* reads raw bytes from any
file named in the dataset (``/etc/passwd`` will do), and a *virtual dataset* maps other datasets,
in this file or others, into one. A virtual dataset whose source is itself crashes the HDF5
library; a source that is a named pipe blocks forever; a missing source reads as blank cutouts.
:func:`check_storage` refuses all of that before the first read:

* external storage, unless the caller allows it (``allow_external``); allowed external files must
  be regular files, found relative to the HDF5 file's folder;
* virtual sources outside the file's folder, unless allowed; missing sources, sources that are not
  regular files, and sources that are themselves virtual (no cycles, no self-reference);
* filters this installation cannot decode, and chunks larger than
  :data:`~galview.core.budget.MAX_CHUNK_BYTES` (a chunk is read whole for any cutout in it).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from galview.core.budget import check_chunk
from galview.core.errors import CollectionError

#: Paths in a dataset are read relative to the folder of the HDF5 file (not the working folder).
ORIGIN = b"${ORIGIN}"
ALLOW_HINT = "reading pixels from other files must be asked for (--allow-external, allow_external=True)"


def open_dataset(h5file, name: str):
    """The dataset ``name`` of an open file, with external and virtual paths relative to its folder.

    Plain datasets are opened as h5py opens them: HDF5 refuses to open one dataset twice with
    different path prefixes, and every other opener (``visititems``, a second collection on the same
    file) uses the default. Only datasets that keep data elsewhere are reopened with the prefix.
    """
    import h5py

    plain = h5py.Dataset(h5py.h5d.open(h5file.id, name.encode("utf-8")))
    if not keeps_data_elsewhere(plain):
        return plain
    plain.id.close()
    access = h5py.h5p.create(h5py.h5p.DATASET_ACCESS)
    access.set_efile_prefix(ORIGIN)
    access.set_virtual_prefix(ORIGIN)
    return h5py.Dataset(h5py.h5d.open(h5file.id, name.encode("utf-8"), access))


def keeps_data_elsewhere(dataset) -> bool:
    """Whether an h5py dataset is virtual or keeps its data in external files."""
    return bool(dataset.is_virtual or dataset.id.get_create_plist().get_external_count())


def _where(path: Path, name: bytes | str) -> Path:
    text = os.fsdecode(name)
    return Path(text) if os.path.isabs(text) else path.parent / text


def _inside(path: Path, target: Path) -> bool:
    try:
        return target.resolve().is_relative_to(path.parent.resolve())
    except (OSError, RuntimeError):
        return False


def _regular(path: Path, target: Path, what: str) -> None:
    try:
        mode = target.stat().st_mode
    except OSError:
        raise CollectionError(path, f"{what} {target} is missing; expected it beside the file") from None
    if not stat.S_ISREG(mode):
        raise CollectionError(path, f"{what} {target} is not a regular file (a pipe or a device?)")


def _check_external(path: Path, name: str, plist, allow_external: bool) -> None:
    count = plist.get_external_count()
    if not count:
        return
    files = [_where(path, plist.get_external(i)[0]) for i in range(count)]
    if not allow_external:
        raise CollectionError(
            path,
            f"dataset '{name}' keeps its pixels in other files (external storage: {files[0]}); {ALLOW_HINT}",
        )
    for target in dict.fromkeys(files):
        _regular(path, target, f"dataset '{name}' reads from external file")


def _source_dataset(path: Path, target: Path, dataset: str):
    import h5py

    try:
        with h5py.File(target, "r") as source:
            item = source.get(dataset)
            if not isinstance(item, h5py.Dataset):
                raise CollectionError(path, f"virtual source {target}:{dataset} is not a dataset")
            return item.is_virtual, item.id.get_create_plist().get_external_count()
    except OSError as exc:
        raise CollectionError(path, f"virtual source {target} is not a readable HDF5 file ({exc})") from exc


def _check_virtual(path: Path, h5file, name: str, dataset, allow_external: bool) -> None:
    sources = {(m.file_name, m.dset_name) for m in dataset.virtual_sources()}
    for file_name, source_name in sorted(sources):
        what = f"virtual dataset '{name}': source {file_name}:{source_name}"
        if file_name == ".":
            if source_name.strip("/") == name.strip("/"):
                raise CollectionError(path, f"{what} is itself virtual; expected plain datasets as sources")
            try:
                item = open_dataset(h5file, source_name)
            except (KeyError, ValueError, TypeError, OSError):
                raise CollectionError(path, f"{what} is not a dataset of this file") from None
            if item.is_virtual:
                raise CollectionError(path, f"{what} is itself virtual; expected plain datasets as sources")
            continue
        target = _where(path, file_name)
        if "%" in file_name or not (allow_external or _inside(path, target)):
            raise CollectionError(path, f"{what} lies outside the file's folder; {ALLOW_HINT}")
        _regular(path, target, f"{what}: file")
        virtual, external = _source_dataset(path, target, source_name)
        if virtual or external:
            raise CollectionError(path, f"{what} is itself virtual or external; expected plain datasets")


def _check_filters(path: Path, name: str, plist) -> None:
    import h5py

    for index in range(plist.get_nfilters()):
        code, _flags, _values, label = plist.get_filter(index)
        if not h5py.h5z.filter_avail(code):
            label = label.decode("ascii", "replace") if isinstance(label, bytes) else str(label)
            raise CollectionError(
                path,
                f"dataset '{name}' is compressed with HDF5 filter {code} ({label or 'unnamed'}), which this "
                "installation cannot decode; expected gzip, lzf, szip or no compression",
            )


def check_storage(path: Path, h5file, name: str, dataset, allow_external: bool = False) -> None:
    """Refuse a dataset whose data GalView should not or cannot read (see the module docstring).

    Parameters
    ----------
    path : Path
        The HDF5 file (messages start with it; relative paths are read from its folder).
    h5file : h5py.File
        The open file.
    name : str
        The dataset's path in the file.
    dataset : h5py.Dataset
    allow_external : bool
        Read external storage and virtual sources outside the file's folder.

    Raises
    ------
    CollectionError
    """
    plist = dataset.id.get_create_plist()
    _check_external(path, name, plist, allow_external)
    if dataset.is_virtual:
        _check_virtual(path, h5file, name, dataset, allow_external)
    _check_filters(path, name, plist)
    if dataset.chunks:
        check_chunk(path, f"dataset '{name}'", dataset.chunks, dataset.dtype)

"""Write collections GalView opens directly, and plain CSV tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def write_hdf5(
    path: str | Path,
    images: np.ndarray,
    *,
    labels=None,
    ids=None,
    ra=None,
    dec=None,
    bands=None,
    chunk_rows: int = 16,
) -> Path:
    """Write (N, H, W, C) images and optional per-cutout metadata to an HDF5 collection.

    The file is written under a temporary name and renamed, so a crash never leaves
    a half-written collection behind.
    """
    import h5py

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with h5py.File(partial, "w") as handle:
        chunks = (min(chunk_rows, len(images)), *images.shape[1:])
        dataset = handle.create_dataset("images", data=images, chunks=chunks)
        dataset.attrs["layout"] = "NHWC"
        if bands is not None:
            dataset.attrs["bands"] = ",".join(bands)
        for name, values in (("labels", labels), ("ra", ra), ("dec", dec)):
            if values is not None:
                handle.create_dataset(name, data=np.asarray(values))
        if ids is not None:
            handle.create_dataset("ids", data=np.asarray(ids, dtype="S"))
    partial.replace(path)
    return path


def write_csv(path, columns, rows) -> Path:
    """Write ``rows`` (iterables in the order of ``columns``) as CSV with a header, LF line endings.

    Written under a temporary name and renamed, so an interrupted write leaves nothing behind.
    """
    import csv

    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    try:
        with open(partial, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(columns)
            writer.writerows(rows)
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return path


def write_png(image, path) -> Path:
    """Write an (H, W, 3) uint8 image as PNG, under a temporary name and renamed (no half file)."""
    from PIL import Image

    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    try:
        Image.fromarray(np.ascontiguousarray(image)).save(partial, format="PNG")
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return path


def write_table(path, table: dict, *, on_progress=None, cancel=None, chunk: int = 50_000) -> Path:
    """Write a table of columns (name → sequence of cells, all of one length) as CSV, as a job.

    Reports :class:`~galview.core.jobs.Progress` in rows every ``chunk`` rows and stops there once
    ``cancel`` is set (raising ``Cancelled``), leaving no file; see :func:`write_csv`.
    """
    from galview.core.jobs import Progress

    columns = list(table)
    total = len(table[columns[0]]) if columns else 0

    def rows():
        for start in range(0, total, chunk):
            if cancel is not None:
                cancel.raise_if_cancelled()
            if on_progress is not None:
                on_progress(Progress(start, total, "writing the table", unit="rows"))
            yield from zip(*(table[name][start : start + chunk] for name in columns), strict=True)

    return write_csv(path, columns, rows())

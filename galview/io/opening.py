"""Opening a collection to view it: the reading a window does before it shows one, as a job.

The window runs :func:`open_for_viewing` in a thread (job ``"open"`` of :mod:`galview.jobs`) when the
user opens a file or folder, so that a slow opening — the headers of tens of thousands of FITS files,
an HDF5 file looked at in a child process first — never freezes it.
"""

from __future__ import annotations

from pathlib import Path


def open_for_viewing(
    path: str | Path, open_options: dict | None = None, class_names=None, *, on_progress=None, cancel=None
):
    """Open ``path`` and read its metadata now, so that bad metadata is reported here and not later.

    Parameters
    ----------
    path : str or Path
    open_options : dict, optional
        Passed to :func:`galview.io.open_collection` (``layout``, ``bands``…).
    class_names : sequence of str, optional
        Names of the label values (``galview view --classes``).
    on_progress, cancel
        The job protocol (:mod:`galview.core.jobs`); opening is one step and is not interrupted.

    Returns
    -------
    Collection
        Open; the caller closes it.

    Raises
    ------
    CollectionError
        If the file cannot be opened or its metadata (labels, coordinates, ids) is bad.
    """
    from galview.io import open_collection

    collection = open_collection(path, **(open_options or {}))
    try:
        collection.describe()  # reads labels/coords/ids now
        if class_names:
            collection.set_class_names(class_names)
    except BaseException:
        collection.close()
        raise
    _read_ahead(collection)
    return collection


def _read_ahead(collection) -> None:
    """Read here what the window reads first, so its thread finds it cached: the first cutout's WCS,
    shown with the cutout (astropy's WCS imported the first time: 0.3 s the window's thread waited for),
    and the collection's fingerprint, which names its kept scores, features and photometry (16 cutouts
    spread over the file: reads that a slow disk makes long). What cannot be read here is said where the
    window reads it, as before."""
    from galview.core.collection import fingerprint

    for read in (lambda: collection.wcs(0), lambda: fingerprint(collection)):
        try:
            read()
        except Exception:  # noqa: BLE001 -- a damaged file: reported where the window reads it
            pass

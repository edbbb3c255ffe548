"""Open another collection of the same objects and pair its cutouts with the open one's (a job).

The window runs :func:`open_and_pair` on its job runner (Cutout ▸ Show the same object from another
collection…), ``galview pair`` and ``galview view --beside`` call it directly. The other collection is
opened lazily, as any collection is: only the cutouts looked at are read.
"""

from __future__ import annotations

from pathlib import Path

from galview.core.errors import UserFacingError
from galview.core.match_defaults import DEFAULT_RADIUS_ARCSEC


def open_and_pair(
    collection,
    other_path,
    by: str = "auto",
    radius_arcsec: float = DEFAULT_RADIUS_ARCSEC,
    *,
    on_progress=None,
    cancel=None,
):
    """Open the collection at ``other_path`` and pair ``collection``'s cutouts with it.

    Returns
    -------
    (Collection, Pairing)

    Raises
    ------
    UserFacingError
        When the other file cannot be opened (naming it and what was expected), is the open
        collection itself, or cannot be paired (naming both files and what is missing).
    """
    from galview.core.jobs import Progress
    from galview.core.pairing import pair_collections
    from galview.io.registry import open_collection

    if on_progress is not None:
        on_progress(Progress(0, 2, f"opening {Path(other_path).name}", unit="steps"))
    other = open_collection(other_path)
    if _same_file(collection.source, other.source):
        raise UserFacingError(other_path, "is the collection already open: choose the other survey's file")
    if cancel is not None:
        cancel.raise_if_cancelled()
    if on_progress is not None:
        on_progress(Progress(1, 2, f"pairing {len(collection):,} cutouts", unit="steps"))
    try:
        pairing = pair_collections(collection, other, by, radius_arcsec)
    except ValueError as exc:
        raise UserFacingError(other_path, f"cannot be paired with {collection.source}: {exc}") from None
    return other, pairing


def _same_file(first, second) -> bool:
    try:
        return Path(str(first)).resolve() == Path(str(second)).resolve()
    except OSError:
        return False

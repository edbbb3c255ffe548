"""What the readers of folders of per-object files (FITS, PNG/JPEG) share."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from galview.core.errors import CollectionError

#: How many files of a folder are tried for the first one that reads (it gives the folder its cutout
#: shape, pixel type and bands): one damaged file does not close the folder.
FIRST_TRIES = 16

T = TypeVar("T")


def first_readable(
    files: list[Path],
    read: Callable[[Path], T],
    skippable: Callable[[CollectionError], bool] = lambda _: True,
) -> T:
    """``read(path)`` of the first of ``files`` that reads.

    Raises
    ------
    CollectionError
        The first file's error when none of the first :data:`FIRST_TRIES` reads, or at once an error
        ``skippable`` says no to (a decompression bomb is not a damaged file to step over).
    """
    first_error = None
    for path in files[:FIRST_TRIES]:
        try:
            return read(path)
        except CollectionError as exc:
            if not skippable(exc):
                raise
            first_error = first_error or exc
    raise first_error

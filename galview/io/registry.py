"""Open any supported path: sniff the content, then hand it to the matching reader."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

from galview.core.collection import Collection
from galview.core.errors import CollectionError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
FITS_SUFFIXES = (".fits", ".fit", ".fts", ".fits.gz", ".fit.gz", ".fits.fz")

# (name, test on the first bytes, opener module:function)
_MAGIC: list[tuple[str, Callable[[bytes], bool], str]] = [
    ("npy", lambda head: head.startswith(b"\x93NUMPY"), "galview.io.numpy_files:open_npy"),
    (
        "npz",
        lambda head: head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"),
        "galview.io.numpy_files:open_npz",
    ),
    ("hdf5", lambda head: head.startswith(b"\x89HDF\r\n\x1a\n"), "galview.io.hdf5_files:open_hdf5"),
    ("fits", lambda head: head.startswith(b"SIMPLE  ="), "galview.io.fits_files:open_fits"),
    ("fits.gz", lambda head: head.startswith(b"\x1f\x8b"), "galview.io.fits_files:open_fits"),
    (
        "image",
        lambda head: head.startswith(b"\x89PNG") or head.startswith(b"\xff\xd8\xff"),
        "galview.io.image_folders:open_single_image",
    ),
]


def supported_formats() -> str:
    """One line naming what GalView opens, used in error messages and help."""
    return ".npy, .npz, HDF5 (.h5/.hdf5), FITS, PNG/JPEG, or a folder of FITS or PNG/JPEG files"


#: Where an HDF5 superblock may start: at 0, or after a user block of 512 bytes or a larger power of 2.
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
HDF5_OFFSETS = tuple(512 * 2**k for k in range(22))
_SPECIAL = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _regular_file(path: Path) -> os.stat_result:
    """The file's status, once it is a regular file (reading a pipe or a device could block forever)."""
    try:
        status = path.stat()
    except OSError as exc:
        raise CollectionError(path, f"cannot be read ({exc.strerror or exc})") from exc
    if not stat.S_ISREG(status.st_mode):
        kind = next((name for test, name in _SPECIAL if test(status.st_mode)), "not a regular file")
        raise CollectionError(path, f"is {kind}, not a regular file; expected a file of cutouts")
    return status


def _has_user_block(handle, size: int) -> bool:
    """Whether an HDF5 superblock follows a user block (HDF5 allows 512, 1024, 2048… bytes of it)."""
    for offset in HDF5_OFFSETS:
        if offset + len(HDF5_SIGNATURE) > size:
            return False
        handle.seek(offset)
        if handle.read(len(HDF5_SIGNATURE)) == HDF5_SIGNATURE:
            return True
    return False


def _load(target: str):
    module_name, func_name = target.split(":")
    module = __import__(module_name, fromlist=[func_name])
    return getattr(module, func_name)


def open_collection(path: str | Path, **options) -> Collection:
    """Open a cutout collection without reading its pixels.

    Parameters
    ----------
    path : str or Path
        A file (.npy, .npz, HDF5, FITS, PNG/JPEG) or a folder of FITS or image files.
        The format is recognised from the file's first bytes, not its name.
    **options
        ``layout`` ("NHWC", "NCHW", "NHW"; FITS also "CHW") overrides the detected axis
        order; ``dataset`` names the image array in an HDF5 or npz file; ``allow_external=True``
        lets an HDF5 file read pixels kept in other files (external storage, virtual datasets
        with sources outside its folder), which is refused otherwise.

    Returns
    -------
    Collection

    Raises
    ------
    CollectionError
        If the path is missing, unreadable, not a regular file or folder (a named pipe, a device),
        of an unknown format, holds no valid cutouts, or cutouts beyond the memory budget
        (:mod:`galview.core.budget`).
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise CollectionError(path, "no such file or folder")
    collection = _open(path, dict(options))
    # How to open it again, in another process (retraining runs in one): plain JSON values only.
    collection.opened_with = {"path": str(path.resolve()), "options": dict(options)}
    return collection


def _open(path: Path, options: dict) -> Collection:
    allow_external = bool(options.pop("allow_external", False))
    if path.is_dir():
        return _open_folder(path, options)
    size = _regular_file(path).st_size
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
            user_block = not any(test(head) for _name, test, _target in _MAGIC) and _has_user_block(
                handle, size
            )
    except OSError as exc:
        raise CollectionError(path, f"cannot be read ({exc.strerror or exc})") from exc
    if not head:
        raise CollectionError(path, f"is empty; expected {supported_formats()}")
    if user_block:
        head = HDF5_SIGNATURE
    for name, test, target in _MAGIC:
        if test(head):
            extra = {"allow_external": allow_external} if name == "hdf5" else {}
            return _load(target)(path, **options, **extra)
    raise CollectionError(path, f"is not a format GalView knows; expected {supported_formats()}")


def _open_folder(path: Path, options) -> Collection:
    from galview.io.cluster_runs import is_run_folder

    if is_run_folder(path):  # the OUT_DIR of galview score --cluster: its shards, with its scores
        return _load("galview.io.cluster_runs:open_run")(path, **options)
    files = [p for p in path.iterdir() if p.is_file()]
    if any(p.name.lower().endswith(FITS_SUFFIXES) for p in files):
        return _load("galview.io.fits_files:open_fits_folder")(path, **options)
    if any(p.suffix.lower() in IMAGE_SUFFIXES for p in files):
        return _load("galview.io.image_folders:open_image_folder")(path, **options)
    images_dir = path / "images"
    if images_dir.is_dir():
        return _load("galview.io.image_folders:open_image_folder")(path, **options)
    from galview.io.shards import ShardSet, is_shard_file

    if any(is_shard_file(p) for p in files):  # HDF5/npy shards: one collection
        return ShardSet.from_inputs([path], **options).open()
    raise CollectionError(
        path, "is a folder without FITS, PNG, JPEG, HDF5 or .npy files; expected a folder of cutouts"
    )

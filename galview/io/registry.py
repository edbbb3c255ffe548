"""Open any supported path: sniff the content, then hand it to the matching reader."""

from __future__ import annotations

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
        order; ``dataset`` names the image array in an HDF5 or npz file.

    Returns
    -------
    Collection

    Raises
    ------
    CollectionError
        If the path is missing, unreadable, of an unknown format or holds no valid cutouts.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise CollectionError(path, "no such file or folder")
    if path.is_dir():
        return _open_folder(path, options)
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
    except OSError as exc:
        raise CollectionError(path, f"cannot be read ({exc.strerror or exc})") from exc
    if not head:
        raise CollectionError(path, f"is empty; expected {supported_formats()}")
    for _name, test, target in _MAGIC:
        if test(head):
            return _load(target)(path, **options)
    raise CollectionError(path, f"is not a format GalView knows; expected {supported_formats()}")


def _open_folder(path: Path, options) -> Collection:
    files = [p for p in path.iterdir() if p.is_file()]
    if any(p.name.lower().endswith(FITS_SUFFIXES) for p in files):
        return _load("galview.io.fits_files:open_fits_folder")(path, **options)
    if any(p.suffix.lower() in IMAGE_SUFFIXES for p in files):
        return _load("galview.io.image_folders:open_image_folder")(path, **options)
    images_dir = path / "images"
    if images_dir.is_dir():
        return _load("galview.io.image_folders:open_image_folder")(path, **options)
    raise CollectionError(path, "is a folder without FITS, PNG or JPEG files; expected a folder of cutouts")

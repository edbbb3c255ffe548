"""Readers for .npy stacks (memory-mapped) and .npz archives (read lazily, within the memory budget).

Headers are parsed by :mod:`galview.io.npy_format`, never by unpickling or by trusting their sizes:
what a header announces is checked against the bytes the file holds before anything is mapped or
allocated, and object arrays are refused.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from galview.core.collection import ArrayCollection
from galview.core.errors import CollectionError
from galview.core.layout import detect_layout
from galview.core.metadata import check_per_cutout_shape
from galview.io.npy_format import read_header
from galview.io.npz_members import MappedArray, Member, array_of, read_members

IMAGE_KEYS = ("images", "image", "cutouts", "x", "X", "data")
LABEL_KEYS = ("labels", "label", "y")
#: Names of the label values 0, 1, … (an array of text in npz; an attribute in HDF5).
CLASS_NAME_KEYS = ("class_names", "classes")
ID_KEYS = ("ids", "id", "objid")
OBJECTS = "holds Python objects, which GalView never unpickles; expected a numeric array"
#: Largest band-name array read (a few names).
MAX_BANDS_BYTES = 2**16
#: What to do with a compressed npz array too large to decompress whole.
RECOMPRESS = "save it with np.savez (uncompressed) or as HDF5, which GalView reads cutout by cutout"


def choose_layout(path, shape: tuple[int, ...], layout: str | None) -> str:
    """The layout asked for, or the one detected from ``shape``; errors name the file."""
    if layout is not None:
        return layout.upper()
    try:
        return detect_layout(shape)
    except ValueError as exc:
        raise CollectionError(path, str(exc)) from exc


def open_npy(path: Path, layout: str | None = None, **_ignored) -> ArrayCollection:
    """Open an (N, H, W, C), (N, C, H, W) or (N, H, W) ``.npy`` file as a memory map.

    Raises
    ------
    CollectionError
        If the header is damaged, announces Python objects or more bytes than the file holds, or
        the stack is not one GalView can show (see :mod:`galview.core.budget`).
    """
    try:
        with open(path, "rb") as handle:
            header = read_header(handle, path)
    except OSError as exc:
        raise CollectionError(path, f"cannot be read ({exc.strerror or exc})") from exc
    if header.dtype.hasobject:
        raise CollectionError(path, OBJECTS)
    held = path.stat().st_size - header.offset
    if held < header.nbytes:
        raise CollectionError(
            path,
            f"is truncated: it holds fewer bytes than its header announces ({held:,} of {header.nbytes:,})",
        )
    if header.nbytes == 0:  # nothing to map (np.memmap refuses); the collection refuses empty stacks
        stack = MappedArray(path, header.offset, header)
    else:
        stack = np.memmap(
            path, header.dtype, "r", offset=header.offset, shape=header.shape, order=header.order
        )
    return ArrayCollection(path, stack, choose_layout(path, header.shape, layout))


def _pick(keys: tuple[str, ...], members: dict) -> str | None:
    return next((key for key in keys if key in members), None)


def _image_key(path: Path, members: dict[str, Member], dataset: str | None) -> str:
    found = ", ".join(members) or "no arrays"
    if dataset is not None:
        if dataset not in members:
            raise CollectionError(
                path, f"has no array '{dataset}' (found {found}); expected --dataset to name one"
            )
        return dataset
    key = _pick(IMAGE_KEYS, members)
    if key is not None:
        return key
    stacks = [k for k, member in members.items() if len(member.shape) in (3, 4)]
    if len(stacks) != 1:
        raise CollectionError(
            path, f"has no 'images' array (found {found}); expected images of shape (N, H, W, C)"
        )
    return stacks[0]


def _metadata_loader(path: Path, members: dict[str, Member], keys, n: int, name: str | None):
    """A loader of the first of ``keys`` (checked to hold one value per cutout unless ``name`` is None)."""
    key = _pick(keys, members)
    if key is None:
        return None
    member = members[key]
    if member.dtype.hasobject:
        raise CollectionError(path, f"array '{key}' holds Python objects; expected numbers or text")

    def load():
        if name is not None:
            check_per_cutout_shape(path, name, member.shape, n)
        elif member.header.nbytes > MAX_BANDS_BYTES:
            raise CollectionError(
                path, f"array '{key}' is {member.header.nbytes:,} bytes; expected a few band names"
            )
        return np.asarray(array_of(path, member, "expected one value per cutout")[...])

    return load


def open_npz(
    path: Path, layout: str | None = None, dataset: str | None = None, **_ignored
) -> ArrayCollection:
    """Open an ``.npz`` archive with an ``images`` array and optional labels, ra, dec, ids, bands.

    Stored (``np.savez``) archives are memory-mapped; a compressed images array is decompressed
    whole on first use, and refused above :data:`~galview.core.budget.MAX_WHOLE_ARRAY_BYTES`.
    Metadata arrays are checked to hold one value per cutout before they are read. ``dataset``
    names the images array; a name the archive does not hold is refused.
    """
    members = read_members(path)
    key = _image_key(path, members, dataset)
    member = members[key]
    if member.dtype.hasobject:
        raise CollectionError(path, f"array '{key}' holds Python objects; expected numeric pixels")
    chosen = choose_layout(path, member.shape, layout)
    n = member.shape[0] if member.shape else 0
    bands = _metadata_loader(path, members, ("bands",), n, None)
    return ArrayCollection(
        path,
        array_of(path, member, RECOMPRESS),
        chosen,
        bands=bands() if bands else None,
        labels=_metadata_loader(path, members, LABEL_KEYS, n, "labels"),
        ra=_metadata_loader(path, members, ("ra",), n, "RA values"),
        dec=_metadata_loader(path, members, ("dec",), n, "Dec values"),
        ids=_metadata_loader(path, members, ID_KEYS, n, "ids"),
        class_names=_metadata_loader(path, members, CLASS_NAME_KEYS, n, None),
    )

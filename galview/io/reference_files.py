"""Read a reference image for a similarity search from a file: FITS, PNG/JPEG, .npy, or any collection
file holding one cutout.

A reference is one image, not a stack: a 2-D FITS image or array (H, W), a cube (C, H, W) or
(H, W, C) with at most 16 bands, a PNG or JPEG. Files are opened through the same readers as
collections (:func:`galview.io.open_collection`), so they get the same checks (damaged headers,
memory budget, pipes and devices refused); a ``.npy`` image of 2 or 3 axes, which a collection
would read as a stack, is read here. Every refusal is one line naming the file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from galview.core.collection import ArrayCollection
from galview.core.errors import CollectionError
from galview.core.sky_scale import arcsec_per_pixel
from galview.io.npy_format import read_header
from galview.io.registry import open_collection
from galview.io.text import stem_text

#: Most bands a reference image may have (as collections: the last or first short axis).
MAX_BANDS = 16
EXPECTED = "expected one image: (H, W), (H, W, C) or (C, H, W) with at most 16 bands"


def read_reference(path: str | Path) -> tuple[np.ndarray, str]:
    """One reference image from a file, and its name (the file's stem).

    Returns
    -------
    image : ndarray, (H, W, C)
        In the file's own pixel type (uint8 stays uint8); may hold NaN.
    name : str

    Raises
    ------
    CollectionError
        Naming the file: missing, unreadable, damaged, not an image, or more than one cutout.
    """
    image, name, _scale = read_reference_with_scale(path)
    return image, name


def reference_for(path: str | Path, collection, mask_centre: float | None = None):
    """The image in ``path`` brought to ``collection``'s cutouts (a :class:`PreparedReference`).

    Where both the file's WCS and the collection's (its first cutout's) give a pixel scale, the
    reference keeps its size on the sky (:func:`galview.core.reference.prepare_reference`).
    """
    from galview.core.reference import prepare_reference

    image, name, scale = read_reference_with_scale(path)
    cutout_scale = arcsec_per_pixel(collection.wcs(0)) if len(collection) else None
    return prepare_reference(
        image,
        name,
        collection.shape,
        collection.dtype,
        collection.bands,
        mask_centre,
        source=path,
        scale=scale,
        cutout_scale=cutout_scale,
    )


def read_reference_with_scale(path: str | Path) -> tuple[np.ndarray, str, float | None]:
    """As :func:`read_reference`, plus the image's arcseconds per pixel where its WCS says (else None)."""
    path = Path(path).expanduser()
    if path.is_file() and _is_npy(path):
        collection = _npy_image(path)
    else:
        collection = open_collection(path)
    with collection:
        if len(collection) != 1:
            raise CollectionError(
                path, f"holds {len(collection)} cutouts; {EXPECTED} (a cutout of the collection: --to INDEX)"
            )
        image = np.asarray(collection.get(0))  # NaN kept: the reference masks it
        scale = arcsec_per_pixel(collection.wcs(0))
    return image, stem_text(path), scale


def _is_npy(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(6) == b"\x93NUMPY"
    except OSError as exc:
        raise CollectionError(path, f"cannot be read ({exc.strerror or exc})") from exc


def _npy_image(path: Path):
    """A .npy reference as a collection of one cutout (2-D and 3-D arrays are one image here)."""
    with open(path, "rb") as handle:
        header = read_header(handle, path)
    if header.dtype.hasobject:
        raise CollectionError(path, "holds Python objects, which GalView never unpickles; " + EXPECTED)
    shape = header.shape
    if len(shape) == 4 or len(shape) not in (2, 3):
        return open_collection(path) if len(shape) == 4 else _refuse(path, shape)
    held = path.stat().st_size - header.offset
    if held < header.nbytes or header.nbytes == 0:
        raise CollectionError(
            path, f"is truncated or empty ({held:,} of {header.nbytes:,} bytes); {EXPECTED}"
        )
    array = np.memmap(path, header.dtype, "r", offset=header.offset, shape=shape, order=header.order)
    if len(shape) == 2:
        return ArrayCollection(path, array[np.newaxis], "NHW")
    if shape[2] <= MAX_BANDS:
        return ArrayCollection(path, array[np.newaxis], "NHWC")
    if shape[0] <= MAX_BANDS:
        return ArrayCollection(path, array[np.newaxis], "NCHW")
    return _refuse(path, shape)


def _refuse(path: Path, shape: tuple[int, ...]):
    raise CollectionError(path, f"holds an array of shape {shape}; {EXPECTED}")

"""What a PNG or JPEG file decodes to, read from its first bytes, and the size limits it must meet.

:func:`raw_header` reads the size and colour type straight from a PNG's IHDR chunk or a JPEG's SOF
marker (a few dozen bytes; about seven times faster than opening the file with Pillow), so a folder
of images can be checked on opening. It answers None for anything it does not recognise; the caller
then asks Pillow. :func:`header_for_mode` maps a Pillow mode to what GalView hands out (RGBA,
palette, CMYK and 1-bit images become RGB; grey with alpha becomes grey).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from galview.core.budget import MAX_CUTOUT_BYTES, MAX_IMAGE_PIXELS, megabytes
from galview.core.errors import CollectionError

#: Pillow modes converted on reading: to RGB, or (LA) to L.
TO_RGB = ("RGBA", "RGBa", "P", "PA", "CMYK", "YCbCr", "RGBX", "1")
#: (channels, dtype) of each mode after that conversion.
DECODED = {
    "RGB": (3, "u1"),
    "L": (1, "u1"),
    "HSV": (3, "u1"),
    "LAB": (3, "u1"),
    "I;16": (1, "<u2"),
    "I;16L": (1, "<u2"),
    "I;16B": (1, ">u2"),
    "I": (1, "<i4"),
    "F": (1, "<f4"),
}
#: Pillow's mode for each PNG (bit depth, colour type).
PNG_MODES = {
    (1, 0): "1",
    (2, 0): "L",
    (4, 0): "L",
    (8, 0): "L",
    (16, 0): "I;16",
    (8, 2): "RGB",
    (16, 2): "RGB",
    (1, 3): "P",
    (2, 3): "P",
    (4, 3): "P",
    (8, 3): "P",
    (8, 4): "LA",
    (16, 4): "LA",
    (8, 6): "RGBA",
    (16, 6): "RGBA",
}
#: Pillow's mode for each number of JPEG components (8-bit precision).
JPEG_MODES = {1: "L", 3: "RGB", 4: "CMYK"}
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_JPEG_SCAN = 1 << 16  # bytes searched for the SOF marker (EXIF and ICC blocks come first)


@dataclass(frozen=True)
class ImageHeader:
    """What an image file will decode to: ``shape`` (H, W, C) and ``dtype``, read from its header."""

    shape: tuple[int, int, int]
    dtype: np.dtype

    def describe(self) -> str:
        h, w, c = self.shape
        return f"{w}×{h}×{c} {self.dtype}"


def header_for_mode(path: Path, mode: str, width: int, height: int) -> ImageHeader:
    """The header of an image of Pillow ``mode`` and size, after checking it fits the memory budget.

    Raises
    ------
    CollectionError
        For a mode GalView does not read, more than :data:`MAX_IMAGE_PIXELS` pixels (a decompression
        bomb), or more than :data:`MAX_CUTOUT_BYTES` once decoded.
    """
    if width * height > MAX_IMAGE_PIXELS:
        raise bomb_error(path, width * height)
    decoded = "RGB" if mode in TO_RGB else ("L" if mode == "LA" else mode)
    if decoded not in DECODED:
        raise CollectionError(path, f"has colour mode {mode!r}; expected RGB, greyscale or RGBA images")
    channels, dtype = DECODED[decoded]
    header = ImageHeader((int(height), int(width), channels), np.dtype(dtype))
    size = height * width * channels * header.dtype.itemsize
    if size > MAX_CUTOUT_BYTES:
        raise CollectionError(
            path,
            f"is {header.describe()} ({megabytes(size)} once decoded); "
            f"GalView shows cutouts of at most {megabytes(MAX_CUTOUT_BYTES)}",
        )
    return header


def bomb_error(path: Path, pixels: int | None) -> CollectionError:
    """The refusal of an image of more than :data:`MAX_IMAGE_PIXELS` pixels."""
    size = f"{pixels:,} pixels" if pixels else "too many pixels"
    return CollectionError(
        path,
        f"is {size} once decoded: a decompression bomb or an image far larger than a cutout; "
        f"GalView decodes images of at most {MAX_IMAGE_PIXELS:,} pixels",
    )


def raw_header(path: Path) -> ImageHeader | None:
    """The header of a PNG or baseline/progressive 8-bit JPEG read from its first bytes, or None when
    the file is something else, unreadable or unusual (the caller then asks Pillow).

    Raises
    ------
    CollectionError
        As :func:`header_for_mode`, for images too large.
    """
    try:
        with open(path, "rb") as handle:
            head = handle.read(33)
            if head.startswith(b"\x89PNG\r\n\x1a\n"):
                found = _png(head)
            elif head.startswith(b"\xff\xd8"):
                found = _jpeg(head + handle.read(_JPEG_SCAN))
            else:
                found = None
    except OSError:
        return None
    return None if found is None else header_for_mode(path, *found)


def _png(head: bytes) -> tuple[str, int, int] | None:
    if len(head) < 33 or head[12:16] != b"IHDR":
        return None
    width, height, depth, colour = struct.unpack(">IIBB", head[16:26])
    mode = PNG_MODES.get((depth, colour))
    return None if mode is None or not width or not height else (mode, width, height)


def _jpeg(data: bytes) -> tuple[str, int, int] | None:
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0x01, *range(0xD0, 0xDA)):  # markers without a length
            i += 2
            continue
        length = struct.unpack(">H", data[i + 2 : i + 4])[0]
        if marker in _SOF:
            if i + 10 > len(data) or data[i + 4] != 8:
                return None
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            mode = JPEG_MODES.get(data[i + 9])
            return None if mode is None or not width or not height else (mode, width, height)
        i += 2 + length
    return None

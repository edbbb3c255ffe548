"""The header of a ``.npy`` array (a file, or a member of an ``.npz`` archive), read without trusting it.

numpy's own reader lets a damaged header through as a ``tokenize`` error, a negative or overflowing
shape, or an allocation of whatever size the header claims. :func:`read_header` parses the header
itself (the format is a magic string, a version, a length and a Python dict literal, see
``numpy.lib.format``) and returns a :class:`NpyHeader` only when every field makes sense; anything
else is a one-line :class:`CollectionError`. Nothing here unpickles.
"""

from __future__ import annotations

import ast
import re
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from galview.core.errors import CollectionError

MAGIC = b"\x93NUMPY"
#: Header length field format and text encoding of each known format version.
VERSIONS = {(1, 0): ("<H", "latin1"), (2, 0): ("<I", "latin1"), (3, 0): ("<I", "utf8")}
MAX_HEADER = 10_000  # as numpy's own limit
MAX_AXES = 32
_LONG = re.compile(r"(\d+)L\b")  # Python 2 headers write shapes as (3L, 64L)


@dataclass(frozen=True)
class NpyHeader:
    """What a .npy header announces.

    Attributes
    ----------
    shape : tuple of int
    fortran : bool
        Column-major data.
    dtype : numpy.dtype
    offset : int
        Bytes from the start of the .npy stream to the first data byte.
    """

    shape: tuple[int, ...]
    fortran: bool
    dtype: np.dtype
    offset: int

    @property
    def nbytes(self) -> int:
        """Bytes of data the header announces (a Python int: it cannot overflow)."""
        count = 1
        for n in self.shape:
            count *= n
        return count * self.dtype.itemsize

    @property
    def order(self) -> str:
        return "F" if self.fortran else "C"


def _read_exactly(stream, n: int) -> bytes:
    data = stream.read(n)
    if len(data) != n:
        raise EOFError(f"the file ends {n - len(data)} bytes short of it")
    return data


def _header_text(stream) -> tuple[str, int, tuple[int, int]]:
    """The header dict text, the offset of the data and the format version."""
    magic = _read_exactly(stream, 8)
    if magic[:6] != MAGIC:
        raise ValueError("no .npy magic string")
    version = (magic[6], magic[7])
    if version not in VERSIONS:
        raise ValueError(f"unknown format version {version[0]}.{version[1]}")
    size_format, encoding = VERSIONS[version]
    length = struct.unpack(size_format, _read_exactly(stream, struct.calcsize(size_format)))[0]
    if length > MAX_HEADER:
        raise ValueError(f"a header of {length} bytes, above {MAX_HEADER}")
    text = _read_exactly(stream, length).decode(encoding)
    return text, 8 + struct.calcsize(size_format) + length, version


def _parse(text: str, version: tuple[int, int]) -> dict:
    try:
        value = ast.literal_eval(text)
    except SyntaxError:
        if version == (3, 0) or not _LONG.search(text):
            raise
        value = ast.literal_eval(_LONG.sub(r"\1", text))
    if not isinstance(value, dict) or set(value) != {"descr", "fortran_order", "shape"}:
        raise ValueError("not a dict of descr, fortran_order and shape")
    return value


def _shape(value) -> tuple[int, ...]:
    if not isinstance(value, tuple) or len(value) > MAX_AXES:
        raise ValueError(f"shape is not a tuple of at most {MAX_AXES} sizes: {value!r}")
    if not all(type(n) is int and n >= 0 for n in value):
        raise ValueError(f"shape holds something other than sizes >= 0: {value!r}")
    return value


def _dtype(descr) -> np.dtype:
    dtype = np.lib.format.descr_to_dtype(descr)
    if dtype.itemsize == 0 and not dtype.hasobject:
        raise ValueError(f"dtype {dtype} of zero bytes")
    return dtype


_ERRORS = (
    ValueError,
    SyntaxError,
    TypeError,
    KeyError,
    IndexError,
    OverflowError,
    RecursionError,
    MemoryError,
)


def read_header(stream, path: str | Path, what: str = "is not a valid .npy file") -> NpyHeader:
    """Read and check a .npy header from ``stream``, leaving it at the first data byte.

    Parameters
    ----------
    stream : binary file object
        Positioned at the start of the .npy data (a file, or an open npz member).
    path : str or Path
        The file the user named (messages start with it).
    what : str
        The start of the message when the header is damaged: ``"is not a valid .npy file"`` or
        ``"array 'labels' is not a valid .npy array"``.

    Returns
    -------
    NpyHeader
        Its dtype may hold Python objects: the caller refuses those (GalView never unpickles).

    Raises
    ------
    CollectionError
        If the header is damaged: ``PATH: WHAT (damaged header: PROBLEM)``.
    """
    try:
        text, offset, version = _header_text(stream)
        fields = _parse(text, version)
        shape, dtype = _shape(fields["shape"]), _dtype(fields["descr"])
        if not isinstance(fields["fortran_order"], bool):
            raise ValueError(f"fortran_order {fields['fortran_order']!r} is not True or False")
    except (EOFError, UnicodeDecodeError, struct.error, *_ERRORS) as exc:
        raise CollectionError(path, f"{what} (damaged header: {_short(exc)})") from None
    return NpyHeader(shape, fields["fortran_order"], dtype, offset)


def _short(exc: Exception) -> str:
    """An exception as a short single line."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."

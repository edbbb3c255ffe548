"""The arrays of an ``.npz`` archive: their headers read at once, their data read lazily and only
within GalView's memory budget.

A member stored without compression (``np.savez``) is memory-mapped where it lies in the archive,
so its cutouts are read one by one like a ``.npy`` file's. A compressed member
(``np.savez_compressed``) can only be decompressed whole; it is read on first use, and refused
when it would take more than :data:`~galview.core.budget.MAX_WHOLE_ARRAY_BYTES`. A member's header
must announce no more data than the archive holds for it, so a header that claims 10¹² elements
is refused instead of allocated.
"""

from __future__ import annotations

import struct
import threading
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from galview.core.budget import check_whole_array
from galview.core.errors import CollectionError
from galview.io.npy_format import NpyHeader, read_header

#: Zip compression methods Python's zipfile reads.
READABLE_METHODS = {
    zipfile.ZIP_STORED: "stored",
    zipfile.ZIP_DEFLATED: "deflate",
    zipfile.ZIP_BZIP2: "bzip2",
    zipfile.ZIP_LZMA: "lzma",
}
_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature, then name and extra-field lengths at 26 and 28
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    OSError,
    EOFError,
    RuntimeError,
    NotImplementedError,
    zlib.error,
    struct.error,
    ValueError,
)


def short(exc: BaseException) -> str:
    """An exception as one short line."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."


@dataclass(frozen=True)
class Member:
    """One array of an npz archive.

    Attributes
    ----------
    key : str
        Its name (the member name without ``.npy``).
    info : zipfile.ZipInfo
    header : NpyHeader
    data_offset : int or None
        Where its data starts in the archive file, for stored (uncompressed) members.
    """

    key: str
    info: zipfile.ZipInfo
    header: NpyHeader
    data_offset: int | None

    @property
    def shape(self) -> tuple[int, ...]:
        return self.header.shape

    @property
    def dtype(self) -> np.dtype:
        return self.header.dtype


def _check_method(path: Path, key: str, info: zipfile.ZipInfo) -> None:
    if info.flag_bits & 0x1:
        raise CollectionError(path, f"array '{key}' is encrypted; expected an unencrypted .npz archive")
    if info.compress_type not in READABLE_METHODS:
        raise CollectionError(
            path,
            f"array '{key}' uses zip compression method {info.compress_type}, which GalView cannot read; "
            "expected stored or deflate members (np.savez, np.savez_compressed)",
        )


def _data_offset(handle, info: zipfile.ZipInfo, header: NpyHeader, file_size: int) -> int | None:
    """Where a stored member's array data starts in the archive (None for compressed members)."""
    if info.compress_type != zipfile.ZIP_STORED:
        return None
    handle.seek(info.header_offset)
    signature, name_length, extra_length = _LOCAL_HEADER.unpack(handle.read(_LOCAL_HEADER.size))
    if signature != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"bad local header of {info.filename}")
    start = info.header_offset + _LOCAL_HEADER.size + name_length + extra_length + header.offset
    if start + header.nbytes > file_size:
        raise zipfile.BadZipFile(f"{info.filename} runs past the end of the file")
    return start


def _member(path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo, raw, file_size: int) -> Member:
    key = info.filename[:-4]
    _check_method(path, key, info)
    with archive.open(info) as stream:
        header = read_header(stream, path, f"array '{key}' is not a valid .npy array")
    if header.offset + header.nbytes > info.file_size:
        raise CollectionError(
            path,
            f"array '{key}' is damaged: its header announces {header.nbytes:,} bytes of data, the archive "
            f"holds {max(0, info.file_size - header.offset):,}; expected a complete array",
        )
    return Member(key, info, header, _data_offset(raw, info, header, file_size))


def read_members(path: Path) -> dict[str, Member]:
    """Every ``.npy`` member of the archive at ``path``, by name, from the headers alone.

    Raises
    ------
    CollectionError
        If the archive or a member header is damaged, encrypted or compressed in a way GalView
        cannot read, or a header announces more data than the archive holds.
    """
    members: dict[str, Member] = {}
    file_size = path.stat().st_size
    try:
        with open(path, "rb") as raw, zipfile.ZipFile(raw) as archive:
            for info in archive.infolist():
                if info.filename.endswith(".npy") and not info.is_dir():
                    member = _member(path, archive, info, raw, file_size)
                    members[member.key] = member
    except CollectionError:
        raise
    except _ZIP_ERRORS as exc:
        raise CollectionError(path, f"is not a readable .npz archive ({short(exc)})") from exc
    return members


class MappedArray:
    """An array at a byte offset of a file, memory-mapped on first use (a ``.npy`` or stored member)."""

    def __init__(self, path: Path, offset: int, header: NpyHeader):
        self.path, self.offset, self.header = path, offset, header
        self.shape, self.dtype = header.shape, header.dtype
        self._map: np.ndarray | None = None

    def __getitem__(self, key):
        if self._map is None:
            self._map = np.memmap(
                self.path, self.dtype, "r", offset=self.offset, shape=self.shape, order=self.header.order
            )
        return np.array(self._map[key])  # a copy: nothing handed out keeps the file mapped


class InflatedArray:
    """A compressed member, decompressed whole on first use (and kept)."""

    def __init__(self, path: Path, member: Member):
        self.path, self.member = path, member
        self.shape, self.dtype = member.shape, member.dtype
        self._array: np.ndarray | None = None
        self._lock = threading.Lock()

    def load(self) -> np.ndarray:
        """The whole array (read-only)."""
        with self._lock:
            if self._array is None:
                self._array = self._read()
        return self._array

    def _read(self) -> np.ndarray:
        header, key = self.member.header, self.member.key
        try:
            with zipfile.ZipFile(self.path) as archive, archive.open(self.member.info) as stream:
                stream.read(header.offset)
                data = stream.read(header.nbytes)
        except _ZIP_ERRORS as exc:
            raise CollectionError(self.path, f"array '{key}' could not be read ({short(exc)})") from exc
        if len(data) != header.nbytes:
            raise CollectionError(self.path, f"array '{key}' is truncated; expected {header.nbytes:,} bytes")
        return np.frombuffer(data, header.dtype).reshape(header.shape, order=header.order)

    def __getitem__(self, key):
        return np.array(self.load()[key])


def array_of(path: Path, member: Member, advice: str) -> MappedArray | InflatedArray:
    """A lazily read array for ``member``: mapped if stored, else decompressed whole within the budget.

    ``advice`` ends the message when a compressed member is too large to decompress whole.
    """
    if member.data_offset is not None:
        return MappedArray(path, member.data_offset, member.header)
    check_whole_array(path, f"array '{member.key}' (compressed)", member.header.nbytes, advice)
    return InflatedArray(path, member)

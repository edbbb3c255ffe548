"""Small tools to write damaged and odd inputs for the hostile-input corpus (no GalView imports)."""

from __future__ import annotations

import os
import pickle
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np

#: What a payload creates when it runs (see :data:`tests.hostile.corpus.MARKER`).
MARKER = "EXECUTED_FROM_DATA"


def rgb(n: int = 4, h: int = 64, w: int = 64, seed: int = 0) -> np.ndarray:
    """``n`` random (h, w, 3) uint8 cutouts: what the shipped model takes."""
    return np.random.default_rng(seed).integers(0, 256, size=(n, h, w, 3), dtype=np.uint8)


def npy_bytes(header: str | bytes, data: bytes = b"", version: tuple[int, int] = (1, 0)) -> bytes:
    """An .npy file with any header text (padded as numpy pads it) followed by ``data``."""
    text = header.encode("latin1") if isinstance(header, str) else header
    size_format = "<H" if version == (1, 0) else "<I"
    prefix = 6 + 2 + struct.calcsize(size_format)
    text += b" " * ((-(prefix + len(text) + 1)) % 64) + b"\n"
    return b"\x93NUMPY" + bytes(version) + struct.pack(size_format, len(text)) + text + data


def npy_header(descr: str, shape, fortran: bool = False) -> str:
    """The usual header dictionary text."""
    return f"{{'descr': {descr!r}, 'fortran_order': {fortran}, 'shape': {tuple(shape)!r}, }}"


def array_npy(array: np.ndarray) -> bytes:
    """The .npy bytes numpy writes for ``array``."""
    import io

    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


class Payload:
    """An object whose unpickling creates ``marker``: proof that data was unpickled."""

    def __init__(self, marker: Path):
        self.marker = os.fspath(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def payload_array(folder: Path) -> np.ndarray:
    """An object array holding a :class:`Payload` that creates ``folder/MARKER`` when unpickled."""
    array = np.empty(4, dtype=object)
    array[:] = [Payload(folder / MARKER)] * 4
    return array


def payload_pickle(folder: Path) -> bytes:
    """A bare pickle that creates ``folder/MARKER`` when loaded."""
    return pickle.dumps(Payload(folder / MARKER))


def write_zip(path: Path, members: dict[str, bytes], compression=zipfile.ZIP_STORED) -> Path:
    """A zip (npz) file with the given members."""
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def stream_deflated_member(path: Path, name: str, head: bytes, zeros: int) -> Path:
    """A zip with one deflated member: ``head`` then ``zeros`` zero bytes, written in pieces.

    A decompression bomb: the member is a few MB on disk, ``zeros`` bytes once read.
    """
    piece = bytes(16 * 2**20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, allowZip64=True, compresslevel=1) as archive:
        with archive.open(name, "w", force_zip64=True) as member:
            member.write(head)
            left = zeros
            while left > 0:
                member.write(piece[: min(left, len(piece))])
                left -= len(piece)
    return path


def set_zip_flags(path: Path, flag_bits: int = 0, method: int | None = None) -> Path:
    """Set general-purpose flag bits (0x1: encrypted) and/or the compression method of every member."""
    data = bytearray(path.read_bytes())
    for signature, flag_at, method_at in ((b"PK\x03\x04", 6, 8), (b"PK\x01\x02", 8, 10)):
        start = 0
        while (start := data.find(signature, start)) >= 0:
            flags = struct.unpack_from("<H", data, start + flag_at)[0]
            struct.pack_into("<H", data, start + flag_at, flags | flag_bits)
            if method is not None:
                struct.pack_into("<H", data, start + method_at, method)
            start += 4
    path.write_bytes(bytes(data))
    return path


def fifo(folder: Path, name: str) -> Path:
    """A named pipe: opening it for reading blocks until someone writes."""
    path = folder / name
    os.mkfifo(path)
    return path


def sparse_file(path: Path, head: bytes, size: int) -> Path:
    """A file of ``size`` bytes that starts with ``head`` and holds no disk blocks after it."""
    with open(path, "wb") as handle:
        handle.write(head)
        handle.truncate(size)
    return path


def deflate_zeros(n_bytes: int, level: int = 1) -> bytes:
    """zlib-compressed zeros (an HDF5 deflate chunk), compressed piece by piece."""
    compressor = zlib.compressobj(level)
    piece = bytes(16 * 2**20)
    parts = []
    left = n_bytes
    while left > 0:
        parts.append(compressor.compress(piece[: min(left, len(piece))]))
        left -= len(piece)
    parts.append(compressor.flush())
    return b"".join(parts)


def corrupt(path: Path, offset: int, data: bytes) -> Path:
    """Overwrite bytes of a file in place."""
    with open(path, "r+b") as handle:
        handle.seek(offset)
        handle.write(data)
    return path

"""Rows read straight from the pages of an SQLite file, for salvaging a store SQLite cannot walk.

SQLite finds a table's rows through its schema (page 1) and the interior pages of the table's
b-tree; when either is damaged, every row below is out of reach, though the leaf pages that hold
the rows may be intact. :func:`leaf_records` reads every page of a database file (and the committed
frames of its write-ahead log) as a *table leaf page* where it is one, and decodes each cell's
record by the file format (https://www.sqlite.org/fileformat2.html, sections 1.6 and 2.1). Cells
whose payload spills to overflow pages, or that do not decode, are skipped.

The rows come with no table name: the caller recognises its own by their shape. Freed pages still
hold old copies of rows, so only rows that are never changed once written (an append-only history)
can be trusted from here.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

LEAF_TABLE = 0x0D
WAL_MAGICS = (0x377F0682, 0x377F0683)
DEFAULT_PAGE_SIZE = 4096
PAGES_PER_CALL = 1024


def page_size_of(head: bytes) -> int:
    """The page size a database header gives; :data:`DEFAULT_PAGE_SIZE` if the header is damaged."""
    if len(head) >= 18:
        size = int.from_bytes(head[16:18], "big")
        size = 65536 if size == 1 else size
        if size in {2**k for k in range(9, 17)}:
            return size
    return DEFAULT_PAGE_SIZE


def leaf_records(
    path: Path, wal: Path | None = None, columns: int | None = None, on_pages=None
) -> Iterator[tuple[int, list]]:
    """``(rowid, values)`` of every decodable cell on the table leaf pages of ``path``, then of the
    committed frames of ``wal``; values are None, int, float, bytes (texts are left as bytes).
    With ``columns``, only records of that many values are decoded (the rest are skipped early).
    Both files are read a page at a time; ``on_pages(done, total)``, if given, is called every
    :data:`PAGES_PER_CALL` pages of ``path`` (it may raise to stop the reading)."""
    with open(path, "rb") as handle:
        size = page_size_of(handle.read(100))
        total = handle.seek(0, 2) // size
        handle.seek(0)
        number = 0
        while len(page := handle.read(size)) == size:
            if on_pages is not None and number % PAGES_PER_CALL == 0:
                on_pages(number, total)
            yield from _page_records(page, 100 if number == 0 else 0, columns)
            number += 1
    if wal is not None and wal.is_file():
        for page in _wal_pages(wal):
            yield from _page_records(page, 0, columns)


def _wal_pages(wal: Path) -> Iterator[bytes]:
    """Pages of a write-ahead log's frames up to its last commit, of the log's own generation (salts)."""
    with open(wal, "rb") as handle:
        head = handle.read(32)
        if len(head) < 32 or int.from_bytes(head[:4], "big") not in WAL_MAGICS:
            return
        size = int.from_bytes(head[8:12], "big")
        if size not in {2**k for k in range(9, 17)}:
            return
        pending: list[bytes] = []  # frames after the last commit seen so far
        while len(frame := handle.read(24 + size)) == 24 + size:
            if frame[8:16] != head[16:24]:
                return  # a frame of an earlier log generation: the log ends here
            pending.append(frame[24:])
            if int.from_bytes(frame[4:8], "big"):  # a commit frame: everything up to it is committed
                yield from pending
                pending = []


def _page_records(page: bytes, header_at: int, columns: int | None) -> Iterator[tuple[int, list]]:
    if len(page) < header_at + 8 or page[header_at] != LEAF_TABLE:
        return
    cells = int.from_bytes(page[header_at + 3 : header_at + 5], "big")
    usable = len(page)
    for k in range(cells):
        at = header_at + 8 + 2 * k
        if at + 2 > len(page):
            return
        offset = int.from_bytes(page[at : at + 2], "big")
        try:
            record = _cell(page, offset, usable, columns)
        except (IndexError, ValueError, struct.error):
            continue
        if record is not None:
            yield record


def _varint(data: bytes, at: int) -> tuple[int, int]:
    """A SQLite varint at ``at``: (value, the position after it)."""
    value = 0
    for i in range(8):
        byte = data[at + i]
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value, at + i + 1
    return (value << 8) | data[at + 8], at + 9


def _cell(page: bytes, offset: int, usable: int, columns: int | None) -> tuple[int, list] | None:
    payload, at = _varint(page, offset)
    rowid, at = _varint(page, at)
    if rowid >= 2**63:
        rowid -= 2**64
    if payload > usable - 35 or at + payload > len(page):
        return None  # spills to overflow pages, or runs off the page
    values = _record(page[at : at + payload], columns)
    return None if values is None else (rowid, values)


def _record(payload: bytes, columns: int | None = None) -> list | None:
    header_size, at = _varint(payload, 0)
    if not 0 < header_size <= len(payload):
        raise ValueError("record header out of range")
    if columns is not None and not columns <= header_size - at <= 9 * columns:
        return None  # each serial type takes 1 to 9 bytes: another width, skipped undecoded
    head = payload[at:header_size]
    if head and max(head) < 0x80:  # every serial type one byte long (the usual case)
        types = list(head)
    else:
        types = []
        while at < header_size:
            serial, at = _varint(payload, at)
            types.append(serial)
    if columns is not None and len(types) != columns:
        return None
    values, body = [], header_size
    for serial in types:
        value, body = _value(payload, body, serial)
        values.append(value)
    if body != len(payload):
        raise ValueError("record body does not fill its payload")
    return values


_INTS = {1: 1, 2: 2, 3: 3, 4: 4, 5: 6, 6: 8}


def _value(payload: bytes, at: int, serial: int):
    if serial == 0:
        return None, at
    if serial in _INTS:
        width = _INTS[serial]
        if at + width > len(payload):
            raise ValueError("value runs off the record")
        return int.from_bytes(payload[at : at + width], "big", signed=True), at + width
    if serial == 7:
        return struct.unpack(">d", payload[at : at + 8])[0], at + 8
    if serial in (8, 9):
        return serial - 8, at
    if serial >= 12:
        width = (serial - 12) // 2
        if at + width > len(payload):
            raise ValueError("value runs off the record")
        return bytes(payload[at : at + width]), at + width
    raise ValueError(f"reserved serial type {serial}")

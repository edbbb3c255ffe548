"""Page numbers of an SQLite table's b-tree, for tests that damage chosen pages of a label store.

Written for the tests, independently of the salvage's own page reader, and without SQLite's
``dbstat`` table: whether that exists depends on which SQLite library the process loaded first
(TensorFlow brings one without it).
"""

from __future__ import annotations

import sqlite3
import struct
from pathlib import Path

INTERIOR_TABLE, LEAF_TABLE = 0x05, 0x0D


def table_pages(store: Path, table: str) -> tuple[list[int], list[int]]:
    """``(leaves, interiors)`` of ``table``: leaf pages in row order, interior pages root first.

    Interior pages come in the order of a depth-first walk that visits a page before its children,
    which is the order of ``dbstat``'s ``path``.
    """
    conn = sqlite3.connect(store)  # as dbstat did: closing it leaves no -wal/-shm file behind
    try:
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    finally:
        conn.close()
    data = Path(store).read_bytes()
    size = struct.unpack(">H", data[16:18])[0]
    size = 65536 if size == 1 else size
    leaves, interiors = [], []

    def walk(number: int) -> None:
        page = data[(number - 1) * size : number * size]
        header = 100 if number == 1 else 0
        kind = page[header]
        if kind == LEAF_TABLE:
            leaves.append(number)
            return
        if kind != INTERIOR_TABLE:
            raise ValueError(f"page {number} is not a table b-tree page (type {kind})")
        interiors.append(number)
        cells = struct.unpack(">H", page[header + 3 : header + 5])[0]
        pointers = struct.unpack(f">{cells}H", page[header + 12 : header + 12 + 2 * cells])
        for offset in pointers:
            walk(struct.unpack(">I", page[offset : offset + 4])[0])
        walk(struct.unpack(">I", page[header + 8 : header + 12])[0])

    walk(root)
    return leaves, interiors

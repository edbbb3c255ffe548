"""Rows read straight from an SQLite file's pages and its write-ahead log (the salvage's last resort)."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from galview.io.sqlite_pages import leaf_records


def make_database(path: Path) -> sqlite3.Connection:
    """A WAL database with one table of every value type; the connection stays open (no checkpoint)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, a INTEGER, b REAL, c TEXT, d BLOB)")
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO t VALUES (?, ?, ?, ?, ?)",
        [(i, i * 1000 - 7, i / 3, f"row{i}", bytes([i % 256]) * 3) for i in range(1, 500)],
    )
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # these rows are in the file itself
    return conn


def copy_with_log(path: Path, folder: Path) -> tuple[Path, Path]:
    folder.mkdir()
    shutil.copy(path, folder / path.name)
    shutil.copy(f"{path}-wal", folder / f"{path.name}-wal")
    return folder / path.name, folder / f"{path.name}-wal"


def rows_of(path: Path, wal: Path | None = None) -> dict[int, list]:
    """Rows of table t: five values, the first the rowid's alias (stored as NULL)."""
    return {
        rowid: values for rowid, values in leaf_records(path, wal) if len(values) == 5 and values[0] is None
    }


def test_every_value_type_is_decoded_as_sqlite_stored_it(tmp_path):
    conn = make_database(tmp_path / "db.sqlite")
    conn.close()
    rows = rows_of(tmp_path / "db.sqlite")
    assert sorted(rows) == list(range(1, 500))
    assert rows[42] == [None, 41993, 14.0, b"row42", b"***"]  # 14.0: a whole REAL, stored as an integer
    assert rows[1] == [None, 993, 1 / 3, b"row1", b"\x01\x01\x01"]


def test_committed_frames_of_the_log_are_read_and_the_rest_not(tmp_path):
    conn = make_database(tmp_path / "db.sqlite")
    conn.execute("INSERT INTO t VALUES (1000, 1, 1.5, 'in the log', NULL)")
    conn.execute("BEGIN")
    conn.execute("INSERT INTO t VALUES (1001, 2, 2.5, 'not committed', NULL)")
    conn.execute("COMMIT")
    db, wal = copy_with_log(tmp_path / "db.sqlite", tmp_path / "copy")
    conn.close()
    assert 1000 not in rows_of(db) and rows_of(db, wal)[1000][3] == b"in the log"

    data = bytearray(wal.read_bytes())  # the second commit's frame no longer marks a commit
    size = int.from_bytes(data[8:12], "big")
    last = 32 + (len(data) - 32) // (24 + size) * (24 + size) - (24 + size)
    data[last + 4 : last + 8] = bytes(4)
    wal.write_bytes(bytes(data))
    rows = rows_of(db, wal)
    assert rows[1000][3] == b"in the log" and 1001 not in rows


def test_frames_of_an_earlier_log_generation_are_not_read(tmp_path):
    conn = make_database(tmp_path / "db.sqlite")
    conn.execute("INSERT INTO t VALUES (1000, 1, 1.5, 'in the log', NULL)")
    db, wal = copy_with_log(tmp_path / "db.sqlite", tmp_path / "copy")
    conn.close()
    data = bytearray(wal.read_bytes())
    data[16:24] = bytes(8)  # the log's salts no longer match its frames'
    wal.write_bytes(bytes(data))
    assert 1000 not in rows_of(db, wal)


def test_damaged_pages_and_cells_are_skipped_not_raised(tmp_path):
    conn = make_database(tmp_path / "db.sqlite")
    conn.close()
    path = tmp_path / "db.sqlite"
    data = bytearray(path.read_bytes())
    data[4096 * 2 + 8 : 4096 * 2 + 200] = b"\xff" * 192  # cell pointers of page 3 point nowhere useful
    data[0:100] = bytes(100)  # the header too: the default page size is assumed
    path.write_bytes(bytes(data))
    rows = rows_of(path)
    assert 300 < len(rows) < 499 and all(values[3] == f"row{k}".encode() for k, values in rows.items())


def test_records_of_another_width_can_be_skipped_undecoded(tmp_path):
    conn = make_database(tmp_path / "db.sqlite")
    conn.execute("CREATE TABLE narrow (x TEXT)")
    conn.execute("INSERT INTO narrow VALUES ('one value')")
    conn.close()
    widths = {len(values) for _, values in leaf_records(tmp_path / "db.sqlite")}
    assert widths == {1, 5}  # table t and the schema's five columns, and narrow's one
    assert {len(v) for _, v in leaf_records(tmp_path / "db.sqlite", columns=1)} == {1}

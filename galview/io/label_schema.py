"""The label store's file: schema, creation and the checks made before a store is used.

A new store is built in a temporary file linked into place, so a crash never leaves a half-made
store. Before use a file must pass: SQLite header, application id, schema version, ``PRAGMA
quick_check`` and number of cutouts; a file that fails is refused with a :class:`LabelStoreError`
naming it, and left untouched. A store made for a collection records the collection's fingerprint in
its ``meta`` table (key ``fingerprint``); checking it on open, and re-binding, live in
:mod:`galview.io.label_binding`.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import tempfile
import time
from pathlib import Path

import numpy as np

from galview.core.budget import MAX_LABEL
from galview.core.errors import CollectionError, DamagedStore, UserFacingError
from galview.core.label_values import numeric_labels
from galview.io.text import one_line, valid_text, valid_texts

SCHEMA_VERSION = 1
APPLICATION_ID = 0x47564C53  # "GVLS" in PRAGMA application_id
SQLITE_MAGIC = b"SQLite format 3\x00"
EXPORT_COLUMNS = ("index", "id", "label", "original_label", "changed_at", "note")

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE labels (idx INTEGER PRIMARY KEY, cutout_id TEXT NOT NULL, label INTEGER, changed_at REAL);
CREATE INDEX labels_user ON labels(label) WHERE label IS NOT NULL;
CREATE TABLE original (idx INTEGER PRIMARY KEY, label INTEGER);
CREATE TABLE actions (action INTEGER PRIMARY KEY, state TEXT NOT NULL
    CHECK (state IN ('done', 'undone', 'dropped')), at REAL NOT NULL, description TEXT NOT NULL DEFAULT '');
CREATE INDEX actions_state ON actions(state, action);
CREATE TABLE history (seq INTEGER PRIMARY KEY AUTOINCREMENT, action INTEGER NOT NULL, idx INTEGER NOT NULL,
    cutout_id TEXT NOT NULL, old INTEGER, new INTEGER, at REAL NOT NULL, user TEXT NOT NULL,
    model_id TEXT, prob REAL, seconds REAL, kind TEXT NOT NULL
    CHECK (kind IN ('set', 'undo', 'redo', 'import')));
CREATE INDEX history_idx ON history(idx);
CREATE INDEX history_action ON history(action);
"""


class LabelStoreError(UserFacingError):
    """A label store cannot be opened, read or written; the message names the file."""


class DamagedLabelStore(LabelStoreError, DamagedStore):
    """A label store whose bytes are damaged (not locked, from a newer GalView or of another collection).

    Its readable labels can be recovered into a new store with ``galview labels salvage``
    (:func:`galview.io.label_salvage.salvage_store`); the file itself is left untouched.
    """


def store_error(path, exc: sqlite3.Error, timeout: float) -> LabelStoreError:
    """The :class:`LabelStoreError` for an SQLite error: locked, cannot be written, or damaged."""
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return LabelStoreError(
            path, f"is locked by another program (waited {timeout:g} s); close it or try again"
        )
    if any(word in text for word in ("readonly", "read-only", "unable to open", "disk i/o", "full")):
        return LabelStoreError(
            path, f"cannot be written here ({one_line(exc)}); choose another place with --store"
        )
    return DamagedLabelStore(
        path, f"is not a GalView label store or is damaged ({one_line(exc)}); it was left untouched"
    )


def _resolve(value, n: int, name: str, source: str):
    value = value() if callable(value) else value
    if value is None:
        return None
    shape = np.shape(value)
    if len(shape) != 1 or shape[0] != n:
        raise CollectionError(
            source or "collection", f"has {name} of shape {shape}; expected one per cutout, shape ({n},)"
        )
    return value


def _original_rows(original, n: int, source: str = "") -> list[tuple[int, int | float]]:
    """(idx, label) for cutouts whose file label is known; text labels parsed by class name.

    Raises
    ------
    CollectionError
        If the labels are not one per cutout, or one is too large for a class index (``1e19``).
    """
    original = _resolve(original, n, "labels", source)
    if original is None:
        return []
    values = numeric_labels(original)
    known = np.flatnonzero(np.isfinite(values))
    huge = known[np.abs(values[known]) > MAX_LABEL]
    if huge.size:
        raise CollectionError(
            source or "collection",
            f"cutout {int(huge[0])} has the label {values[huge[0]]:g}; expected a class index "
            f"(a whole number, at most {MAX_LABEL:,})",
        )
    # whole numbers as Python ints, others as floats, without a Python test per row (0.5 s for a million)
    found = values[known]
    whole = found == np.floor(found)
    labels = np.where(whole, found.astype(np.int64).astype(object), found.astype(object))
    return list(zip(known.tolist(), labels.tolist(), strict=True))


def _build(path: Path, n: int, ids, original, source: str, fingerprint: str | None = None) -> None:
    """Write a fresh, complete store into ``path`` (an empty file); ``fingerprint`` goes in ``meta``."""
    ids = _resolve(ids, n, "ids", source)
    ids = None if ids is None else valid_texts(ids)
    rows = _original_rows(original, n, source)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("BEGIN")
        for statement in SCHEMA.split(";"):
            if statement.strip():
                conn.execute(statement)
        meta = {"n": str(n), "source": valid_text(source), "created": repr(time.time())}
        if fingerprint is not None:
            meta["fingerprint"] = str(fingerprint)
        conn.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
        if ids is None:  # each cutout's id is its index: counted out by SQLite, no Python list of a million
            conn.execute(
                "WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < ?) "
                "INSERT INTO labels (idx, cutout_id) SELECT i, CAST(i AS TEXT) FROM seq",
                (n,),
            )
        else:  # one JSON array, its positions the indices: 0.5 s for a million ids against 0.9 s row by row
            conn.execute(
                "INSERT INTO labels (idx, cutout_id) SELECT key, value FROM json_each(?)", (json.dumps(ids),)
            )
        conn.executemany("INSERT INTO original VALUES (?, ?)", rows)
        conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        conn.execute("COMMIT")
    finally:
        conn.close()


def _create(path: Path, n: int, ids, original, source: str, fingerprint: str | None) -> None:
    """Build a store in a temporary file beside ``path`` and link it into place (never clobbers)."""
    if not path.parent.is_dir():
        raise LabelStoreError(path, f"cannot be created: the folder {path.parent} does not exist")
    try:
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".creating", dir=path.parent)
        os.close(handle)
    except OSError as exc:
        raise LabelStoreError(path, f"cannot be created here ({exc.strerror or exc})") from exc
    tmp = Path(name)
    try:
        os.chmod(tmp, 0o644)
        _build(tmp, n, ids, original, source, fingerprint)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another instance created it meanwhile: use theirs
        except OSError:  # file systems without hard links
            if not path.exists():
                os.rename(tmp, path)
        fsync_dir(path.parent)
    except (OSError, sqlite3.Error) as exc:
        raise LabelStoreError(path, f"cannot be created here ({one_line(exc)})") from exc
    finally:
        remove_store_files(tmp)


def remove_store_files(path: Path) -> None:
    """Remove a store GalView made and never put in use, with its journal files."""
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        leftover.unlink(missing_ok=True)


#: Where SQLite's unix VFS keeps its "dead man switch" lock in a ``-shm`` file: every connection to a store
#: in WAL mode holds a shared lock on this byte for as long as it is open (SQLite's os_unix.c).
_SHM_OPEN_BYTE = 128


def open_elsewhere(path: Path) -> bool:
    """Whether another process has the store at ``path`` open (its ``-shm`` lock byte is held).

    Tries, without waiting, for an exclusive lock on the byte every WAL connection holds shared, and
    lets go at once. False where that cannot be told (no ``-shm`` file, no ``fcntl`` on this system,
    the file cannot be opened for writing). Locks are per process: this process's own connections do
    not count, and closing the file drops any of them, so call it only with this process's connections
    to the store closed.
    """
    try:
        import fcntl
    except ImportError:  # Windows: an open store cannot be moved there anyway
        return False
    try:
        handle = os.open(f"{path}-shm", os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, _SHM_OPEN_BYTE)
    except OSError:
        return True
    else:
        fcntl.lockf(handle, fcntl.LOCK_UN, 1, _SHM_OPEN_BYTE)
        return False
    finally:
        os.close(handle)


def fsync_dir(directory: Path) -> None:
    """Make a rename or link in ``directory`` durable (where the system allows it)."""
    with contextlib.suppress(OSError):
        handle = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)


def _check_header(path: Path) -> None:
    if not path.is_file():
        raise LabelStoreError(path, "is not a file; expected a GalView label store")
    try:
        with open(path, "rb") as handle:
            head = handle.read(100)
    except OSError as exc:
        raise LabelStoreError(path, f"cannot be read ({exc.strerror or exc})") from exc
    if not head:
        raise DamagedLabelStore(path, "is empty, not a GalView label store; it was left untouched")
    if len(head) < 100 or not head.startswith(SQLITE_MAGIC):
        raise DamagedLabelStore(
            path, "is not a GalView label store or is damaged (no SQLite header); it was left untouched"
        )


class DamagedText(str):
    """A stored text whose bytes were not UTF-8 (a damaged page), decoded with U+FFFD in their place."""


def _damaged_text_readable(raw: bytes) -> str:
    """Decode a stored text; bytes that are not UTF-8 give a :class:`DamagedText`, not an exception.

    A user name damaged on disk then shows as such in the history while every label stays readable;
    damaged ids and meta entries, which bind the store to its collection, are refused where read.
    """
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return DamagedText(raw.decode("utf-8", "replace"))


def _validate(conn: sqlite3.Connection, path: Path) -> dict:
    """Check identity, schema version and integrity (reads only); return the meta table."""
    app = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if app != APPLICATION_ID:
        raise LabelStoreError(path, "is an SQLite database but not a GalView label store")
    if version > SCHEMA_VERSION:
        raise LabelStoreError(
            path,
            f"was written by a newer GalView (label store version {version}; this GalView reads "
            f"up to {SCHEMA_VERSION}); update GalView to open it",
        )
    try:
        problems = [row[0] for row in conn.execute("PRAGMA quick_check(20)").fetchall()]
    except UnicodeDecodeError as exc:  # its report quotes damaged text; pragma rows are decoded strictly
        raise DamagedLabelStore(
            path, "is damaged (its text is not valid UTF-8); it was left untouched"
        ) from exc
    if version < 1 or problems != ["ok"]:
        lines = [line for p in problems for line in p.splitlines() if not line.startswith("***")]
        detail = f"{lines[0]}, …" if problems != ["ok"] else f"schema version {version}"
        raise DamagedLabelStore(path, f"is damaged ({detail}); it was left untouched")
    meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    damaged = sorted(
        key for key, value in meta.items() if isinstance(key, DamagedText) or isinstance(value, DamagedText)
    )
    if damaged:
        raise DamagedLabelStore(
            path, f"is damaged (its meta entry {', '.join(damaged)} is not valid text); it was left untouched"
        )
    return meta


def _stored_count(meta: dict, path: Path) -> int:
    text = meta.get("n")
    if not isinstance(text, str) or not text.isdigit():
        raise DamagedLabelStore(
            path, f"is damaged (its number of cutouts is {text!r}); it was left untouched"
        )
    return int(text)


class StoreDamaged(Exception):
    """Raised by a store's readers on a row GalView could not have written; the store turns it into a
    :class:`LabelStoreError` naming the file (its message says what was found)."""


def check_tables(conn: sqlite3.Connection, path: Path, n: int) -> None:
    """Refuse a store whose rows GalView could not have written (edited by hand, or damaged).

    Only checks that cost no pass over the whole store (opening a million-cutout store stays fast):
    the indices of ``labels`` run from 0 to n-1 and those of ``original`` lie within them (both read
    off the primary key), and every user label is an integer class index (read through the index on
    labelled rows). What needs a full pass (a deleted row, an id stored as a blob, text among the
    file's labels) is caught when it is read (:class:`StoreDamaged`).

    Raises
    ------
    LabelStoreError
        Naming the first problem found; the file is left untouched.
    """
    for table in ("labels", "original"):
        query = f"SELECT (SELECT MIN(idx) FROM {table}), (SELECT MAX(idx) FROM {table})"  # two lookups
        low, high = conn.execute(query).fetchone()
        if (table == "labels" and (low, high) != (0, n - 1)) or (low is not None and (low < 0 or high >= n)):
            raise DamagedLabelStore(
                path,
                f"is damaged (its {table} table has indices {low} to {high}; expected 0 to {n - 1}); "
                "it was left untouched",
            )
    row = conn.execute(
        "SELECT idx, quote(label) FROM labels WHERE label IS NOT NULL "
        "AND (typeof(label) != 'integer' OR label < -1 OR label > ?) LIMIT 1",
        (MAX_LABEL,),
    ).fetchone()
    if row is not None:
        raise DamagedLabelStore(
            path,
            f"is damaged (its labels table holds the label {row[1]} at index {row[0]}); it was left untouched",
        )


def connect(path: Path, n: int, ids, original, source: str, timeout: float, fingerprint=None, check=None):
    """Create the store at ``path`` if missing, check it and connect (autocommit, WAL, FULL sync).

    ``fingerprint`` (of the collection, or None) is recorded only when the store is created here.
    ``check(conn, meta) -> meta``, if given, runs after the built-in checks and before anything
    is written (the collection check of :mod:`galview.io.label_binding`); what it raises closes
    the connection, SQLite errors becoming a :class:`LabelStoreError`.

    Returns
    -------
    (sqlite3.Connection, dict)
        The open connection and the store's meta table.
    """
    if not path.exists():
        _create(path, n, ids, original, source, fingerprint)
    _check_header(path)
    if Path(f"{path}-wal").exists():
        _check_read_only(path, n, timeout)
    try:
        conn = sqlite3.connect(
            path.as_uri() + "?mode=rw",
            uri=True,
            timeout=timeout,
            isolation_level=None,
            check_same_thread=False,
        )
    except sqlite3.Error as exc:
        raise store_error(path, exc, timeout) from exc
    conn.text_factory = _damaged_text_readable
    try:
        meta = _checked(conn, path, n)
        if check is not None:
            meta = check(conn, meta)
        conn.execute("PRAGMA synchronous=FULL")  # with WAL: a commit is on disk when it returns
        if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            conn.execute("PRAGMA journal_mode=WAL")
    except sqlite3.Error as exc:
        conn.close()
        raise store_error(path, exc, timeout) from exc
    except BaseException:
        conn.close()
        raise
    return conn, meta


def _checked(conn: sqlite3.Connection, path: Path, n: int) -> dict:
    """The built-in checks (reads only): identity, integrity, number of cutouts, tables; the meta table."""
    meta = _validate(conn, path)
    stored = _stored_count(meta, path)
    if stored != n:
        raise LabelStoreError(
            path, f"was made for {stored} cutouts, but this collection has {n}; pass another --store"
        )
    check_tables(conn, path, n)
    return meta


def _check_read_only(path: Path, n: int, timeout: float) -> None:
    """The built-in checks on a read-only connection, for a store with a write-ahead log beside it.

    Closing the last read-write connection folds the log into the file; when a store is refused that
    would change it (keeping its labels, but not "untouched"). A read-only connection never does, so a
    damaged store with a log (left by a crash, or by another GalView that has it open) is refused with
    both files as they were. SQLite errors other than damage fall through to the usual opening."""
    try:
        conn = sqlite3.connect(path.as_uri() + "?mode=ro", uri=True, timeout=timeout, isolation_level=None)
    except sqlite3.Error:
        return
    conn.text_factory = _damaged_text_readable
    try:
        _checked(conn, path, n)
    except sqlite3.Error as exc:
        problem = store_error(path, exc, timeout)
        if isinstance(problem, DamagedLabelStore):
            raise problem from exc
    finally:
        conn.close()


# -- labels in and out ----------------------------------------------------------------------

"""The label store's file, and labels in and out of it.

File level: the schema, building a new store (in a temporary file linked into place, so a
crash never leaves a half-made store), and the checks made before a store is used (SQLite
header, application id, schema version, ``PRAGMA quick_check``, number of cutouts). A file
that fails them is refused with a :class:`LabelStoreError` naming it, and left untouched.

Labels in and out: :func:`import_csv` (one undoable action) and :func:`export_labels` to
CSV, FITS or HDF5 with columns ``index``, ``id``, ``label`` (effective label: the user's
where set, else the file's; NaN/empty where neither), ``original_label`` and ``changed_at``
(when the user last set the label: ISO 8601 UTC text in CSV and FITS, empty where never;
Unix seconds as float64 in HDF5, NaN where never).
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import os
import sqlite3
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from galview.core.errors import UserFacingError
from galview.core.labelling import DEFAULT_CLASSES, parse_label

SCHEMA_VERSION = 1
APPLICATION_ID = 0x47564C53  # "GVLS" in PRAGMA application_id
SQLITE_MAGIC = b"SQLite format 3\x00"
EXPORT_COLUMNS = ("index", "id", "label", "original_label", "changed_at")

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


def sqlite_problem(exc: sqlite3.Error, timeout: float) -> str:
    """One-sentence problem for a :class:`LabelStoreError` from an SQLite error."""
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return f"is locked by another program (waited {timeout:g} s); close it or try again"
    if any(word in text for word in ("readonly", "read-only", "unable to open", "disk i/o", "full")):
        return f"cannot be written here ({exc}); choose another place with --store"
    return f"is not a GalView label store or is damaged ({exc}); it was left untouched"


def _resolve(value, n: int, name: str):
    value = value() if callable(value) else value
    if value is not None and len(value) != n:
        raise ValueError(f"{name} has {len(value)} entries for a store of {n} cutouts")
    return value


def _original_rows(original, n: int) -> list[tuple[int, int | float]]:
    """(idx, label) for cutouts whose file label is known; text labels parsed by class name."""
    original = _resolve(original, n, "original")
    if original is None:
        return []
    values = np.asarray(original)
    if values.dtype.kind in "biuf":
        values = values.astype(np.float64)
    else:  # text labels ("LSBG", "artifact") or bytes
        values = np.array([_parse_or_nan(v) for v in values], dtype=np.float64)
    known = np.flatnonzero(np.isfinite(values))
    return [(int(i), int(values[i]) if values[i].is_integer() else float(values[i])) for i in known]


def _parse_or_nan(value) -> float:
    try:
        return float(parse_label(value.decode() if isinstance(value, bytes) else value, DEFAULT_CLASSES))
    except ValueError:
        return float("nan")


def _build(path: Path, n: int, ids, original, source: str) -> None:
    """Write a fresh, complete store into ``path`` (an empty file)."""
    ids = _resolve(ids, n, "ids")
    ids = [str(i) for i in range(n)] if ids is None else [_text(v) for v in ids]
    rows = _original_rows(original, n)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("BEGIN")
        for statement in SCHEMA.split(";"):
            if statement.strip():
                conn.execute(statement)
        meta = {"n": str(n), "source": str(source), "created": repr(time.time())}
        conn.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
        conn.executemany("INSERT INTO labels (idx, cutout_id) VALUES (?, ?)", enumerate(ids))
        conn.executemany("INSERT INTO original VALUES (?, ?)", rows)
        conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        conn.execute("COMMIT")
    finally:
        conn.close()


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _create(path: Path, n: int, ids, original, source: str) -> None:
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
        _build(tmp, n, ids, original, source)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another instance created it meanwhile: use theirs
        except OSError:  # file systems without hard links
            if not path.exists():
                os.rename(tmp, path)
        _fsync_dir(path.parent)
    except (OSError, sqlite3.Error) as exc:
        raise LabelStoreError(path, f"cannot be created here ({exc})") from exc
    finally:
        for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm"), Path(f"{tmp}-journal")):
            leftover.unlink(missing_ok=True)


def _fsync_dir(directory: Path) -> None:
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
        raise LabelStoreError(path, "is empty, not a GalView label store; it was left untouched")
    if len(head) < 100 or not head.startswith(SQLITE_MAGIC):
        raise LabelStoreError(
            path, "is not a GalView label store or is damaged (no SQLite header); it was left untouched"
        )


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
    problems = [row[0] for row in conn.execute("PRAGMA quick_check(20)").fetchall()]
    if version < 1 or problems != ["ok"]:
        lines = [line for p in problems for line in p.splitlines() if not line.startswith("***")]
        detail = f"{lines[0]}, …" if problems != ["ok"] else f"schema version {version}"
        raise LabelStoreError(path, f"is damaged ({detail}); it was left untouched")
    return dict(conn.execute("SELECT key, value FROM meta").fetchall())


def default_store_path(source: str | Path) -> Path:
    """Where the store of a collection lives when its data folder is writable."""
    source = Path(source)
    if source.is_dir():
        return source / "galview-labels.sqlite"
    return source.with_name(source.name + ".labels.sqlite")


def fallback_store_path(source: str | Path) -> Path:
    """Store location in the user's data directory, for read-only data folders."""
    from galview.core.paths import data_dir

    source = Path(source).absolute()
    digest = hashlib.sha1(str(source).encode()).hexdigest()[:8]
    return data_dir() / "labels" / f"{source.stem}-{digest}.sqlite"


def connect(path: Path, n: int, ids, original, source: str, timeout: float):
    """Create the store at ``path`` if missing, check it and connect (autocommit, WAL, FULL sync).

    Returns
    -------
    (sqlite3.Connection, dict)
        The open connection and the store's meta table.
    """
    if not path.exists():
        _create(path, n, ids, original, source)
    _check_header(path)
    try:
        conn = sqlite3.connect(
            path.as_uri() + "?mode=rw",
            uri=True,
            timeout=timeout,
            isolation_level=None,
            check_same_thread=False,
        )
    except sqlite3.Error as exc:
        raise LabelStoreError(path, sqlite_problem(exc, timeout)) from exc
    try:
        meta = _validate(conn, path)
        stored = int(meta.get("n", -1))
        if stored != n:
            raise LabelStoreError(
                path, f"was made for {stored} cutouts, but this collection has {n}; pass another --store"
            )
        conn.execute("PRAGMA synchronous=FULL")  # with WAL: a commit is on disk when it returns
        if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            conn.execute("PRAGMA journal_mode=WAL")
    except sqlite3.Error as exc:
        conn.close()
        raise LabelStoreError(path, sqlite_problem(exc, timeout)) from exc
    except BaseException:
        conn.close()
        raise
    return conn, meta


# -- labels in and out ----------------------------------------------------------------------


def import_csv(store, path, classes=DEFAULT_CLASSES) -> list[int]:
    """Import labels from a CSV file as one undoable action (history kind ``"import"``).

    Parameters
    ----------
    store : LabelStore
    path : str or Path
        CSV with a header naming ``label`` and ``index`` or ``id`` (both: they must agree).
        Labels are parsed with :func:`~galview.core.labelling.parse_label`; rows with an empty
        label, or whose label equals the cutout's current effective label, change nothing.
    classes : sequence of str
        Class names accepted as labels.

    Returns
    -------
    list of int
        Indices whose label changed (empty if none).

    Raises
    ------
    LabelStoreError
        Naming the file and line of the first bad row; nothing is imported then.
    """
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            changes = _read_rows(store, path, csv.DictReader(handle), classes)
    except OSError as exc:
        raise LabelStoreError(path, f"cannot be read ({exc.strerror or exc})") from exc
    except (csv.Error, UnicodeDecodeError) as exc:
        raise LabelStoreError(path, f"is not a readable CSV file ({exc})") from exc
    effective = store.effective()
    changes = {i: v for i, v in changes.items() if effective[i] != v}
    if changes:
        store.set_many(changes.items(), kind="import", description=f"import {path.name}")
    return sorted(changes)


def _read_rows(store, path: Path, reader: csv.DictReader, classes) -> dict[int, int]:
    fields = [f.strip().lower() for f in reader.fieldnames or []]
    if "label" not in fields or not {"index", "id"} & set(fields):
        raise LabelStoreError(path, f"needs a header with columns {{index or id}} and label; found {fields}")
    reader.fieldnames = fields
    ids = store.ids()
    by_id = {cid: i for i, cid in enumerate(ids)} if "id" in fields else {}
    changes: dict[int, int] = {}
    first_line: dict[int, int] = {}
    for row in reader:
        line = reader.line_num
        text = (row.get("label") or "").strip()
        if not text:
            continue
        try:
            index = _row_index(row, ids, by_id)
            value = parse_label(text, classes)
        except ValueError as exc:
            raise LabelStoreError(path, f"line {line}: {exc}") from None
        if index in changes:
            raise LabelStoreError(
                path, f"line {line}: cutout {index} was already given on line {first_line[index]}"
            )
        changes[index], first_line[index] = value, line
    return changes


def _row_index(row: dict, ids: np.ndarray, by_id: dict) -> int:
    cid = (row.get("id") or "").strip()
    given = (row.get("index") or "").strip()
    if given:
        try:
            index = int(given)
        except ValueError:
            raise ValueError(f"index {given!r} is not a whole number") from None
        if not 0 <= index < len(ids):
            raise ValueError(
                f"index {index} is out of range; the store has {len(ids)} cutouts (0..{len(ids) - 1})"
            )
        if cid and ids[index] != cid:
            raise ValueError(f"cutout {index} has id {str(ids[index])!r} in the store, not {cid!r}")
        return index
    if cid not in by_id:
        raise ValueError(f"no cutout has id {cid!r}" if cid else "the row has neither index nor id")
    return by_id[cid]


def _columns(store) -> dict[str, np.ndarray]:
    with store._reading() as conn:
        rows = conn.execute("SELECT idx, changed_at FROM labels WHERE changed_at IS NOT NULL").fetchall()
    changed = np.full(store.n, np.nan)
    if rows:
        pairs = np.asarray(rows, dtype=np.float64)
        changed[pairs[:, 0].astype(np.int64)] = pairs[:, 1]
    return {
        "index": np.arange(store.n, dtype=np.int64),
        "id": store.ids(),
        "label": store.effective(),
        "original_label": store.original_labels(),
        "changed_at": changed,
    }


def _iso(seconds: float) -> str:
    if np.isnan(seconds):
        return ""
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def export_labels(store, path) -> Path:
    """Write the store's labels to ``.csv``, ``.fits``/``.fit`` or ``.h5``/``.hdf5`` (by suffix).

    Columns (see the module docstring): index, id, label, original_label, changed_at. The file
    is written beside its final name and moved into place, so a failed export leaves no half file.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    writers = {
        ".csv": _write_csv,
        ".fits": _write_fits,
        ".fit": _write_fits,
        ".h5": _write_h5,
        ".hdf5": _write_h5,
    }
    if suffix not in writers:
        raise LabelStoreError(path, "unsupported export format; expected .csv, .fits or .h5")
    columns = _columns(store)
    partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        writers[suffix](partial, columns, store.source)
        os.replace(partial, path)
    except OSError as exc:
        raise LabelStoreError(path, f"cannot be written ({exc.strerror or exc})") from exc
    finally:
        partial.unlink(missing_ok=True)
    return path


def _cell(value: float) -> str:
    return "" if np.isnan(value) else (str(int(value)) if float(value).is_integer() else repr(float(value)))


def _write_csv(path: Path, columns: dict, source: str) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(EXPORT_COLUMNS)
        for i in range(len(columns["index"])):
            writer.writerow(
                [
                    i,
                    columns["id"][i],
                    _cell(columns["label"][i]),
                    _cell(columns["original_label"][i]),
                    _iso(columns["changed_at"][i]),
                ]
            )


def _write_fits(path: Path, columns: dict, source: str) -> None:
    from astropy.table import Table

    table = Table({name: columns[name] for name in EXPORT_COLUMNS[:4]})
    table["changed_at"] = np.array([_iso(t) for t in columns["changed_at"]], dtype="U24")
    table.meta["EXTNAME"] = "LABELS"
    table.meta["ORIGIN"] = "GalView"
    table.write(path, format="fits")


def _write_h5(path: Path, columns: dict, source: str) -> None:
    import h5py

    with h5py.File(path, "w") as handle:
        for name in ("index", "label", "original_label", "changed_at"):
            handle.create_dataset(name, data=columns[name])
        handle.create_dataset("id", data=columns["id"].astype(object), dtype=h5py.string_dtype())
        handle["changed_at"].attrs["units"] = "seconds since 1970-01-01T00:00:00Z (Unix time); NaN: never"
        handle["label"].attrs["meaning"] = "user label where set, else original; NaN: unlabelled; -1: unsure"
        handle.attrs["source"] = source

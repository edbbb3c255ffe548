"""Recovering the readable labels of a damaged label store into a new store.

GalView refuses a damaged store (:class:`~galview.io.label_schema.DamagedLabelStore`) and never
changes it in place. :func:`salvage_store` reads a *copy* of it (with its write-ahead log, which
holds the newest commits) by ranges of rows, halving a range SQLite cannot read down to single
rows, and keeps each label only if its cutout id matches the collection's. A label whose row in
the ``labels`` table is lost is taken from the newest readable history row of that cutout (every
change writes one); when SQLite cannot reach the whole history (a damaged schema or interior
page), its rows are read off the leaf pages themselves (:mod:`galview.io.sqlite_pages`). It then
builds a new store for the collection holding the recovered labels as one undoable action,
writes the readable history to a CSV file, and only then moves the damaged file aside
(``<store>.damaged-<time>``, kept for good) and links the new store into its place. If the process
stops half-way, the damaged file or the finished new store is left under a name the report gives;
a store is never overwritten, and a half-made one is never in use.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import os
import shutil
import sqlite3
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from galview.core.budget import MAX_LABEL
from galview.core.jobs import Progress
from galview.core.label_values import UNSURE
from galview.io.label_notes import clean_note, restore_note_rows
from galview.io.label_queries import HISTORY_COLUMNS
from galview.io.label_schema import (
    SQLITE_MAGIC,
    DamagedLabelStore,
    LabelStoreError,
    fsync_dir,
    open_elsewhere,
    remove_store_files,
)
from galview.io.sqlite_pages import leaf_records, page_size_of
from galview.io.text import one_line

MAX_FAILED_READS = 200_000  # single-row reads tried inside damaged stretches before giving up on the rest
SALVAGE_DESCRIPTION = "recovered from the damaged store {name}"


@dataclass
class SalvageReport:
    """What :func:`salvage_store` recovered and where it left each file.

    Attributes
    ----------
    store : Path
        The new store, in the damaged one's place.
    damaged : Path
        The damaged store, moved aside unchanged.
    history_csv : Path or None
        The damaged store's readable history (columns of :data:`HISTORY_COLUMNS`); None if none was read.
    labels : int
        User labels recovered into the new store.
    from_history : int
        Of those, labels whose row was lost or damaged and that were taken from the cutout's newest
        readable history row (older than the lost row if later history rows were lost too).
    lost_rows : int
        Rows of the ``labels`` table that could not be read (one per cutout).
    unknown : int
        Cutouts with neither a readable row nor a readable history row: unlabelled, or their label
        is lost.
    history_rows : int
        History rows read.
    history_lost : int
        History rows missing from the numbering of those read (rows lost after the last one read
        are not counted).
    history_from_pages : int
        Of the history rows, those SQLite could not reach (a damaged schema or interior page) and
        that were read from the leaf pages themselves (:mod:`galview.io.sqlite_pages`).
    rejected : int
        Rows read but not recovered: an id that is not this collection's, or a value GalView
        could not have written.
    note_versions, noted : int
        Versions of notes on cutouts recovered (all kept in the new store's note history), and the
        cutouts that have a note after recovery. Notes are read where SQLite reaches their table.
    notes : list of str
        Anything else the user should know (e.g. the reading stopped early).
    """

    store: Path
    damaged: Path
    history_csv: Path | None
    labels: int = 0
    from_history: int = 0
    lost_rows: int = 0
    unknown: int = 0
    history_rows: int = 0
    history_lost: int = 0
    history_from_pages: int = 0
    rejected: int = 0
    note_versions: int = 0
    noted: int = 0
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The report as a few lines for the terminal or a dialog."""
        out = [
            f"recovered {self.labels} label{'' if self.labels == 1 else 's'} into {self.store}"
            + (f" ({self.from_history} of them from the history)" if self.from_history else ""),
            f"the damaged store was kept, unchanged, as {self.damaged}",
        ]
        if self.history_csv is not None:
            pages = (
                f", {self.history_from_pages} of them read from its pages" if self.history_from_pages else ""
            )
            out.append(f"its readable history ({self.history_rows} rows{pages}) is in {self.history_csv}")
        if self.note_versions:
            out.append(
                f"recovered the notes on {self.noted} cutout{'' if self.noted == 1 else 's'} "
                f"({self.note_versions} version{'' if self.note_versions == 1 else 's'}, earlier ones included)"
            )
        if self.lost_rows:
            out.append(f"{self.lost_rows} cutouts' rows could not be read")
        if self.rejected:
            out.append(f"{self.rejected} rows were not this collection's or held values GalView never writes")
        if self.unknown:
            out.append(
                f"{self.unknown} cutouts have no readable row and no readable history row: they were "
                "unlabelled, or their label is lost"
            )
        if self.history_lost:
            out.append(
                f"about {self.history_lost} history rows could not be read, so a label taken from the "
                "history may be older than the cutout's last one"
            )
        return out + self.notes


def salvage_store(collection, store_path=None, *, on_progress=None, cancel=None) -> SalvageReport:
    """Recover the readable labels of the collection's damaged store into a new one in its place.

    Parameters
    ----------
    collection : Collection
        The cutouts the store belongs to: its count and ids check every recovered row.
    store_path : str or Path, optional
        The damaged store (default: the collection's, as :func:`~galview.io.label_paths.store_path_for`).
    on_progress, cancel : optional
        The job protocol (:mod:`galview.core.jobs`): progress in rows read; cancelling stops it
        before anything is written, and raises :class:`~galview.core.jobs.Cancelled`.

    Returns
    -------
    SalvageReport

    Raises
    ------
    LabelStoreError
        If there is no store, if another program has it open, if it is not damaged (it opens and
        reads: nothing to recover), if it is refused for another reason (locked, from a newer GalView,
        made for another collection), or if the new store cannot be written. Nothing is moved or
        written then.
    """
    from galview.io.label_paths import store_path_for

    path = (
        Path(store_path) if store_path is not None else store_path_for(collection.source, make_folders=False)
    )
    path = path.expanduser().absolute()
    if not path.is_file():
        raise LabelStoreError(path, "does not exist; there is no label store to recover")
    if open_elsewhere(path):
        raise LabelStoreError(
            path,
            "is open in another program (another GalView?); close the collection there, then recover "
            "the labels — moving the store from under it would lose what it writes next",
        )
    ids = [str(i) for i in collection.ids]
    tell = _Teller(on_progress, cancel)
    with tempfile.TemporaryDirectory(prefix="galview-salvage-") as folder:
        tell("copying the store", 0, len(ids))
        copy = _copy_store(path, Path(folder))
        tell("checking the copy", 0, len(ids))
        _check_damaged(collection, copy, path)  # on the copy: nothing opens the store itself
        found = _read_copy(copy, ids, tell)
    tell("writing the new store", found.read, found.read)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    damaged = _free_name(path.with_name(f"{path.name}.damaged-{stamp}"))
    report = SalvageReport(store=path, damaged=damaged, history_csv=None, **found.counts())
    report.notes.extend(found.notes)
    fresh = _build_new_store(collection, path, found.labels, damaged.name, found.note_rows)
    report.note_versions = len(found.note_rows)
    current = {row[0]: row[2] for row in found.note_rows}  # oldest first: the last of each cutout wins
    report.noted = sum(1 for text in current.values() if text)
    if found.history:
        report.history_csv = _free_name(damaged.with_name(damaged.name + ".history.csv"))
        try:
            _write_history(report.history_csv, found.history)
        except OSError as exc:
            remove_store_files(fresh)
            report.history_csv.unlink(missing_ok=True)
            raise LabelStoreError(
                report.history_csv, f"cannot be written ({exc.strerror or exc}); nothing was changed"
            ) from exc
    try:
        _move_aside(path, damaged)
    except OSError as exc:
        remove_store_files(fresh)
        if report.history_csv is not None:
            report.history_csv.unlink(missing_ok=True)
        raise LabelStoreError(
            path, f"could not be moved aside ({exc.strerror or exc}); nothing was changed"
        ) from exc
    _link_in(path, fresh, damaged)
    return report


class _Teller:
    """Progress in rows read, and the cancel check between steps (both optional)."""

    def __init__(self, on_progress, cancel):
        self.on_progress, self.cancel = on_progress, cancel

    def __call__(self, message: str, done: int, total: int, unit: str = "rows") -> None:
        if self.cancel is not None:
            self.cancel.raise_if_cancelled()
        if self.on_progress is not None:
            self.on_progress(Progress(done, max(total, done), message, unit=unit))


def _check_damaged(collection, copy: Path, path: Path) -> None:
    """Refuse a store whose copy opens and reads (nothing to recover) or is refused for another reason
    (another collection, a newer GalView); the refusal names the store at ``path``."""
    from galview.io.label_store import open_label_store

    try:
        with open_label_store(collection, copy) as store:
            store.ids()
            store.current()
            store.history()
            store.note_history()
    except DamagedLabelStore:
        return
    except LabelStoreError as exc:
        raise LabelStoreError(path, exc.problem.replace(str(copy), str(path))) from None
    raise LabelStoreError(
        path, "opens and reads without error; there is nothing to recover (it was left untouched)"
    )


def _copy_store(path: Path, folder: Path) -> Path:
    """Copy the store and its write-ahead log (not the shared-memory index) into ``folder``."""
    copy = folder / "damaged.sqlite"
    try:
        shutil.copyfile(path, copy)
        wal = Path(f"{path}-wal")
        if wal.is_file():
            shutil.copyfile(wal, Path(f"{copy}-wal"))
    except OSError as exc:
        raise LabelStoreError(
            path,
            f"could not be copied to {folder.parent} for reading ({exc.strerror or exc}); nothing was changed",
        ) from exc
    return copy


def _mend_copy(copy: Path) -> None:
    """Mend the two header faults that hide every page of a store: a damaged magic string, and a
    header that counts more pages than the file holds (a file cut short, or a damaged count). The
    count is set to the pages there are; SQLite then reports the missing ones as damaged one by one."""
    with open(copy, "r+b") as handle:
        head = handle.read(100)
        if not head.startswith(SQLITE_MAGIC):
            handle.seek(0)
            handle.write(SQLITE_MAGIC)
        if len(head) < 32:
            return
        size = page_size_of(head)
        pages = handle.seek(0, os.SEEK_END) // size
        if int.from_bytes(head[28:32], "big") > pages:
            handle.seek(28)
            handle.write(pages.to_bytes(4, "big"))


@dataclass
class _Found:
    labels: dict[int, int] = field(default_factory=dict)
    from_history: int = 0
    lost_rows: int = 0
    unknown: int = 0
    history: list[tuple] = field(default_factory=list)
    history_lost: int = 0
    history_from_pages: int = 0
    read: int = 0  # row numbers tried, for progress
    rejected: int = 0
    notes: list[str] = field(default_factory=list)
    note_rows: list[tuple] = field(default_factory=list)  # (idx, cutout_id, text, at, user), oldest first

    def counts(self) -> dict:
        return {
            "labels": len(self.labels),
            "from_history": self.from_history,
            "lost_rows": self.lost_rows,
            "unknown": self.unknown,
            "history_rows": len(self.history),
            "history_lost": self.history_lost,
            "history_from_pages": self.history_from_pages,
            "rejected": self.rejected,
        }


def _read_copy(copy: Path, ids: list[str], tell) -> _Found:
    """Every readable, valid label and history row of the copy."""
    found, n = _Found(), len(ids)
    _mend_copy(copy)
    rows, history, complete = _read_tables(copy, n, tell, found)
    good = set()
    for idx, cid, label in rows:  # idx is the row number
        if _valid(idx, cid, label, ids):
            good.add(idx)
            if label is not None:
                found.labels[idx] = label
        else:
            found.rejected += 1
    found.lost_rows = n - len(rows)
    if not complete:  # SQLite could not reach every history row: look at the pages themselves
        pages = functools.partial(tell, "reading the pages one by one", unit="pages")
        extra = _history_from_pages(copy, {row[0] for row in history}, pages)
        history = sorted(history + extra, key=lambda row: row[0])
        found.history_from_pages = len(extra)
    found.history = history
    found.history_lost = history[-1][0] - len(history) if history else 0  # gaps in its numbering
    newest: dict[int, int | None] = {}
    for row in history:  # in seq order: the last row of a cutout is its newest change
        _seq, _action, idx, cid, _old, new = row[:6]
        if not _valid(idx, cid, new, ids):
            found.rejected += 1
        elif idx not in good:
            newest[idx] = new
    found.note_rows = _valid_note_rows(_read_notes(copy, tell, found), ids, found)
    found.unknown = n - len(good) - len(newest)
    recovered = {i: v for i, v in newest.items() if v is not None}
    found.labels.update(recovered)
    found.from_history = len(recovered)
    if not rows and not history:
        found.notes.append("nothing could be read from the damaged store; the new store has no user labels")
    return found


def _read_tables(copy: Path, n: int, tell, found: _Found) -> tuple[list, list, bool]:
    """The rows SQLite can reach: ``(labels rows, history rows, whether that history is complete)``.

    Complete: no range of it failed and its numbering has no gap. Every label change writes a history
    row, so a complete history holds the newest label of every cutout ever labelled."""
    try:
        conn = sqlite3.connect(copy, isolation_level=None)
    except sqlite3.Error as exc:
        found.notes.append(f"SQLite could not open the damaged store ({one_line(exc)})")
        return [], [], False
    conn.text_factory = bytes
    with contextlib.closing(conn):
        with contextlib.suppress(sqlite3.Error):
            conn.execute("PRAGMA cell_size_check=ON")
        reader = _RangeReader(conn, tell)
        rows = reader.rows("labels", "cutout_id, label", 0, n - 1)
        last, exact = reader.last_rowid("history")
        history = reader.rows("history", ", ".join(HISTORY_COLUMNS[1:]), 1, last) if last else []
        found.read = reader.read
        if reader.gave_up:
            found.notes.append("reading stopped early: too many damaged rows; later rows were not tried")
    numbered = len(history) == (history[-1][0] if history else 0)  # seq runs 1, 2, … with no gap
    complete = exact and numbered and "history" not in reader.lost and not reader.gave_up
    return rows, history, complete


def _read_notes(copy: Path, tell, found: _Found) -> list[tuple]:
    """The notes rows SQLite can reach, ``(seq, idx, cutout_id, text, at, user)``; none when the store
    has no notes table or its schema cannot be read (notes are not looked for on the pages)."""
    try:
        conn = sqlite3.connect(copy, isolation_level=None)
    except sqlite3.Error:
        return []
    conn.text_factory = bytes
    with contextlib.closing(conn):
        try:
            has = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'notes'"
            ).fetchone()
        except (sqlite3.Error, UnicodeDecodeError):
            found.notes.append("the store's list of tables could not be read, so no notes were recovered")
            return []
        if has is None:
            return []
        reader = _RangeReader(conn, tell)
        last, _exact = reader.last_rowid("notes")
        text = "CASE WHEN typeof(text) = 'text' THEN text END"  # bytes here, as blobs are: tell them apart
        rows = reader.rows("notes", f"idx, cutout_id, {text}, at, user", 1, last) if last else []
        if reader.lost.get("notes"):
            found.notes.append("some notes could not be read")
        return rows


def _valid_note_rows(rows: list[tuple], ids: list[str], found: _Found) -> list[tuple]:
    """The note rows GalView wrote for this collection, decoded, oldest first; others counted as rejected."""
    kept = []
    for _seq, idx, cid, text, at, user in rows:
        try:
            valid = (
                _valid(idx, cid, None, ids)
                and isinstance(text, bytes)
                and isinstance(at, int | float)
                and isinstance(user, bytes)
            )
            if valid:
                kept.append(
                    (
                        idx,
                        ids[idx],
                        clean_note(text.decode("utf-8", "replace")),
                        float(at),
                        user.decode("utf-8", "replace"),
                    )
                )
                continue
        except ValueError:
            pass
        found.rejected += 1
    return kept


HISTORY_KINDS = (b"set", b"undo", b"redo", b"import")


def _history_from_pages(copy: Path, known: set[int], on_pages) -> list[tuple]:
    """History rows found on the copy's pages (and its log's) that are not in ``known`` (by seq).

    History rows are only ever appended, never changed, so a copy found on a freed page is still
    right. Rows of other tables are told apart by their shape (12 columns, the types GalView writes)."""
    found: dict[int, tuple] = {}
    wal = Path(f"{copy}-wal")
    for seq, values in leaf_records(copy, wal, columns=len(HISTORY_COLUMNS), on_pages=on_pages):
        if seq in known or seq in found or not _history_shaped(values):
            continue
        found[seq] = (seq, *values[1:])
    return list(found.values())


def _history_shaped(values: list) -> bool:
    if len(values) != 12 or values[0] is not None or values[11] not in HISTORY_KINDS:
        return False
    action, idx, cid, old, new, at, user, model_id, prob, seconds = values[1:11]
    number = (int, float)
    return (
        isinstance(action, int)
        and isinstance(idx, int)
        and isinstance(cid, bytes)
        and all(v is None or isinstance(v, int) for v in (old, new))
        and isinstance(at, number)
        and isinstance(user, bytes)
        and (model_id is None or isinstance(model_id, bytes))
        and all(v is None or isinstance(v, number) for v in (prob, seconds))
    )


def _valid(idx, cid, label, ids: list[str]) -> bool:
    """Whether a (cutout index, id, label) read from the store is one GalView wrote for this collection."""
    if not isinstance(idx, int) or not 0 <= idx < len(ids) or not isinstance(cid, bytes):
        return False
    try:
        if cid.decode("utf-8") != ids[idx]:
            return False
    except UnicodeDecodeError:
        return False
    return label is None or (isinstance(label, int) and UNSURE <= label <= MAX_LABEL)


class _RangeReader:
    """Reads a table by ranges of row numbers, halving a range that SQLite cannot read."""

    def __init__(self, conn: sqlite3.Connection, tell):
        self.conn, self.tell = conn, tell
        self.read = 0  # row numbers tried so far, for progress
        self.total = 0
        self.lost: dict[str, int] = {}
        self.failed = 0
        self.gave_up = False

    def last_rowid(self, table: str) -> tuple[int, bool]:
        """The table's largest row number and True; if unreadable, an upper bound from the file's
        page count (0 if that is unreadable too) and False."""
        query = f"SELECT COALESCE(MAX(rowid), 0) FROM {table}"
        try:
            return int(self.conn.execute(query).fetchone()[0]), True
        except (sqlite3.Error, TypeError, ValueError, UnicodeDecodeError):
            try:
                pages = int(self.conn.execute("PRAGMA page_count").fetchone()[0])
            except (sqlite3.Error, TypeError, ValueError):
                return 0, False
            return pages * 512, False  # a page holds far fewer rows than this

    def rows(self, table: str, columns: str, low: int, high: int, chunk: int = 10_000) -> list[tuple]:
        """``(rowid, *columns)`` of the readable rows with row numbers ``low``..``high``, in order."""
        out: list[tuple] = []
        self.total += high - low + 1
        try:  # prepared without reading a row: fails only when the schema itself cannot be read
            self.conn.execute(f"SELECT rowid, {columns} FROM {table} WHERE 0").fetchall()
        except (sqlite3.Error, UnicodeDecodeError):
            self.lost[table] = self.lost.get(table, 0) + high - low + 1
            self.read += high - low + 1
            return out
        for start in range(low, high + 1, chunk):
            self.tell(f"reading the {table} table", self.read, self.total)
            end = min(start + chunk - 1, high)
            self._read(table, columns, start, end, out)
            self.read += end - start + 1
        return out

    def _read(self, table: str, columns: str, low: int, high: int, out: list) -> None:
        if self.gave_up:
            self.lost[table] = self.lost.get(table, 0) + high - low + 1
            return
        query = f"SELECT rowid, {columns} FROM {table} WHERE rowid BETWEEN ? AND ? ORDER BY rowid"
        try:
            out.extend(self.conn.execute(query, (low, high)).fetchall())
            return
        except (sqlite3.Error, UnicodeDecodeError):
            self.failed += 1
        if self.failed > MAX_FAILED_READS:
            self.gave_up = True
        if low == high or self.gave_up:
            self.lost[table] = self.lost.get(table, 0) + high - low + 1
            return
        middle = (low + high) // 2
        self._read(table, columns, low, middle, out)
        self._read(table, columns, middle + 1, high, out)


def _free_name(path: Path) -> Path:
    """``path``, or with ``-2``, ``-3``… appended when a file of that name exists."""
    candidate, number = path, 1
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.name}-{number}")
    return candidate


def _build_new_store(collection, path: Path, labels: dict[int, int], damaged_name: str, note_rows=()) -> Path:
    """A complete new store for the collection beside ``path``, the labels set as one action, the
    notes' versions as they were."""
    from galview.core.collection import fingerprint
    from galview.io.label_store import LabelStore

    fresh = _free_name(path.with_name(f".{path.name}.salvaged"))
    store = LabelStore.open(
        fresh,
        len(collection),
        ids=lambda: collection.ids,
        original=lambda: collection.labels,
        source=str(collection.source),
        fingerprint=fingerprint(collection),
    )
    try:
        if labels:
            store.set_many(
                sorted(labels.items()),
                kind="import",
                description=SALVAGE_DESCRIPTION.format(name=damaged_name),
            )
        restore_note_rows(store, note_rows)
    except BaseException:
        store.close()
        remove_store_files(fresh)
        raise
    store.close()  # the last connection: SQLite folds the log into the file and removes it
    return fresh


def _write_history(path: Path, rows: list[tuple]) -> None:
    """The damaged store's readable history rows as CSV (texts decoded, damaged bytes as U+FFFD)."""

    def cell(value):
        if isinstance(value, bytes):
            return value.decode("utf-8", "replace")
        return "" if value is None else value

    with open(path, "x", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HISTORY_COLUMNS)
        writer.writerows([cell(v) for v in row] for row in rows)
        handle.flush()
        os.fsync(handle.fileno())


def _move_aside(path: Path, damaged: Path) -> None:
    """Move the damaged store and its log files to ``damaged`` (same folder), or, if one move fails (a
    file another program holds open, on Windows), undo those already made and raise the ``OSError``:
    a log must never be parted from its store, nor left beside the new one."""
    moved: list[tuple[Path, Path]] = []
    try:
        for suffix in ("-wal", "-shm", ""):
            old = Path(f"{path}{suffix}")
            if old.exists():
                os.rename(old, Path(f"{damaged}{suffix}"))
                moved.append((old, Path(f"{damaged}{suffix}")))
    except OSError:
        for old, aside in reversed(moved):
            with contextlib.suppress(OSError):
                os.rename(aside, old)
        raise


def _link_in(path: Path, fresh: Path, damaged: Path) -> None:
    """Link the new store into the place the damaged one was moved from (never over another file)."""
    try:
        try:
            os.link(fresh, path)  # never replaces: another GalView may have created a store meanwhile
            fresh.unlink()
        except FileExistsError:
            raise
        except OSError:  # file systems without hard links
            if path.exists():
                raise FileExistsError(path) from None
            os.rename(fresh, path)
    except FileExistsError:
        raise LabelStoreError(
            path,
            f"was created by another program while recovering; the recovered store is {fresh} and the "
            f"damaged one {damaged}",
        ) from None
    except OSError as exc:
        raise LabelStoreError(
            path, f"could not be replaced ({exc.strerror or exc}); the recovered store is {fresh}"
        ) from exc
    fsync_dir(path.parent)

"""Labels in and out of the store: :func:`import_csv` (one undoable action) and :func:`export_labels`.

Exports go to CSV, FITS or HDF5 with columns ``index``, ``id``, ``label`` (effective label: the
user's where set, else the file's; NaN/empty where neither), ``original_label``, ``changed_at``
(when the user last set the label: ISO 8601 UTC text in CSV and FITS, empty where never; Unix
seconds as float64 in HDF5, NaN where never) and ``note`` (the cutout's note, empty where none; in
FITS, which holds only ASCII, other characters are written as backslash escapes).
"""

from __future__ import annotations

import csv
import os
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from galview.core.jobs import Progress, rows_letting_others_run
from galview.core.label_values import DEFAULT_CLASSES, parse_label
from galview.io.label_schema import EXPORT_COLUMNS, LabelStoreError
from galview.io.text import one_line


def import_csv(store, path, classes=DEFAULT_CLASSES, *, on_progress=None, cancel=None) -> list[int]:
    """Import labels from a CSV file as one undoable action (history kind ``"import"``).

    Also the window's job behind Labels ▸ Import labels from CSV…: it reports reading and writing as two
    steps, and a cancel while the file is read imports nothing (the write is one transaction).

    Parameters
    ----------
    store : LabelStore
    path : str or Path
        CSV with a header naming ``label`` and ``index`` or ``id`` (both: they must agree).
        Labels are parsed with :func:`~galview.core.label_values.parse_label`; rows with an empty
        label, or whose label equals the cutout's current effective label, change nothing.
    classes : sequence of str
        Class names accepted as labels.

    Returns
    -------
    list of int
        Indices whose label changed (empty if none). A cutout labelled by anyone after the import began
        reading keeps that label.

    Raises
    ------
    LabelStoreError
        Naming the file and line of the first bad row; nothing is imported then.
    """
    path = Path(path)
    _step(on_progress, cancel, 0, f"reading {path.name}")
    seq = store.last_seq()  # a label set from now on (the window's, during the job) is not overwritten
    changes = csv_labels(path, store.ids(), classes)
    effective = store.effective()
    changes = {i: v for i, v in changes.items() if effective[i] != v}
    _step(on_progress, cancel, 1, f"writing {len(changes):,} labels")
    if not changes:
        return []
    written: list[int] = []
    store.set_many(
        changes.items(), kind="import", description=f"import {path.name}", unless_changed_since=seq,
        written=written,
    )  # fmt: skip
    return written


def _step(on_progress, cancel, done: int, message: str) -> None:
    """One of an import's or export's two steps begins (raises Cancelled first when asked to stop)."""
    if cancel is not None:
        cancel.raise_if_cancelled()
    if on_progress is not None:
        on_progress(Progress(done, 2, message, unit="steps"))


def csv_labels(
    path, ids, classes=DEFAULT_CLASSES, set_by_a_person: bool = False, notes: dict | None = None
) -> dict[int, int]:
    """The labels a CSV file gives, by cutout index; nothing is written anywhere.

    Parameters
    ----------
    path : str or Path
        CSV with a header naming ``label`` and ``index`` or ``id`` (both: they must agree); rows
        with an empty label are skipped.
    ids : ndarray, (N,) str
        The collection's cutout ids (ids are matched to indices through them).
    classes : sequence of str
        Class names accepted as labels.
    set_by_a_person : bool
        Where the file has a ``changed_at`` column (a GalView export), keep only the rows a person
        labelled (a time there), not the file labels the export carried along.
    notes : dict, optional
        Filled with the file's ``note`` column where it has one (index → text, rows with a note whose
        cutout can be found, labelled or not).

    Raises
    ------
    LabelStoreError
        Naming the file and the line of the first bad row.
    """
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            return _read_rows(path, csv.DictReader(handle), ids, classes, set_by_a_person, notes)
    except OSError as exc:
        raise LabelStoreError(path, f"cannot be read ({exc.strerror or exc})") from exc
    except (csv.Error, UnicodeDecodeError) as exc:
        raise LabelStoreError(path, f"is not a readable CSV file ({one_line(exc)})") from exc


def _read_rows(
    path: Path, reader: csv.DictReader, ids, classes, set_by_a_person: bool, notes=None
) -> dict[int, int]:
    fields = [f.strip().lower() for f in reader.fieldnames or []]
    if "label" not in fields or not {"index", "id"} & set(fields):
        raise LabelStoreError(path, f"needs a header with columns {{index or id}} and label; found {fields}")
    reader.fieldnames = fields
    person_only = set_by_a_person and "changed_at" in fields
    by_id = {cid: i for i, cid in enumerate(ids)} if "id" in fields else {}
    changes: dict[int, int] = {}
    first_line: dict[int, int] = {}
    for row in rows_letting_others_run(reader):  # read in a job, the window answers meanwhile
        line = reader.line_num
        text = (row.get("label") or "").strip()
        note = (row.get("note") or "").strip() if notes is not None else ""
        if not text or (person_only and not (row.get("changed_at") or "").strip()):
            if note:
                _keep_note(notes, note, row, ids, by_id)
            continue
        try:
            index = _row_index(row, ids, by_id)
            value = parse_label(text, classes)
        except ValueError as exc:
            raise LabelStoreError(path, f"line {line}: {one_line(exc)}") from None
        if note:
            notes[index] = note
        if index in changes:
            raise LabelStoreError(
                path, f"line {line}: cutout {index} was already given on line {first_line[index]}"
            )
        changes[index], first_line[index] = value, line
    return changes


def _keep_note(notes: dict, note: str, row: dict, ids, by_id: dict) -> None:
    """The note of a row whose label is not used, where its cutout can be found (else left out)."""
    try:
        notes[_row_index(row, ids, by_id)] = note
    except ValueError:
        pass


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
    notes = np.full(store.n, "", dtype=object)
    for index, text in store.notes().items():
        notes[index] = text
    return {
        "index": np.arange(store.n, dtype=np.int64),
        "id": store.ids(),
        "label": store.effective(),
        "original_label": store.original_labels(),
        "changed_at": changed,
        "note": notes,
    }


def _iso(seconds: float) -> str:
    if np.isnan(seconds):
        return ""
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def export_labels(store, path, keep=None, *, on_progress=None, cancel=None) -> Path:
    """Write the store's labels to ``.csv``, ``.fits``/``.fit`` or ``.h5``/``.hdf5`` (by suffix).

    Columns (see the module docstring): index, id, label, original_label, changed_at, note; one row per
    cutout, or only those where ``keep`` (N,) bool is true. The file is written beside its final
    name and moved into place, so a failed export leaves no half file. Also the window's job behind
    Labels ▸ Export labels…: reading and writing are reported as two steps; a cancel before writing
    writes nothing.
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
    _step(on_progress, cancel, 0, "reading the labels")
    columns = _columns(store)
    if keep is not None:
        columns = {name: values[np.asarray(keep, dtype=bool)] for name, values in columns.items()}
    _step(on_progress, cancel, 1, f"writing {len(columns['index']):,} rows to {path.name}")
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
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(EXPORT_COLUMNS)
        for i in rows_letting_others_run(range(len(columns["index"]))):  # the window answers meanwhile
            writer.writerow(
                [
                    columns["index"][i],
                    columns["id"][i],
                    _cell(columns["label"][i]),
                    _cell(columns["original_label"][i]),
                    _iso(columns["changed_at"][i]),
                    columns["note"][i],
                ]
            )


def _write_fits(path: Path, columns: dict, source: str) -> None:
    from astropy.table import Table

    table = Table({name: columns[name] for name in EXPORT_COLUMNS[:4]})
    table["changed_at"] = np.array([_iso(t) for t in columns["changed_at"]], dtype="U24")
    ascii_notes = [text.encode("ascii", "backslashreplace").decode("ascii") for text in columns["note"]]
    table["note"] = np.array(ascii_notes, dtype=f"U{max(1, *map(len, ascii_notes))}")
    table.meta["EXTNAME"] = "LABELS"
    table.meta["ORIGIN"] = "GalView"
    table.write(path, format="fits")


def _write_h5(path: Path, columns: dict, source: str) -> None:
    import h5py

    with h5py.File(path, "w") as handle:
        for name in ("index", "label", "original_label", "changed_at"):
            handle.create_dataset(name, data=columns[name])
        handle.create_dataset("id", data=columns["id"].astype(object), dtype=h5py.string_dtype())
        handle.create_dataset("note", data=columns["note"], dtype=h5py.string_dtype())
        handle["changed_at"].attrs["units"] = "seconds since 1970-01-01T00:00:00Z (Unix time); NaN: never"
        handle["label"].attrs["meaning"] = "user label where set, else original; NaN: unlabelled; -1: unsure"
        handle.attrs["source"] = source

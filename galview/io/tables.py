"""Label tables (``labels.csv``) that name the files of a folder collection.

A table is read as UTF-8 (with or without a byte-order mark), else as Latin-1, so its ids are always
valid text. Rows shorter than the header leave their missing cells empty; rows without a file name
are skipped. A label that is not a small whole number (``1e19``) is refused, naming the row.
"""

from __future__ import annotations

import csv
import io
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from galview.core.budget import MAX_LABEL
from galview.core.errors import CollectionError
from galview.core.jobs import rows_letting_others_run
from galview.io.text import one_line, valid_text

logger = logging.getLogger(__name__)

FILE_COLUMNS = ("filename", "file", "image", "path", "name")
ID_COLUMNS = ("id", "ids", "objid", "object_id", "iauname")
LABEL_COLUMNS = ("label", "labels", "class", "y")
COORD_COLUMNS = ("ra", "dec")
#: Label given to files the table does not list (and to empty cells).
UNLABELLED = -1


@dataclass
class LabelTable:
    """Per-file metadata matched to a folder's files, each array of shape (N,)."""

    labels: np.ndarray | None
    ids: np.ndarray | None
    ra: np.ndarray | None
    dec: np.ndarray | None
    label_column: str | None

    @property
    def class_names(self) -> tuple[str, ...] | None:
        """A label column with a name of its own (``ring``) names the classes: ``no ring``, ``ring``.

        A generic column (``label``, ``class``…) names nothing: the window then says 0 and 1.
        """
        column = self.label_column
        if column is None or column.strip().lower() in LABEL_COLUMNS or self.labels is None:
            return None
        if set(np.unique(self.labels[self.labels >= 0]).tolist()) - {0, 1}:
            return None  # more than yes/no: the column's name does not say what each value means
        return (f"no {column.strip()}", column.strip())


def _find_table(folder: Path) -> Path | None:
    for name in ("labels.csv", "catalog.csv", "catalogue.csv"):
        if (folder / name).is_file():
            return folder / name
    return None


def _number(text) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return np.nan


def _cell(row: dict | None, column: str | None):
    """A row's cell, None when the row, the column or the cell is missing or empty."""
    if row is None or column is None:
        return None
    value = row.get(column)
    return None if value in ("", None) else value


def _label_column(columns: list[str], rows: list[dict], used: set[str]) -> str | None:
    lowered = {c.lower(): c for c in columns}
    for key in LABEL_COLUMNS:
        if key in lowered:
            return lowered[key]
    for column in columns:
        if column in used:
            continue
        values = [_cell(row, column) for row in rows]
        values = [v for v in values if v is not None]
        if values and all(np.isfinite(_number(v)) for v in values):
            return column
    return None


def _read_rows(table_path: Path) -> tuple[list[str], list[dict]]:
    """Column names and rows (dicts, None for missing cells) of a CSV file."""
    try:
        raw = table_path.read_bytes()
    except OSError as exc:
        raise CollectionError(table_path, f"cannot be read ({exc.strerror or exc})") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        logger.info("%s is not UTF-8; reading it as Latin-1", table_path)
        text = raw.decode("latin-1")
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        rows = list(rows_letting_others_run(reader))  # opened in a job, the window answers meanwhile
        columns = [c for c in (reader.fieldnames or []) if c is not None]
    except csv.Error as exc:
        raise CollectionError(table_path, f"cannot be read as CSV ({one_line(exc)})") from exc
    return columns, rows


def _file_key(name: str) -> str:
    """A file name as a table would spell it: itself when it is UTF-8, else its bytes as Latin-1."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(name).decode("latin-1")
    return name


def _label(table_path: Path, row_number: int, text) -> int:
    if text is None:
        return UNLABELLED
    value = _number(text)
    if not np.isfinite(value):
        return UNLABELLED
    if abs(value) > MAX_LABEL:
        raise CollectionError(
            table_path,
            f"row {row_number} has the label {text!r}; expected a class index (a whole number, "
            f"at most {MAX_LABEL:,}) or an empty cell",
        )
    return int(round(value))


def read_label_table(folder: Path, file_names: list[str]) -> LabelTable | None:
    """Read ``labels.csv`` (or ``catalog.csv``) in ``folder`` and match rows to ``file_names``.

    The table needs a file-name column (``filename``, ``file``, ``image``, ``path``).
    The label column is ``label`` if present, else the first numeric column that is not
    an id or coordinate (so a Galaxy Zoo table with a ``ring`` column works as is).
    """
    table_path = _find_table(folder)
    if table_path is None:
        return None
    columns, rows = _read_rows(table_path)
    lowered = {c.lower(): c for c in columns}
    file_column = next((lowered[k] for k in FILE_COLUMNS if k in lowered), None)
    if file_column is None:
        raise CollectionError(
            table_path, f"has no file-name column; expected one of {', '.join(FILE_COLUMNS)}"
        )
    id_column = next((lowered[k] for k in ID_COLUMNS if k in lowered), None)
    ra_column, dec_column = lowered.get("ra"), lowered.get("dec")
    used = {file_column, id_column, ra_column, dec_column} - {None}
    label_column = _label_column(columns, rows, used)
    by_name = {}
    for number, row in enumerate(rows, start=2):  # row 1 is the header
        name = _cell(row, file_column)
        if name is not None:
            by_name[Path(name).name] = (number, row)
    matched = [by_name.get(_file_key(name), (0, None)) for name in file_names]

    def column(name, convert, missing):
        if name is None:
            return None
        return np.array([convert(_cell(row, name)) if _cell(row, name) else missing for _, row in matched])

    labels = None
    if label_column is not None:
        labels = np.array([_label(table_path, n, _cell(row, label_column)) for n, row in matched])
    ids = None
    if id_column is not None:
        ids = np.array(
            [
                valid_text(_cell(row, id_column) or Path(name).stem)
                for (_, row), name in zip(matched, file_names, strict=True)
            ]
        )
    return LabelTable(
        labels=labels,
        ids=ids,
        ra=column(ra_column, _number, np.nan),
        dec=column(dec_column, _number, np.nan),
        label_column=label_column,
    )

"""Label tables (``labels.csv``) that name the files of a folder collection."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from galview.core.errors import CollectionError

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


def _find_table(folder: Path) -> Path | None:
    for name in ("labels.csv", "catalog.csv", "catalogue.csv"):
        if (folder / name).is_file():
            return folder / name
    return None


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return np.nan


def _label_column(columns: list[str], rows: list[dict], used: set[str]) -> str | None:
    lowered = {c.lower(): c for c in columns}
    for key in LABEL_COLUMNS:
        if key in lowered:
            return lowered[key]
    for column in columns:
        if column in used:
            continue
        values = [row[column] for row in rows if row[column] not in ("", None)]
        if values and all(np.isfinite(_number(v)) for v in values):
            return column
    return None


def read_label_table(folder: Path, file_names: list[str]) -> LabelTable | None:
    """Read ``labels.csv`` (or ``catalog.csv``) in ``folder`` and match rows to ``file_names``.

    The table needs a file-name column (``filename``, ``file``, ``image``, ``path``).
    The label column is ``label`` if present, else the first numeric column that is not
    an id or coordinate (so a Galaxy Zoo table with a ``ring`` column works as is).
    """
    table_path = _find_table(folder)
    if table_path is None:
        return None
    try:
        with open(table_path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            rows = list(reader)
            columns = list(reader.fieldnames or [])
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise CollectionError(table_path, f"cannot be read as CSV ({exc})") from exc
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
    by_name = {Path(row[file_column]).name: row for row in rows}
    matched = [by_name.get(name) for name in file_names]

    def column(name, convert, missing):
        if name is None:
            return None
        return np.array(
            [convert(row[name]) if row and row[name] not in ("", None) else missing for row in matched]
        )

    labels = column(
        label_column, lambda v: int(round(_number(v))) if np.isfinite(_number(v)) else UNLABELLED, UNLABELLED
    )
    ids = None
    if id_column is not None:
        ids = np.array(
            [row[id_column] if row else Path(n).stem for row, n in zip(matched, file_names, strict=True)]
        )
    return LabelTable(
        labels=labels,
        ids=ids,
        ra=column(ra_column, _number, np.nan),
        dec=column(dec_column, _number, np.nan),
        label_column=label_column,
    )

"""The table ``galview labels history`` prints: a header, then one aligned row per change.

::

    time (UTC)            index  change                    user  action  details
    2025-12-03T10:12:01Z  5      artifact (file) → LSBG    ana   set     p=0.912
    2025-12-03T10:12:09Z  5      LSBG → artifact (file)    ana   undo

Labels are named with the class names; where the user's label is "none" (a first change, an undo
back to the start, a label cleared) the file's label stands in for it, marked ``(file)``. The
``id`` column appears only when the collection has ids of its own (not just the index again).
Re-bindings of the store to another collection are listed among the changes (index ``-``).
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from galview.core.label_values import label_name

CLI_SET = "galview labels set"  # what galview labels set records: every shell label has it, so not shown


def history_lines(store, index: int | None, classes) -> list[str]:
    """The lines of the history table of ``store`` (one cutout's if ``index`` is given).

    Parameters
    ----------
    store : LabelStore
        Anything with ``history``, ``rebindings`` and ``original_labels``.
    index : int or None
        Only this cutout's changes (and no re-bindings).
    classes : sequence of str
        Class names by label value.

    Returns
    -------
    list of str
        The header and one line per change, oldest first; only the header if nothing changed.
    """
    original = store.original_labels()
    changes = store.history(index)
    rebindings = store.rebindings() if index is None else []
    with_ids = any(str(row["cutout_id"]) != str(row["idx"]) for row in changes)
    rows = [(row["at"], 0, _change_cells(row, original, classes, with_ids)) for row in changes]
    rows += [(row["at"], 1, _rebinding_cells(row, with_ids)) for row in rebindings]
    header = ["time (UTC)", "index", *(["id"] if with_ids else []), "change", "user", "action", "details"]
    return _aligned([header, *(cells for _, _, cells in sorted(rows, key=lambda r: r[:2]))])


def _change_cells(row: dict, original: np.ndarray, classes, with_ids: bool) -> list[str]:
    file_label = original[row["idx"]] if 0 <= row["idx"] < len(original) else np.nan
    old, new = (_named(row[key], file_label, classes) for key in ("old", "new"))
    details = "  ".join(
        f"{name}={row[key]:{fmt}}" if fmt else f"{name}={row[key]}"
        for name, key, fmt in (("model", "model_id", ""), ("p", "prob", ".3f"), ("s", "seconds", ".1f"))
        if row[key] is not None
    )
    if row.get("description") and row["description"] != CLI_SET:  # where a bulk change came from
        details = f"{details}  ({row['description']})" if details else f"({row['description']})"
    ids = [str(row["cutout_id"])] if with_ids else []
    return [_when(row["at"]), str(row["idx"]), *ids, f"{old} → {new}", row["user"], row["kind"], details]


def _rebinding_cells(row: dict, with_ids: bool) -> list[str]:
    change = f"{row['old_source']} ({row['old_fingerprint']}) → {row['source']} ({row['fingerprint']})"
    return [_when(row["at"]), "-", *(["-"] if with_ids else []), change, row["user"], "rebind", ""]


def _named(value, file_label: float, classes) -> str:
    """A history value by name; None (no label of the user's) is the file's label."""
    if value is None:
        return f"{label_name(file_label, classes)} (file)"
    return label_name(value, classes)


def _when(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _aligned(rows: list[list[str]]) -> list[str]:
    """Columns padded to their widest cell, two spaces apart; trailing blanks dropped."""
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    ]

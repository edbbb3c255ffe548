"""Which collection a label store belongs to: the fingerprint check on open, and re-binding.

A store made for a collection records :func:`galview.core.collection.fingerprint` of it (count,
cutout shape, pixel type, hash of a sample of cutouts) in its ``meta`` table under ``fingerprint``,
next to ``source`` (the collection's path). Opening the store for a collection compares the two:

- same fingerprint: nothing is written;
- the store has no fingerprint (made by GalView before fingerprints, or opened only with
  :meth:`~galview.io.label_store.LabelStore.open` and no collection): the fingerprint is added, one
  ``INSERT`` in one transaction, and the store opens as before;
- another fingerprint: refused with a one-line :class:`LabelStoreError` naming the store file and
  both collections (source and fingerprint); the refusal reads only, the file stays byte-identical;
- another fingerprint and ``force=True``: the store is re-bound to the new collection.

Re-binding, and why it is recorded in a table of its own
--------------------------------------------------------
A re-binding is not a label change: it has no cutout, no old and new label, and nothing to undo.
Writing it as a ``history`` row would need a new ``kind`` (the ``CHECK`` constraint of schema
version 1 forbids one, and SQLite cannot change a constraint without rebuilding the table) and a
fake cutout index that :meth:`~galview.io.label_store.LabelStore.changed_since` and the window's
reload would trip over. So one transaction

1. creates the table ``rebindings`` if the store has none (``CREATE TABLE IF NOT EXISTS``: an
   additive change, safe in place; GalView versions that do not know the table ignore it, so the
   schema version stays 1 and older GalViews still open the store);
2. appends a row: when, who, the old and new source and fingerprint, and ``after_action``, the
   newest action number at that moment;
3. drops the undone actions (like a new edit: nothing to redo across a re-binding), and
4. writes the new ``source`` and ``fingerprint`` into ``meta``.

Undo and redo never go back past ``after_action`` of the newest re-binding (:func:`undo_floor`):
the actions before it were made while looking at other cutouts. They stay done, so the labels
remain the replay of the done actions. The store keeps the cutout ids and file labels it was
created with. ``galview labels history`` prints the re-bindings among the label changes.
"""

from __future__ import annotations

import time
from pathlib import Path

from galview.core.errors import StoreOfAnotherCollection
from galview.io.label_schema import LabelStoreError

FINGERPRINT_KEY = "fingerprint"
REBINDING_COLUMNS = ("seq", "at", "user", "old_source", "old_fingerprint", "source", "fingerprint")
REBINDING_COLUMNS += ("after_action",)
_REBINDINGS = """
CREATE TABLE IF NOT EXISTS rebindings (seq INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL,
    user TEXT NOT NULL, old_source TEXT NOT NULL, old_fingerprint TEXT NOT NULL, source TEXT NOT NULL,
    fingerprint TEXT NOT NULL, after_action INTEGER NOT NULL)
"""


class StoreMismatchError(LabelStoreError, StoreOfAnotherCollection):
    """A label store opened for a collection other than the one it belongs to."""


def mismatch(path: Path, meta: dict, source: str, fingerprint: str) -> LabelStoreError:
    """The one-line refusal naming the store, the collection it belongs to and the one being opened."""
    recorded = meta.get("source") or "an unnamed collection"
    return StoreMismatchError(
        path,
        f"belongs to {recorded} ({meta.get(FINGERPRINT_KEY)}), not to {source or 'this collection'} "
        f"({fingerprint}): another collection of the same size; pass --force to re-bind the store "
        "to this collection, or another --store",
        recorded,
        meta.get(FINGERPRINT_KEY) or "",
        source,
        fingerprint,
    )


def check_binding(conn, path: Path, meta: dict, source: str, fingerprint, *, force: bool, user: str) -> dict:
    """Check (and if needed record) which collection the store at ``path`` belongs to.

    Parameters
    ----------
    conn : sqlite3.Connection
        Open on the store, autocommit, no transaction.
    path : Path
        The store, for messages.
    meta : dict
        The store's meta table as read by the schema checks.
    source, fingerprint : str
        The collection being opened; with ``fingerprint`` None nothing is checked.
    force : bool
        Re-bind a store that belongs to another collection instead of refusing it.
    user : str
        Recorded with a re-binding.

    Returns
    -------
    dict
        The meta table, as it is now.

    Raises
    ------
    LabelStoreError
        If the store belongs to another collection and ``force`` is false; nothing was written.
    """
    if fingerprint is None or meta.get(FINGERPRINT_KEY) == fingerprint:
        return meta
    if meta.get(FINGERPRINT_KEY) is not None and not force:
        raise mismatch(path, meta, source, fingerprint)  # decided on a read: the file is untouched
    conn.execute("BEGIN IMMEDIATE")
    try:
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())  # again, under the lock
        recorded = meta.get(FINGERPRINT_KEY)
        if recorded is not None and recorded != fingerprint:
            if not force:
                raise mismatch(path, meta, source, fingerprint)
            _rebind(conn, meta, source, fingerprint, user)
        elif recorded is None:
            conn.execute("INSERT INTO meta VALUES (?, ?)", (FINGERPRINT_KEY, fingerprint))
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return dict(conn.execute("SELECT key, value FROM meta").fetchall())


def _rebind(conn, meta: dict, source: str, fingerprint: str, user: str) -> None:
    """Steps 1-4 of the module docstring, inside the caller's transaction."""
    conn.execute(_REBINDINGS)
    newest = conn.execute("SELECT COALESCE(MAX(action), 0) FROM actions").fetchone()[0]
    conn.execute(
        "INSERT INTO rebindings (at, user, old_source, old_fingerprint, source, fingerprint, after_action) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (time.time(), user, meta.get("source", ""), meta[FINGERPRINT_KEY], source, fingerprint, newest),
    )
    conn.execute("UPDATE actions SET state = 'dropped' WHERE state = 'undone'")
    conn.executemany(
        "INSERT OR REPLACE INTO meta VALUES (?, ?)", [("source", source), (FINGERPRINT_KEY, fingerprint)]
    )


def _has_rebindings(conn) -> bool:
    query = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'rebindings'"
    return conn.execute(query).fetchone() is not None


def rebindings(conn) -> list[dict]:
    """Every re-binding, oldest first, as dicts keyed by :data:`REBINDING_COLUMNS` (empty if none)."""
    if not _has_rebindings(conn):
        return []
    rows = conn.execute(f"SELECT {', '.join(REBINDING_COLUMNS)} FROM rebindings ORDER BY seq").fetchall()
    return [dict(zip(REBINDING_COLUMNS, row, strict=True)) for row in rows]


def undo_floor(conn) -> int:
    """Undo and redo consider only actions numbered above this (the newest re-binding's
    ``after_action``; 0 if the store was never re-bound)."""
    if not _has_rebindings(conn):
        return 0
    return conn.execute("SELECT COALESCE(MAX(after_action), 0) FROM rebindings").fetchone()[0]

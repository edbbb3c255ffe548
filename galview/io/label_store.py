"""The crash-safe label store: one SQLite file per collection, current labels plus full history.

Every label change is one ``BEGIN IMMEDIATE`` … ``COMMIT`` transaction in WAL mode with
``synchronous=FULL``: when :meth:`LabelStore.set` returns, the change is on disk, and the
old value was read under the write lock, so two GalView instances on one store never lose
each other's updates. Original labels from the file live in their own table and are never
overwritten. Undo and redo go through the ``actions`` table, so they survive restarts; by
default they are global to the store (the last action, whichever instance made it), or limited
to one user's actions; either way the labels stay equal to the replay of the actions still done
(:mod:`galview.io.label_actions`).

Open a collection's store with :func:`open_label_store`; it records the collection's fingerprint
and refuses a store made for another collection of the same size unless told to re-bind it
(:mod:`galview.io.label_binding`). A store GalView cannot read (damaged, from a newer GalView,
made for another collection, locked) is refused with a :class:`LabelStoreError` naming the file;
it is never deleted or overwritten (the checks and the file format live in
:mod:`galview.io.label_schema`).
"""

from __future__ import annotations

import contextlib
import functools
import getpass
import sqlite3
import threading
import time
from pathlib import Path

import numpy as np

from galview.core.label_values import DEFAULT_CLASSES, label_value
from galview.io import label_actions
from galview.io.label_binding import check_binding
from galview.io.label_notes import LabelNotes
from galview.io.label_paths import STORES_ENV, default_store_path, fallback_store_path, store_path_for
from galview.io.label_queries import HISTORY_COLUMNS, LabelQueries, checked_indices
from galview.io.label_schema import (
    SCHEMA_VERSION,
    DamagedLabelStore,
    LabelStoreError,
    StoreDamaged,
    connect,
    store_error,
)
from galview.io.text import one_line

DEFAULT_TIMEOUT = 10.0  # seconds to wait for another instance's write lock
__all__ = [
    "HISTORY_COLUMNS",
    "DamagedLabelStore",
    "LabelStore",
    "LabelStoreError",
    "SCHEMA_VERSION",
    "STORES_ENV",
    "current_user",
    "default_store_path",
    "fallback_store_path",
    "has_label_store",
    "open_label_store",
    "store_path_for",
]


def current_user() -> str:
    """The login name recorded with label changes (``"unknown"`` where the system has none)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers) and no LOGNAME/USER
        return "unknown"


def open_label_store(collection, store_path=None, *, force=False, timeout=None) -> LabelStore:
    """Open (or create) the label store of a :class:`~galview.core.collection.Collection`.

    Parameters
    ----------
    collection : Collection
        The cutouts; its count, ids, file labels, source and
        :func:`~galview.core.collection.fingerprint` are used.
    store_path : str or Path, optional
        The store file. Default: :func:`store_path_for` the collection's source (beside the data,
        ``<file>.labels.sqlite`` or ``<folder>/galview-labels.sqlite``, when that folder is
        writable, else the user data directory).
    force : bool
        Re-bind a store made for another collection of the same size to this one (recorded in the
        store, see :mod:`galview.io.label_binding`) instead of refusing it.
    timeout : float, optional
        Seconds to wait for another program's lock (default :data:`DEFAULT_TIMEOUT`).

    Returns
    -------
    LabelStore

    Raises
    ------
    LabelStoreError
        As :meth:`LabelStore.open`, and if the store belongs to another collection (its source
        and fingerprint named) and ``force`` is false; nothing is written to the file then.
    """
    from galview.core.collection import fingerprint

    source = Path(collection.source)
    path = Path(store_path) if store_path is not None else store_path_for(source)
    return LabelStore.open(
        path,
        len(collection),
        ids=lambda: collection.ids if collection.has_ids else None,  # None: the index, made by SQLite
        original=lambda: collection.labels,
        source=str(source),
        timeout=timeout,
        fingerprint=fingerprint(collection),
        force=force,
    )


def has_label_store(collection, store_path=None) -> bool:
    """Whether the collection's store file (``store_path``, else the default) exists; creates nothing.

    Raises
    ------
    LabelStoreError
        If a store lies beside the data in a folder GalView cannot write to (as :func:`store_path_for`).
    """
    if store_path is not None:
        return Path(store_path).expanduser().exists()
    return store_path_for(collection.source, make_folders=False).exists()


class LabelStore(LabelQueries, LabelNotes):
    """Labels of one collection in an SQLite file; implements :class:`~galview.core.label_api.LabelStoreAPI`.

    Open with :func:`open_label_store` (for a collection) or :meth:`open` (a path and a count).

    Thread-safe (one lock per store); use one store object per process, or several:
    SQLite serialises the writers.
    """

    def __init__(self, path: Path, conn: sqlite3.Connection, n: int, meta: dict, timeout: float):
        self._path = path
        self._conn = conn
        self._n = n
        self._meta = meta
        self._timeout = timeout
        self._lock = threading.RLock()
        self._cache: dict = {}
        self._closed = False

    @classmethod
    def open(
        cls, path, n: int, ids=None, original=None, source="", *, timeout=None, fingerprint=None, force=False
    ):
        """Open the store at ``path``, creating it if there is none.

        Parameters
        ----------
        path : str or Path
            The SQLite file.
        n : int
            Number of cutouts in the collection; an existing store made for another
            number is refused.
        ids, original : array-like (N,) or zero-argument callable, optional
            Cutout ids (default: the index as text) and the file's labels (NaN where
            unknown). Used only when the store is created; a callable is called then.
        source : str
            Name of the collection, recorded in the store.
        timeout : float, optional
            Seconds to wait for another program's lock before giving up (default
            :data:`DEFAULT_TIMEOUT`, 10 s).
        fingerprint : str, optional
            The collection's fingerprint: recorded when the store is created or has none yet,
            compared otherwise. None (the default): no check, as for stores opened by path.
        force : bool
            With ``fingerprint``: re-bind a store recorded for another fingerprint.

        Raises
        ------
        LabelStoreError
            If the store is damaged, from a newer GalView, for another number of cutouts or
            (with ``fingerprint``, without ``force``) another collection, locked, or cannot be
            created. The file is left untouched.
        """
        path, n = Path(path).expanduser().absolute(), int(n)
        if n <= 0:
            raise ValueError(f"a label store needs at least one cutout, got n={n}")
        timeout = DEFAULT_TIMEOUT if timeout is None else float(timeout)
        check = functools.partial(
            _check_binding, path=path, source=str(source), fingerprint=fingerprint, force=force
        )
        conn, meta = connect(path, n, ids, original, source, timeout, fingerprint, check)
        return cls(path, conn, n, meta, timeout)

    @property
    def path(self) -> Path:
        """The SQLite file."""
        return self._path

    @property
    def n(self) -> int:
        """Number of cutouts."""
        return self._n

    @property
    def source(self) -> str:
        """Collection the store belongs to (created for, or last re-bound to)."""
        return self._meta.get("source", "")

    @property
    def fingerprint(self) -> str | None:
        """Fingerprint of that collection; None if the store was only ever opened by path."""
        return self._meta.get("fingerprint")

    # -- edits ----------------------------------------------------------------------------
    def set(self, indices, label, *, user=None, model_id=None, prob=None, seconds=None, description=""):
        """Set (or with ``label=None`` clear) the user label of one or more cutouts.

        Parameters
        ----------
        indices : int or sequence of int
            Cutout indices; all are changed in one transaction and one undoable action.
        label : int or None
            Class index or :data:`~galview.core.label_values.UNSURE`; None goes back to the original.
        user, model_id : str, optional
            Recorded in the history (user defaults to the login name).
        prob, seconds : float or sequence of float (one per index), optional
            Active model's probability and seconds spent on the decision, for the history.

        Returns
        -------
        int
            The action id, returned only once the change is committed to disk.
        """
        idx = checked_indices(indices, self._n)
        value = label_value(label)
        return self.set_many(
            [(i, value) for i in idx],
            user=user,
            model_id=model_id,
            prob=prob,
            seconds=seconds,
            description=description,
        )

    def set_many(
        self, changes, *, user=None, model_id=None, prob=None, seconds=None, description="", kind="set",
        unless_changed_since=None, written: list | None = None,
    ):  # fmt: skip
        """Set different labels on several cutouts as one action: ``changes`` is (index, label) pairs.

        ``kind`` is ``"set"`` or ``"import"``; ``unless_changed_since`` (a :meth:`last_seq`) leaves out,
        in the same transaction, the cutouts changed since then (an import read before a label was set
        does not overwrite it); ``written``, a list, receives the indices set, sorted, as the transaction
        commits (nothing to read back afterwards, when the window may have closed the store); other
        parameters as :meth:`set`. Returns the action, or None when every cutout was left out.
        """
        pairs = [(int(i), label_value(v)) for i, v in dict(changes).items()]
        if not pairs:
            raise ValueError("no cutouts to label")
        checked_indices([i for i, _ in pairs], self._n)
        probs, secs = _per_index(prob, len(pairs), "prob"), _per_index(seconds, len(pairs), "seconds")
        now, user = time.time(), user or current_user()
        with self._transaction() as conn:
            if unless_changed_since is not None:
                newer = set(self.changed_since(unless_changed_since).tolist())  # in this transaction
                kept = [k for k, (i, _) in enumerate(pairs) if i not in newer]
                pairs, probs, secs = (
                    [pairs[k] for k in kept],
                    [probs[k] for k in kept],
                    [secs[k] for k in kept],
                )
                if not pairs:
                    return None
            old = label_actions.stored(conn, [i for i, _ in pairs])
            conn.execute("UPDATE actions SET state = 'dropped' WHERE state = 'undone'")
            action = conn.execute(
                "INSERT INTO actions (state, at, description) VALUES ('done', ?, ?)", (now, description)
            ).lastrowid
            rows = [
                (action, i, old[i][0], old[i][1], v, now, user, model_id, p, s, kind)
                for (i, v), p, s in zip(pairs, probs, secs, strict=True)
            ]
            label_actions.write(conn, rows)
        if written is not None:
            written.extend(sorted(i for i, _ in pairs))
        return action

    def undo(self, user: str | None = None) -> list[int] | None:
        """Undo the store's last done action, or with ``user`` that user's last one.

        Labels stay the replay of the actions still done: undoing an older action of ``user``
        leaves alone the cutouts a newer done action set (see :mod:`galview.io.label_actions`).

        Parameters
        ----------
        user : str, optional
            Only this user's actions (as recorded by :meth:`set`); default any user's.

        Returns
        -------
        list of int or None
            Indices set back, last changed first (empty if newer actions decide them all), or
            None if there is nothing to undo.
        """
        return self._step(undo=True, user=user)

    def redo(self, user: str | None = None) -> list[int] | None:
        """Redo the oldest undone action (of ``user`` when given; none after a new edit or a
        re-binding); indices changed, or None. Cutouts a newer done action set keep their label."""
        return self._step(undo=False, user=user)

    def next_step_at(self, undo: bool, user: str | None = None) -> float | None:
        """When the action that :meth:`undo` (or :meth:`redo`) would take next was made, as Unix time;
        None if there is none. Lets a caller order the labels' undo with its own (notes)."""
        with self._reading() as conn:
            action = label_actions.pick(conn, undo, user)
            if action is None:
                return None
            return conn.execute("SELECT at FROM actions WHERE action = ?", (action,)).fetchone()[0]

    def _step(self, undo: bool, user: str | None) -> list[int] | None:
        now, by = time.time(), user or current_user()
        with self._transaction() as conn:
            return label_actions.step(conn, undo=undo, user=user, by=by, now=now)

    # -- files ----------------------------------------------------------------------------
    def import_csv(self, path, classes=DEFAULT_CLASSES) -> list[int]:
        """Import labels from CSV as one undoable action; see :func:`galview.io.label_export.import_csv`."""
        from galview.io.label_export import import_csv

        return import_csv(self, path, classes)

    def export(self, path, keep=None) -> Path:
        """Write labels to .csv, .fits or .h5 (only the cutouts ``keep`` (N,) bool marks, if given);
        see :func:`galview.io.label_export.export_labels`."""
        from galview.io.label_export import export_labels

        return export_labels(self, path, keep)

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called (a job using the store then fails at its next read or write)."""
        return self._closed

    def close(self) -> None:
        """Close the database; committed labels are already on disk."""
        with self._lock:
            self._closed = True
            self._conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self) -> str:
        return f"<LabelStore {self._n} cutouts at {self._path}>"

    @contextlib.contextmanager
    def held_if_free(self):
        """Yield True, holding the store for this thread, when no other thread is using it; else yield
        False at once. For a poll that can wait for its next round instead of keeping the window waiting
        while a job reads a million rows (an export held the window's poll up to 1.2 s)."""
        held = self._lock.acquire(blocking=False)
        try:
            yield held
        finally:
            if held:
                self._lock.release()

    # -- plumbing -------------------------------------------------------------------------
    @contextlib.contextmanager
    def _reading(self):
        with self._lock:
            if self._closed:
                raise ValueError(f"the label store {self._path} is closed")
            try:
                yield self._conn
            except sqlite3.Error as exc:
                raise store_error(self._path, exc, self._timeout) from exc
            except StoreDamaged as exc:
                raise DamagedLabelStore(
                    self._path, f"is damaged ({one_line(exc, 300)}); it was left untouched"
                ) from exc
            except UnicodeDecodeError as exc:
                # SQLite's own message quoted damaged schema text, which Python cannot decode
                raise DamagedLabelStore(
                    self._path, "is damaged (SQLite reports damaged text in it); it was left untouched"
                ) from exc

    @contextlib.contextmanager
    def _transaction(self):
        """``BEGIN IMMEDIATE`` … ``COMMIT``; rolled back on any error; errors name the file."""
        with self._reading() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise


def _check_binding(conn, meta, *, path, source, fingerprint, force):
    return check_binding(conn, path, meta, source, fingerprint, force=force, user=current_user())


def _per_index(value, count: int, name: str) -> list:
    if value is None or np.ndim(value) == 0:
        return [None if value is None else float(value)] * count
    values = [None if v is None or v != v else float(v) for v in value]  # None/NaN: not known
    if len(values) != count:
        raise ValueError(f"{name} has {len(values)} values for {count} cutouts")
    return values

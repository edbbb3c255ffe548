"""The crash-safe label store: one SQLite file per collection, current labels plus full history.

Every label change is one ``BEGIN IMMEDIATE`` … ``COMMIT`` transaction in WAL mode with
``synchronous=FULL``: when :meth:`LabelStore.set` returns, the change is on disk, and the
old value was read under the write lock, so two GalView instances on one store never lose
each other's updates. Original labels from the file live in their own table and are never
overwritten. Undo and redo go through the ``actions`` table, so they survive restarts; they
are global to the store (the last action, whichever instance made it), which keeps the
labels equal to the replay of the actions still done.

A store GalView cannot read (damaged, from a newer GalView, made for another collection,
locked) is refused with a :class:`LabelStoreError` naming the file; it is never deleted or
overwritten (the checks and the file format live in :mod:`galview.io.label_schema`).
"""

from __future__ import annotations

import contextlib
import getpass
import sqlite3
import threading
import time
from pathlib import Path

import numpy as np

from galview.core.label_values import DEFAULT_CLASSES, label_value, origin
from galview.io.label_paths import STORES_ENV, default_store_path, fallback_store_path, store_path_for
from galview.io.label_schema import SCHEMA_VERSION, LabelStoreError, connect, sqlite_problem

DEFAULT_TIMEOUT = 10.0  # seconds to wait for another instance's write lock
_CHUNK = 500  # indices per "IN (...)" query
HISTORY_COLUMNS = ("seq", "action", "idx", "cutout_id", "old", "new", "at", "user", "model_id", "prob")
HISTORY_COLUMNS += ("seconds", "kind")
__all__ = [
    "LabelStore",
    "LabelStoreError",
    "SCHEMA_VERSION",
    "STORES_ENV",
    "default_store_path",
    "fallback_store_path",
    "store_path_for",
]


def _current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers) and no LOGNAME/USER
        return "unknown"


class LabelStore:
    """Labels of one collection in an SQLite file. Open with :meth:`open` or :meth:`for_collection`.

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
    def open(cls, path, n: int, ids=None, original=None, source="", *, timeout=None):
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

        Raises
        ------
        LabelStoreError
            If the store is damaged, from a newer GalView, for another number of cutouts,
            locked, or cannot be created. The file is left untouched.
        """
        path, n = Path(path).expanduser().absolute(), int(n)
        if n <= 0:
            raise ValueError(f"a label store needs at least one cutout, got n={n}")
        timeout = DEFAULT_TIMEOUT if timeout is None else float(timeout)
        conn, meta = connect(path, n, ids, original, source, timeout)
        return cls(path, conn, n, meta, timeout)

    @classmethod
    def for_collection(cls, collection, store_path=None, *, timeout=None):
        """Open (or create) the store of a :class:`~galview.core.collection.Collection`.

        Without ``store_path`` the store lies beside the data (``<file>.labels.sqlite``, or
        ``<folder>/galview-labels.sqlite``) when that folder is writable, otherwise in the
        user data directory under ``labels/<stem>-<hash>.sqlite``.
        """
        source = Path(collection.source)
        path = Path(store_path) if store_path is not None else store_path_for(source)
        return cls.open(
            path,
            len(collection),
            ids=lambda: collection.ids,
            original=lambda: collection.labels,
            source=str(source),
            timeout=timeout,
        )

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
        """Collection the store was created for."""
        return self._meta.get("source", "")

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
        idx = _indices(indices, self._n)
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
        self, changes, *, user=None, model_id=None, prob=None, seconds=None, description="", kind="set"
    ):
        """Set different labels on several cutouts as one action: ``changes`` is (index, label) pairs.

        ``kind`` is ``"set"`` or ``"import"``; other parameters as :meth:`set`.
        """
        pairs = [(int(i), label_value(v)) for i, v in dict(changes).items()]
        if not pairs:
            raise ValueError("no cutouts to label")
        _indices([i for i, _ in pairs], self._n)
        probs, secs = _per_index(prob, len(pairs), "prob"), _per_index(seconds, len(pairs), "seconds")
        now, user = time.time(), user or _current_user()
        with self._transaction() as conn:
            old = self._stored(conn, [i for i, _ in pairs])
            conn.execute("UPDATE actions SET state = 'dropped' WHERE state = 'undone'")
            action = conn.execute(
                "INSERT INTO actions (state, at, description) VALUES ('done', ?, ?)", (now, description)
            ).lastrowid
            rows = [
                (action, i, old[i][0], old[i][1], v, now, user, model_id, p, s, kind)
                for (i, v), p, s in zip(pairs, probs, secs, strict=True)
            ]
            self._write(conn, rows)
        return action

    def undo(self) -> list[int] | None:
        """Undo the store's last done action; returns the indices it changed, or None if none."""
        return self._step(undo=True)

    def redo(self) -> list[int] | None:
        """Redo the last undone action (none after a new edit); indices changed, or None."""
        return self._step(undo=False)

    def _step(self, undo: bool) -> list[int] | None:
        now, user = time.time(), _current_user()
        state, pick = ("done", "MAX") if undo else ("undone", "MIN")
        with self._transaction() as conn:
            query = f"SELECT {pick}(action) FROM actions WHERE state = ?"
            action = conn.execute(query, (state,)).fetchone()[0]
            if action is None:
                return None
            done = conn.execute(
                "SELECT idx, old, new FROM history WHERE action = ? AND kind IN ('set', 'import') "
                "ORDER BY seq",
                (action,),
            ).fetchall()
            targets = [(i, old) for i, old, _ in reversed(done)] if undo else [(i, new) for i, _, new in done]
            current = self._stored(conn, [i for i, _ in targets])
            kind = "undo" if undo else "redo"
            rows = [(action, i, *current[i], v, now, user, None, None, None, kind) for i, v in targets]
            self._write(conn, rows)
            new_state = "undone" if undo else "done"
            conn.execute("UPDATE actions SET state = ? WHERE action = ?", (new_state, action))
        return [i for i, _ in targets]

    @staticmethod
    def _stored(conn, indices) -> dict[int, tuple[str, int | None]]:
        """idx -> (cutout_id, user label) read inside the current transaction."""
        found = {}
        for start in range(0, len(indices), _CHUNK):
            chunk = indices[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            query = f"SELECT idx, cutout_id, label FROM labels WHERE idx IN ({marks})"
            found.update((i, (cid, label)) for i, cid, label in conn.execute(query, chunk))
        return found

    @staticmethod
    def _write(conn, rows) -> None:
        """Apply history rows (action, idx, id, old, new, at, …) to labels and append them."""
        conn.executemany(
            "UPDATE labels SET label = ?, changed_at = ? WHERE idx = ?",
            [(r[4], None if r[4] is None else r[5], r[1]) for r in rows],
        )
        conn.executemany(
            "INSERT INTO history (action, idx, cutout_id, old, new, at, user, model_id, prob, seconds, "
            "kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )

    # -- queries --------------------------------------------------------------------------
    def ids(self) -> np.ndarray:
        """Cutout ids as text, shape (N,)."""
        if "ids" not in self._cache:
            with self._reading() as conn:
                rows = conn.execute("SELECT cutout_id FROM labels ORDER BY idx").fetchall()
            self._cache["ids"] = np.array([r[0] for r in rows], dtype=str)
        return self._cache["ids"]

    def current(self) -> np.ndarray:
        """User labels, float64 shape (N,), NaN where the user has set none."""
        with self._reading() as conn:
            rows = conn.execute("SELECT idx, label FROM labels WHERE label IS NOT NULL").fetchall()
        return _scatter(rows, self._n)

    def original_labels(self) -> np.ndarray:
        """Labels from the file, float64 shape (N,), NaN where the file had none."""
        if "original" not in self._cache:
            with self._reading() as conn:
                rows = conn.execute("SELECT idx, label FROM original WHERE label IS NOT NULL").fetchall()
            self._cache["original"] = _scatter(rows, self._n)
        return self._cache["original"].copy()

    def effective(self, original=None) -> np.ndarray:
        """The label to use, float64 (N,): the user's where set, else ``original`` (default: the
        file's labels kept in the store), NaN if neither."""
        base = self.original_labels() if original is None else np.asarray(original, dtype=np.float64)
        if base.shape != (self._n,):
            raise ValueError(f"original has shape {base.shape}; expected ({self._n},)")
        user = self.current()
        return np.where(np.isnan(user), base, user)

    def get(self, index: int) -> dict:
        """One cutout: ``index``, ``id``, ``label`` (effective), ``user_label``, ``original``,
        ``origin`` ('original' | 'mine' | 'changed') and ``changed_at`` (Unix time or None)."""
        index = _indices(index, self._n)[0]
        with self._reading() as conn:
            cid, user, at, orig = conn.execute(
                "SELECT l.cutout_id, l.label, l.changed_at, o.label FROM labels l "
                "LEFT JOIN original o ON o.idx = l.idx WHERE l.idx = ?",
                (index,),
            ).fetchone()
        label = orig if user is None else user
        return {
            "index": index,
            "id": cid,
            "label": label,
            "user_label": user,
            "original": orig,
            "origin": origin(orig, user),
            "changed_at": at,
        }

    def history(self, index=None) -> list[dict]:
        """History rows in commit order as dicts keyed by :data:`HISTORY_COLUMNS`; one cutout's
        if ``index`` is given. ``old``/``new`` are None for "no user label"."""
        query, args = f"SELECT {', '.join(HISTORY_COLUMNS)} FROM history", ()
        if index is not None:
            query, args = query + " WHERE idx = ?", (_indices(index, self._n)[0],)
        with self._reading() as conn:
            rows = conn.execute(query + " ORDER BY seq", args).fetchall()
        return [dict(zip(HISTORY_COLUMNS, row, strict=True)) for row in rows]

    def counts(self) -> dict:
        """Cutouts per effective label value (int keys); key None counts unlabelled cutouts."""
        values = self.effective()
        missing = int(np.isnan(values).sum())
        found, number = np.unique(values[~np.isnan(values)], return_counts=True)
        counts = {int(v): int(c) for v, c in zip(found, number, strict=True)}
        return counts | ({None: missing} if missing else {})

    def last_seq(self) -> int:
        """Sequence number of the newest history row (0 if none): poll it to see others' changes."""
        with self._reading() as conn:
            return conn.execute("SELECT COALESCE(MAX(seq), 0) FROM history").fetchone()[0]

    def changed_since(self, seq: int) -> np.ndarray:
        """Sorted unique indices changed by history rows after ``seq`` (from :meth:`last_seq`)."""
        with self._reading() as conn:
            rows = conn.execute("SELECT DISTINCT idx FROM history WHERE seq > ?", (int(seq),)).fetchall()
        return np.sort(np.array([r[0] for r in rows], dtype=np.int64))

    def integrity(self) -> str:
        """SQLite's full ``PRAGMA integrity_check``: ``"ok"`` or the problems found."""
        with self._reading() as conn:
            return "; ".join(r[0] for r in conn.execute("PRAGMA integrity_check").fetchall())

    # -- files ----------------------------------------------------------------------------
    def import_csv(self, path, classes=DEFAULT_CLASSES) -> list[int]:
        """Import labels from CSV as one undoable action; see :func:`galview.io.label_export.import_csv`."""
        from galview.io.label_export import import_csv

        return import_csv(self, path, classes)

    def export(self, path) -> Path:
        """Write labels to .csv, .fits or .h5; see :func:`galview.io.label_export.export_labels`."""
        from galview.io.label_export import export_labels

        return export_labels(self, path)

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

    # -- plumbing -------------------------------------------------------------------------
    @contextlib.contextmanager
    def _reading(self):
        with self._lock:
            if self._closed:
                raise ValueError(f"the label store {self._path} is closed")
            try:
                yield self._conn
            except sqlite3.Error as exc:
                raise LabelStoreError(self._path, sqlite_problem(exc, self._timeout)) from exc

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


def _indices(indices, n: int) -> list[int]:
    """Unique in-range indices as Python ints, in first-seen order."""
    values = np.atleast_1d(np.asarray(indices))
    if values.ndim != 1 or (values.size and values.dtype.kind not in "iu"):
        raise TypeError(f"cutout indices must be integers, got {indices!r}")
    out = list(dict.fromkeys(int(i) for i in values))
    bad = [i for i in out if not 0 <= i < n]
    if bad:
        raise IndexError(f"cutout index {bad[0]} out of range for a store of {n} cutouts")
    return out


def _per_index(value, count: int, name: str) -> list:
    if value is None or np.ndim(value) == 0:
        return [None if value is None else float(value)] * count
    values = [float(v) for v in value]
    if len(values) != count:
        raise ValueError(f"{name} has {len(values)} values for {count} cutouts")
    return values


def _scatter(rows, n: int) -> np.ndarray:
    out = np.full(n, np.nan)
    if rows:
        pairs = np.asarray(rows, dtype=np.float64)
        out[pairs[:, 0].astype(np.int64)] = pairs[:, 1]
    return out


def has_label_store(collection, store_path=None) -> bool:
    """Whether the collection has a label store (nothing is created)."""
    path = Path(store_path) if store_path is not None else store_path_for(collection.source)
    return path.exists()


def open_label_store(collection, store_path=None, *, force=False, timeout=None) -> LabelStore:
    """Open (or create) the label store of ``collection``."""
    return LabelStore.for_collection(collection, store_path, timeout=timeout)

"""The read-only queries of a label store, as a mixin of :class:`~galview.io.label_store.LabelStore`.

Split from :mod:`galview.io.label_store` to keep modules small. The mixin uses the store's
``_reading()`` context (the lock and error translation), ``_n`` and ``_cache``.
"""

from __future__ import annotations

import json

import numpy as np

from galview.core.label_values import origin
from galview.io.label_binding import rebindings
from galview.io.label_schema import DamagedText, StoreDamaged
from galview.io.text import valid_text

HISTORY_COLUMNS = ("seq", "action", "idx", "cutout_id", "old", "new", "at", "user", "model_id", "prob")
HISTORY_COLUMNS += ("seconds", "kind")
#: The history rows (``h``, joined to its ``actions`` as ``a``) that are a person's own say on a cutout: set
#: or imported in an action still done. :meth:`LabelQueries.labels_by_user` and ``labels_of_user`` replay them.
OWN_SAY = "a.state = 'done' AND h.kind IN ('set', 'import')"


class LabelQueries:
    """Reads: ids, current/original/effective labels, one cutout, history, polling."""

    def ids(self) -> np.ndarray:
        """Cutout ids as text, shape (N,)."""
        if "ids" not in self._cache:
            with self._reading() as conn:
                rows = conn.execute("SELECT idx, cutout_id FROM labels ORDER BY idx").fetchall()
                self._cache["ids"] = _ids(rows, self._n)
        return self._cache["ids"]

    def current(self) -> np.ndarray:
        """User labels, float64 shape (N,), NaN where the user has set none."""
        with self._reading() as conn:
            rows = conn.execute("SELECT idx, label FROM labels WHERE label IS NOT NULL").fetchall()
            return _scatter(rows, self._n, "labels")

    def original_labels(self) -> np.ndarray:
        """Labels from the file, float64 shape (N,), NaN where the file had none."""
        if "original" not in self._cache:
            with self._reading() as conn:
                rows = conn.execute("SELECT idx, label FROM original WHERE label IS NOT NULL").fetchall()
                self._cache["original"] = _scatter(rows, self._n, "original")
        return self._cache["original"].copy()

    def effective(self, original=None, user=None) -> np.ndarray:
        """The label to use, float64 (N,): the user's where set, else ``original`` (default: the
        file's labels kept in the store), NaN if neither. ``user``: :meth:`current` where the caller
        has just read it (a million cutouts' labels take 0.12 s to read)."""
        base = self.original_labels() if original is None else np.asarray(original, dtype=np.float64)
        if base.shape != (self._n,):
            raise ValueError(f"original has shape {base.shape}; expected ({self._n},)")
        user = self.current() if user is None else np.asarray(user, dtype=np.float64)
        return np.where(np.isnan(user), base, user)

    def get(self, index: int) -> dict:
        """One cutout: ``index``, ``id``, ``label`` (effective), ``user_label``, ``original``,
        ``origin`` ('original' | 'mine' | 'changed') and ``changed_at`` (Unix time or None)."""
        index = checked_indices(index, self._n)[0]
        with self._reading() as conn:
            row = conn.execute(
                "SELECT l.cutout_id, l.label, l.changed_at, o.label FROM labels l "
                "LEFT JOIN original o ON o.idx = l.idx WHERE l.idx = ?",
                (index,),
            ).fetchone()
            if row is None:
                raise StoreDamaged(f"its labels table has no row for cutout {index}")
            cid, user, at, orig = row
            if not isinstance(cid, str) or not isinstance(orig, int | float | None):
                raise StoreDamaged(f"its row for cutout {index} holds {cid!r} and {orig!r}")
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
        """History rows in commit order as dicts keyed by :data:`HISTORY_COLUMNS`, plus the
        ``description`` of the action each belongs to ("" when it has none: where a bulk label came
        from, say); one cutout's if ``index`` is given. ``old``/``new`` are None for "no user label"."""
        columns = ", ".join(f"h.{name}" for name in HISTORY_COLUMNS)
        query = f"SELECT {columns}, a.description FROM history h LEFT JOIN actions a ON a.action = h.action"
        args = ()
        if index is not None:
            query, args = query + " WHERE h.idx = ?", (checked_indices(index, self._n)[0],)
        with self._reading() as conn:
            rows = conn.execute(query + " ORDER BY h.seq", args).fetchall()
            return [_history_row(row, self._n) for row in rows]

    def labelled_ids(self) -> tuple[np.ndarray, np.ndarray]:
        """(indices, ids) of the cutouts with a user label, as the store recorded them: what another
        collection's ids are checked against without reading every id."""
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT idx, cutout_id FROM labels WHERE label IS NOT NULL ORDER BY idx"
            ).fetchall()
        indices = np.array([row[0] for row in rows], dtype=np.int64)
        return indices, np.array([str(row[1]) for row in rows], dtype=str)

    def labels_by_user(self) -> dict[str, np.ndarray]:
        """Each person's own labels in a store several people label: user → (N,) float64.

        A user's label of a cutout is the ``new`` label of the newest *done* action of theirs that set it
        (undone actions do not count; a cleared label is none), whatever others set since: the replay
        of that user's actions alone (:mod:`galview.io.label_actions`). NaN where they set none.
        """
        query = (
            "SELECT h.idx, h.new, h.user FROM history h JOIN actions a ON a.action = h.action "
            f"WHERE {OWN_SAY} ORDER BY h.action, h.seq"
        )
        found: dict[str, np.ndarray] = {}
        with self._reading() as conn:
            for idx, new, user in conn.execute(query):
                values = found.get(user)
                if values is None:  # a new array per user, not per row (setdefault would make one each row)
                    values = found[user] = np.full(self._n, np.nan)
                if 0 <= int(idx) < self._n:
                    values[int(idx)] = np.nan if new is None else float(new)
        return {str(user): values for user, values in found.items()}

    def labels_of_user(self, user: str, indices=None) -> np.ndarray:
        """One person's own labels (as :meth:`labels_by_user` replays them) of cutouts ``indices`` (all
        when None), float64 in their order, NaN where they set none. Reads only those cutouts' history
        (its index on ``idx``): a few relabelled cutouts of a million take milliseconds."""
        # CROSS JOIN keeps history the outer table, so that SQLite looks up the cutouts by their index
        # instead of walking every done action (60 ms for one cutout among 400,000 labels, against 0.1)
        query = (
            "SELECT h.idx, h.new FROM history h CROSS JOIN actions a ON a.action = h.action "
            f"WHERE {OWN_SAY} AND h.user = ?"
        )
        parameters: tuple = (str(user),)
        if indices is not None:
            indices = np.asarray(indices, dtype=np.int64).reshape(-1)
            query += " AND h.idx IN (SELECT value FROM json_each(?))"
            parameters += (json.dumps(np.unique(indices).tolist()),)
        values = np.full(self._n, np.nan)
        with self._reading() as conn:
            for idx, new in conn.execute(query + " ORDER BY h.action, h.seq", parameters):
                if 0 <= int(idx) < self._n:
                    values[int(idx)] = np.nan if new is None else float(new)
        return values if indices is None else values[indices]

    def labelling_users(self) -> list[str]:
        """Who set or imported labels in this store (history users, sorted), read in one query."""
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT DISTINCT user FROM history WHERE kind IN ('set', 'import')"
            ).fetchall()
        return sorted(str(row[0]) for row in rows)

    def rebindings(self) -> list[dict]:
        """Re-bindings to another collection, oldest first: dicts with ``at``, ``user``,
        ``old_source``, ``old_fingerprint``, ``source``, ``fingerprint`` and ``after_action``."""
        with self._reading() as conn:
            return rebindings(conn)

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

    def action_indices(self, action: int) -> list[int]:
        """The cutouts action ``action`` (from :meth:`set_many`) changed, sorted."""
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT DISTINCT idx FROM history WHERE action = ?", (int(action),)
            ).fetchall()
        return sorted(int(row[0]) for row in rows)

    def changed_since(self, seq: int) -> np.ndarray:
        """Sorted unique indices changed by history rows after ``seq`` (from :meth:`last_seq`)."""
        with self._reading() as conn:
            rows = conn.execute("SELECT DISTINCT idx FROM history WHERE seq > ?", (int(seq),)).fetchall()
        return np.sort(np.array([r[0] for r in rows], dtype=np.int64))

    def integrity(self) -> str:
        """SQLite's full ``PRAGMA integrity_check``: ``"ok"`` or the problems found."""
        with self._reading() as conn:
            return "; ".join(r[0] for r in conn.execute("PRAGMA integrity_check").fetchall())


def checked_indices(indices, n: int) -> list[int]:
    """Unique in-range indices as Python ints, in first-seen order."""
    values = np.atleast_1d(np.asarray(indices))
    if values.ndim != 1 or (values.size and values.dtype.kind not in "iu"):
        raise TypeError(f"cutout indices must be integers, got {indices!r}")
    out = list(dict.fromkeys(int(i) for i in values))
    bad = [i for i in out if not 0 <= i < n]
    if bad:
        raise IndexError(f"cutout index {bad[0]} out of range for a store of {n} cutouts")
    return out


def _scatter(rows, n: int, table: str) -> np.ndarray:
    """(idx, label) rows as a float64 (n,) array, NaN where no row; StoreDamaged for text labels or
    indices out of range."""
    out = np.full(n, np.nan)
    if rows:
        try:
            pairs = np.asarray(rows, dtype=np.float64)
        except (TypeError, ValueError):
            bad = next(r for r in rows if not all(isinstance(v, int | float) for v in r))
            raise StoreDamaged(f"its {table} table holds the label {bad[1]!r} at index {bad[0]!r}") from None
        idx = pairs[:, 0]
        if (idx < 0).any() or (idx >= n).any() or (idx != np.round(idx)).any():
            bad = idx[(idx < 0) | (idx >= n) | (idx != np.round(idx))][0]
            raise StoreDamaged(f"its {table} table has the index {bad:g}; expected 0 to {n - 1}")
        out[idx.astype(np.int64)] = pairs[:, 1]
    return out


def _ids(rows, n: int) -> np.ndarray:
    """The ``(idx, cutout_id)`` rows of all cutouts, in order, as a text array (n,)."""
    if len(rows) != n:
        raise StoreDamaged(f"its labels table has {len(rows)} rows for {n} cutouts")
    for idx, cid in rows:
        if not isinstance(cid, str):
            raise StoreDamaged(f"its labels table holds an id stored as {type(cid).__name__} at index {idx}")
        if isinstance(cid, DamagedText):
            raise StoreDamaged(f"its labels table holds an id that is not valid text at index {idx}")
    return np.array([cid for _, cid in rows], dtype=str)


def _history_row(row, n: int) -> dict:
    """One history row as a dict; StoreDamaged if its cutout or labels are not what GalView writes."""
    entry = dict(zip((*HISTORY_COLUMNS, "description"), row, strict=True))
    entry["description"] = entry["description"] if isinstance(entry["description"], str) else ""
    labels_ok = all(entry[key] is None or isinstance(entry[key], int) for key in ("old", "new"))
    if not isinstance(entry["idx"], int) or not 0 <= entry["idx"] < n or not labels_ok:
        raise StoreDamaged(
            f"its history row {entry['seq']} holds cutout {entry['idx']!r} with labels "
            f"{entry['old']!r} → {entry['new']!r}"
        )
    if not isinstance(entry["cutout_id"], str):
        entry["cutout_id"] = valid_text(entry["cutout_id"])
    return entry

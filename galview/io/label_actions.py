"""Label actions inside a store's transaction: applying history rows, and undo/redo by replay.

Every change of user labels is one *action* (table ``actions``, state ``done``, ``undone`` or
``dropped``) made of one ``history`` row per cutout (kind ``set`` or ``import``, with the user who
made it). The invariant kept by :func:`step`:

    the user labels equal the replay of the done actions in action order: each cutout holds the
    ``new`` label of the newest done action that touched it, or none if no done action did.

Store-wide undo takes the newest done action and redo the oldest undone one, as before users could
be told apart. Undo for one user takes that user's newest done action, which may be older than
another user's action on the same cutouts. Undoing it then follows the replay:

- a cutout that a *newer done action* (anyone's) also set keeps its current label: the newer action
  decides it, and undoing mine must not wipe out what a colleague set later;
- every other cutout goes back to the label of the newest done action *older* than mine that set
  it, or to none (not to the ``old`` value recorded with my action, which may have been undone
  since).

Redo is the mirror image: cutouts a newer done action set keep their label, the others get the
action's label. Either way the action's state flips, the changed cutouts get ``undo``/``redo``
history rows and are returned, and the kept ones are left out (no row, not returned), so undoing
an action whose every cutout was relabelled later returns an empty list. A new edit drops every
undone action (store-wide), so redo never re-applies an action across a newer edit. Undo and redo
never reach back past a re-binding (:func:`galview.io.label_binding.undo_floor`).
"""

from __future__ import annotations

from galview.io.label_binding import undo_floor
from galview.io.label_schema import DamagedText, StoreDamaged

CHUNK = 500  # indices per "IN (...)" query
_EDITS = "('set', 'import')"  # history kinds that belong to the action that made them


def stored(conn, indices) -> dict[int, tuple[str, int | None]]:
    """idx -> (cutout_id, user label), read inside the current transaction.

    Raises
    ------
    StoreDamaged
        If a cutout has no row (a row deleted by hand) or an id that is not text.
    """
    found = {}
    for start in range(0, len(indices), CHUNK):
        chunk = indices[start : start + CHUNK]
        marks = ",".join("?" * len(chunk))
        query = f"SELECT idx, cutout_id, label FROM labels WHERE idx IN ({marks})"
        found.update((i, (cid, label)) for i, cid, label in conn.execute(query, chunk))
    missing = [i for i in indices if i not in found]
    if missing:
        raise StoreDamaged(f"its labels table has no row for cutout {missing[0]}")
    blobs = [i for i, (cid, _) in found.items() if not isinstance(cid, str) or isinstance(cid, DamagedText)]
    if blobs:
        raise StoreDamaged(f"its labels table holds an id that is not text at index {blobs[0]}")
    return found


def write(conn, rows) -> None:
    """Apply history rows ``(action, idx, cutout_id, old, new, at, user, model_id, prob, seconds,
    kind)`` to the labels table and append them to the history."""
    conn.executemany(
        "UPDATE labels SET label = ?, changed_at = ? WHERE idx = ?",
        [(r[4], None if r[4] is None else r[5], r[1]) for r in rows],
    )
    conn.executemany(
        "INSERT INTO history (action, idx, cutout_id, old, new, at, user, model_id, prob, seconds, "
        "kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


def pick(conn, undo: bool, user: str | None) -> int | None:
    """The action to undo (newest done) or redo (oldest undone), of ``user`` when given."""
    state, order = ("done", "DESC") if undo else ("undone", "ASC")
    query, args = (
        "SELECT a.action FROM actions a WHERE a.state = ? AND a.action > ?",
        [state, undo_floor(conn)],
    )
    if user is not None:
        query += (
            " AND EXISTS (SELECT 1 FROM history h WHERE h.action = a.action"
            f" AND h.kind IN {_EDITS} AND h.user = ?)"
        )
        args.append(user)
    row = conn.execute(f"{query} ORDER BY a.action {order} LIMIT 1", args).fetchone()
    return None if row is None else row[0]


def _newest_other(conn, action: int) -> dict[int, tuple[int, int | None]]:
    """idx -> (action, new) of the newest done action other than ``action`` that set each of its
    cutouts. CROSS JOIN fixes SQLite's join order: from the action's own rows, by cutout index, so
    the cost follows the size of the action, not of the history."""
    query = (
        "SELECT h.idx, h.action, h.new FROM history m CROSS JOIN history h ON h.idx = m.idx "
        "CROSS JOIN actions a ON a.action = h.action "
        f"WHERE m.action = ?1 AND m.kind IN {_EDITS} AND h.kind IN {_EDITS} AND h.action != ?1 "
        "AND a.state = 'done'"
    )
    found: dict[int, tuple[int, int | None]] = {}
    for i, other, new in conn.execute(query, (action,)):
        if other > found.get(i, (0, None))[0]:
            found[i] = (other, new)
    return found


def step(conn, *, undo: bool, user: str | None, by: str, now: float) -> list[int] | None:
    """Undo or redo one action inside the caller's transaction, keeping the replay invariant.

    Parameters
    ----------
    conn : sqlite3.Connection
        In a ``BEGIN IMMEDIATE`` transaction on the store.
    undo : bool
        Undo (True) or redo (False).
    user : str or None
        Only that user's actions; None: any user's (store-wide).
    by : str
        User recorded on the ``undo``/``redo`` history rows.
    now : float
        Unix time recorded on them.

    Returns
    -------
    list of int or None
        Indices whose label was set back (undo: last changed first), possibly empty when a newer
        action decides every cutout; None if there was no action to undo or redo.
    """
    action = pick(conn, undo, user)
    if action is None:
        return None
    made = conn.execute(
        f"SELECT idx, new FROM history WHERE action = ? AND kind IN {_EDITS} ORDER BY seq", (action,)
    ).fetchall()
    _check_history(action, made)
    others = _newest_other(conn, action)
    targets = []
    for i, new in reversed(made) if undo else made:
        other, value = others.get(i, (0, None))
        if other > action:
            continue  # a newer done action set this cutout: it keeps that label
        targets.append((i, value if undo else new))
    current = stored(conn, [i for i, _ in targets])
    kind = "undo" if undo else "redo"
    write(conn, [(action, i, *current[i], v, now, by, None, None, None, kind) for i, v in targets])
    conn.execute("UPDATE actions SET state = ? WHERE action = ?", ("undone" if undo else "done", action))
    return [i for i, _ in targets]


def _check_history(action: int, rows) -> None:
    """Refuse to replay history rows GalView could not have written (a label that is not an integer)."""
    for idx, new in rows:
        if not isinstance(idx, int) or not (new is None or isinstance(new, int)):
            raise StoreDamaged(f"its history holds the label {new!r} for cutout {idx!r} in action {action}")

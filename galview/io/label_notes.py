"""Notes on cutouts: a line or a paragraph a person writes about one cutout, kept in its label store.

"Tidal feature to the NE?", "check deeper imaging", "same object as #812": what an astronomer
wants to remember about a candidate besides its class. Notes live in the ``notes`` table of the
collection's label store, created the first time a note is written (a store without one simply has
no notes, and an older GalView opens a store with one as before, ignoring it). The table is
append-only: writing a note adds a row (index, id, text, time, user), an empty text clears it, and a
cutout's note is its newest row. So no note is ever overwritten or lost: every earlier version stays
in :meth:`LabelNotes.note_history`. Each write is its own committed transaction (WAL,
``synchronous=FULL``): when :meth:`LabelNotes.set_note` returns, the note is on disk.

A mixin of :class:`~galview.io.label_store.LabelStore` (it uses the store's ``_reading()`` and
``_transaction()`` contexts and ``_n``).
"""

from __future__ import annotations

import time

from galview.core.budget import MAX_NOTE_CHARS
from galview.io.label_queries import checked_indices
from galview.io.label_schema import DamagedText, StoreDamaged

__all__ = ["MAX_NOTE_CHARS", "LabelNotes", "clean_note", "restore_note_rows"]

NOTES_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS notes (seq INTEGER PRIMARY KEY AUTOINCREMENT, idx INTEGER NOT NULL, "
    "cutout_id TEXT NOT NULL, text TEXT NOT NULL, at REAL NOT NULL, user TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS notes_idx ON notes(idx, seq)",
)
NOTE_COLUMNS = ("seq", "idx", "cutout_id", "text", "at", "user")

# The newest row of each cutout: its note (an empty text is a cleared note).
_CURRENT = "SELECT idx, text FROM notes WHERE seq IN (SELECT MAX(seq) FROM notes GROUP BY idx)"


def clean_note(text) -> str:
    """A note as it is stored: trimmed text, at most :data:`MAX_NOTE_CHARS` characters.

    Raises
    ------
    ValueError
        For anything but text, text with NUL characters, or text that is too long (saying how long).
    """
    if not isinstance(text, str):
        raise ValueError(f"a note must be text, got {type(text).__name__}")
    text = text.strip()
    if "\x00" in text:
        raise ValueError("a note cannot hold NUL characters")
    if len(text) > MAX_NOTE_CHARS:
        raise ValueError(f"a note can be at most {MAX_NOTE_CHARS:,} characters; this one has {len(text):,}")
    return text


class LabelNotes:
    """Notes on cutouts: write, read, list and the history of each (module docstring)."""

    def set_note(self, index: int, text: str, *, user: str | None = None) -> int | None:
        """Write the note of cutout ``index`` (an empty ``text`` clears it); durable when it returns.

        Returns
        -------
        int or None
            The note's sequence number, or None when the cutout's note already was ``text``
            (nothing is written).
        """
        written = self.set_notes([index], text, user=user)
        return written[0][1] if written else None

    def set_notes(self, indices, text: str, *, user: str | None = None) -> list[tuple[int, int]]:
        """Write one note on several cutouts in one transaction (a selection's "tidal features"); those
        whose note already is ``text`` are left alone. Durable when it returns.

        Returns
        -------
        list of (int, int)
            (cutout index, note sequence number) of each note written.
        """
        indices = checked_indices(indices, self._n)
        written = self.change_notes(dict.fromkeys(indices, text), user=user)
        return [(index, seq) for index, seq, _before in written]

    def change_notes(self, texts, *, user: str | None = None, expected=None) -> list[tuple[int, int, str]]:
        """Write each cutout's own note in one transaction; durable when it returns.

        Parameters
        ----------
        texts : mapping of int to str
            The new note of each cutout (``""`` clears it); a cutout whose note already is its text
            is left alone.
        user : str, optional
            Recorded with each note; default the login name.
        expected : mapping of int to str, optional
            Write a cutout's note only while its note is still this text: undoing a note must not
            wipe out one a colleague wrote since.

        Returns
        -------
        list of (int, int, str)
            (cutout index, note sequence number, the note it replaced) of each note written.
        """
        from galview.io.label_store import current_user

        checked_indices(list(texts), self._n)
        texts = {int(index): clean_note(text) for index, text in texts.items()}
        expected = {} if expected is None else {int(i): clean_note(t) for i, t in expected.items()}
        now, user = time.time(), user or current_user()
        written = []
        with self._transaction() as conn:
            for statement in NOTES_SCHEMA:
                conn.execute(statement)
            for index, text in texts.items():
                row = conn.execute(
                    "SELECT text FROM notes WHERE idx = ? ORDER BY seq DESC LIMIT 1", (index,)
                ).fetchone()
                before = row[0] if row is not None and isinstance(row[0], str) else ""  # damaged: replaced
                if before == text or expected.get(index, before) != before:
                    continue
                found = conn.execute("SELECT cutout_id FROM labels WHERE idx = ?", (index,)).fetchone()
                cutout_id = found[0] if found is not None and isinstance(found[0], str) else str(index)
                seq = conn.execute(
                    "INSERT INTO notes (idx, cutout_id, text, at, user) VALUES (?, ?, ?, ?, ?)",
                    (index, cutout_id, text, now, user),
                ).lastrowid
                written.append((index, seq, before))
        return written

    def note(self, index: int) -> str:
        """The note of cutout ``index`` (``""`` when it has none)."""
        index = checked_indices(index, self._n)[0]
        with self._reading() as conn:
            if not _has_notes(conn):
                return ""
            row = conn.execute(
                "SELECT text FROM notes WHERE idx = ? ORDER BY seq DESC LIMIT 1", (index,)
            ).fetchone()
            return "" if row is None else _text(row[0], index)

    def notes(self) -> dict[int, str]:
        """Every cutout's note that is not empty, by cutout index (ascending)."""
        with self._reading() as conn:
            if not _has_notes(conn):
                return {}
            rows = conn.execute(_CURRENT + " ORDER BY idx").fetchall()
            out = {}
            for idx, text in rows:  # read inside: the store names itself in what StoreDamaged says
                if not isinstance(idx, int) or not 0 <= idx < self._n:
                    raise StoreDamaged(f"its notes table has the index {idx!r}; expected 0 to {self._n - 1}")
                if text:
                    out[idx] = _text(text, idx)
            return out

    def note_history(self, index: int | None = None) -> list[dict]:
        """Every version of every note (of cutout ``index`` when given), oldest first, as dicts keyed
        by :data:`NOTE_COLUMNS`; ``text`` ``""`` is a note cleared."""
        query, args = "SELECT " + ", ".join(NOTE_COLUMNS) + " FROM notes", ()
        if index is not None:
            query, args = query + " WHERE idx = ?", (checked_indices(index, self._n)[0],)
        with self._reading() as conn:
            if not _has_notes(conn):
                return []
            rows = conn.execute(query + " ORDER BY seq", args).fetchall()
            history = [dict(zip(NOTE_COLUMNS, row, strict=True)) for row in rows]
            for entry in history:
                entry["text"] = _text(entry["text"], entry["idx"])
            return history

    def last_note_seq(self) -> int:
        """Sequence number of the newest note row (0 if none): poll it to see others' notes."""
        with self._reading() as conn:
            if not _has_notes(conn):
                return 0
            return conn.execute("SELECT COALESCE(MAX(seq), 0) FROM notes").fetchone()[0]


def restore_note_rows(store, rows) -> int:
    """Write note rows kept elsewhere (``(idx, cutout_id, text, at, user)``, oldest first) into
    ``store`` as they were, in one transaction: what a salvage recovers. Returns how many."""
    rows = [(int(i), str(cid), clean_note(text), float(at), str(user)) for i, cid, text, at, user in rows]
    if not rows:
        return 0
    checked_indices([row[0] for row in rows], store.n)
    with store._transaction() as conn:
        for statement in NOTES_SCHEMA:
            conn.execute(statement)
        conn.executemany("INSERT INTO notes (idx, cutout_id, text, at, user) VALUES (?, ?, ?, ?, ?)", rows)
    return len(rows)


def _has_notes(conn) -> bool:
    """Whether the store has a notes table (made at its first note)."""
    found = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'notes'").fetchone()
    return found is not None


def _text(value, index) -> str:
    """A stored note's text; StoreDamaged when it is not text (the row was not written by GalView)."""
    if not isinstance(value, str):
        raise StoreDamaged(
            f"its notes table holds a note stored as {type(value).__name__} at index {index!r}"
        )
    if isinstance(value, DamagedText):
        return str(value)  # shown with U+FFFD where its bytes were damaged; the note is not lost
    return value

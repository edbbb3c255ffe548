"""Notes on cutouts in the label store: durable, append-only (nothing lost), checked, exported."""

from __future__ import annotations

import csv
import sqlite3
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from galview.io.label_notes import MAX_NOTE_CHARS
from galview.io.label_store import LabelStore, LabelStoreError


@pytest.fixture
def store(tmp_path):
    with LabelStore.open(tmp_path / "s.sqlite", 6, ids=[f"obj{i}" for i in range(6)]) as s:
        yield s


def test_a_store_without_notes_has_none_and_writes_no_table(store):
    assert store.notes() == {} and store.note(3) == "" and store.note_history() == []
    assert store.last_note_seq() == 0
    tables = {r[0] for r in sqlite3.connect(store.path).execute("SELECT name FROM sqlite_master")}
    assert "notes" not in tables  # made at the first note only


def test_notes_are_kept_trimmed_and_every_version_stays(store):
    first = store.set_note(2, "  tidal feature to the NE?\n")
    assert store.note(2) == "tidal feature to the NE?"
    assert store.set_note(2, "tidal feature to the NE?") is None  # unchanged: nothing written
    second = store.set_note(2, "tidal feature to the NE; check deeper imaging", user="ana")
    assert second > first
    store.set_note(4, "same object as #812")
    store.set_note(4, "")  # cleared
    assert store.notes() == {2: "tidal feature to the NE; check deeper imaging"}
    history = store.note_history(2)
    assert [row["text"] for row in history] == [
        "tidal feature to the NE?",
        "tidal feature to the NE; check deeper imaging",
    ]
    assert history[1]["user"] == "ana" and history[0]["cutout_id"] == "obj2"
    assert [row["text"] for row in store.note_history(4)] == ["same object as #812", ""]
    assert store.last_note_seq() == 4
    assert store.integrity() == "ok"


def test_bad_notes_are_refused_and_nothing_is_written(store):
    for bad, words in [(3, "must be text"), ("a\x00b", "NUL"), ("x" * (MAX_NOTE_CHARS + 1), "at most")]:
        with pytest.raises(ValueError, match=words):
            store.set_note(1, bad)
    with pytest.raises(IndexError):
        store.set_note(6, "out of range")
    assert store.note_history() == []


def test_a_note_is_on_disk_when_set_note_returns(tmp_path):
    """A second process kills itself right after set_note returns; the note is there."""
    path = tmp_path / "s.sqlite"
    LabelStore.open(path, 3).close()
    script = textwrap.dedent(
        f"""
        import os
        from galview.io.label_store import LabelStore
        s = LabelStore.open({str(path)!r}, 3)
        s.set_note(1, "möglicherweise ein Ring")
        os._exit(0)  # no close, no checkpoint
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True)
    with LabelStore.open(path, 3) as s:
        assert s.notes() == {1: "möglicherweise ein Ring"}


def test_two_stores_on_one_file_see_each_others_notes(tmp_path):
    path = tmp_path / "s.sqlite"
    with LabelStore.open(path, 4) as a, LabelStore.open(path, 4) as b:
        seen = b.last_note_seq()
        a.set_note(0, "from a")
        assert b.last_note_seq() > seen and b.notes() == {0: "from a"}
        b.set_note(0, "from b")
        assert a.note(0) == "from b" and len(a.note_history(0)) == 2  # a's note is kept, not overwritten


def test_a_note_row_galview_could_not_have_written_is_refused(store):
    store.set_note(1, "fine")
    conn = sqlite3.connect(store.path)
    conn.execute("INSERT INTO notes (idx, cutout_id, text, at, user) VALUES (2, 'obj2', x'00ff', 0, 'x')")
    conn.commit()
    conn.close()
    with pytest.raises(LabelStoreError, match="damaged.*notes table"):
        store.notes()


@pytest.mark.parametrize("suffix", [".csv", ".fits", ".h5"])
def test_exports_carry_the_notes(store, tmp_path, suffix):
    store.set_note(1, "ring? ∅ centre")
    store.set_note(3, "two lines\nof note")
    out = store.export(tmp_path / f"labels{suffix}")
    if suffix == ".csv":
        with open(out, newline="", encoding="utf-8") as handle:
            notes = [row["note"] for row in csv.DictReader(handle)]
        assert notes == ["", "ring? ∅ centre", "", "two lines\nof note", "", ""]
    elif suffix == ".fits":
        from astropy.table import Table

        notes = [str(v).strip() for v in Table.read(out, mask_invalid=False)["note"]]
        assert notes[1] == "ring? \\u2205 centre" and notes[0] == ""  # FITS is ASCII: escaped
    else:
        import h5py

        with h5py.File(out) as f:
            notes = list(f["note"].asstr()[()])
        assert notes[1] == "ring? ∅ centre" and notes[3] == "two lines\nof note"
    assert np.count_nonzero(notes) == 2


def test_one_note_on_several_cutouts_is_one_transaction_and_skips_those_already_so(store):
    store.set_note(2, "tidal features")
    store.set_note(3, "same object as #812")
    written = store.set_notes([1, 2, 3], "tidal features", user="ana")
    assert [index for index, _seq in written] == [1, 3]  # 2 had it already
    assert store.notes() == {1: "tidal features", 2: "tidal features", 3: "tidal features"}
    assert [row["text"] for row in store.note_history(3)] == ["same object as #812", "tidal features"]
    with pytest.raises(IndexError):
        store.set_notes([1, 9], "out of range")
    assert store.notes()[1] == "tidal features" and len(store.note_history(1)) == 1  # nothing written


def test_change_notes_writes_each_its_own_text_and_skips_notes_changed_since(store):
    store.set_notes([0, 1, 2], "tidal features", user="ana")
    store.set_note(2, "a bright star's halo", user="ben")
    written = store.change_notes(
        {0: "", 1: "nucleated", 2: ""}, expected=dict.fromkeys([0, 1, 2], "tidal features")
    )
    assert [(i, before) for i, _seq, before in written] == [(0, "tidal features"), (1, "tidal features")]
    assert store.notes() == {1: "nucleated", 2: "a bright star's halo"}  # ben's note stays
    assert store.change_notes({1: "nucleated"}) == []  # unchanged: nothing written
    with pytest.raises(IndexError):
        store.change_notes({6: "out of range"})
    assert [row["text"] for row in store.note_history(0)] == ["tidal features", ""]


def test_next_step_at_is_when_the_action_undo_or_redo_takes_was_made(store):
    assert store.next_step_at(True) is None and store.next_step_at(False) is None
    store.set([1], 1, user="ana")
    store.set([2], 0, user="ben")
    times = [row["at"] for row in store.history()]
    assert store.next_step_at(True) == times[1] and store.next_step_at(True, user="ana") == times[0]
    store.undo()
    assert store.next_step_at(False) == times[1] and store.next_step_at(True) == times[0]

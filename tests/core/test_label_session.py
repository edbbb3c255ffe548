"""The labelling session without a window: store ↔ state, undo, auto-advance, selection, re-check."""

from __future__ import annotations

import numpy as np
import pytest

from galview.core.label_api import LabelStoreAPI
from galview.core.label_session import LabelSession
from galview.core.label_values import UNSURE
from galview.core.state import ViewerState
from galview.io.label_store import has_label_store, open_label_store

N = 12


def opener(collection, create):
    if not create and not has_label_store(collection):
        return None
    return open_label_store(collection)


@pytest.fixture
def data(tmp_path):
    path = tmp_path / "cutouts.npz"
    rng = np.random.default_rng(0)
    np.savez(path, images=rng.integers(0, 255, (N, 8, 8, 3), dtype=np.uint8), labels=np.arange(N) % 2)
    return path


def _session(path):
    from galview.io import open_collection

    state = ViewerState()
    session = LabelSession(state, opener)
    state.set_collection(open_collection(path))
    return state, session


def test_opening_writes_nothing_and_shows_the_files_labels(data):
    state, session = _session(data)
    assert session.store is None and not has_label_store(state.collection)
    np.testing.assert_array_equal(state.labels, np.arange(N) % 2)
    assert np.isnan(state.user_labels).all()
    assert session.describe(1) == ("1 · from the file", "no changes")  # the file names no classes


def test_a_label_is_in_the_store_before_the_state_shows_it(data):
    state, session = _session(data)
    seen = []
    state.labels_changed.connect(
        lambda idx: idx is not None and seen.append(session.store.get(int(idx[0]))["label"])
    )
    assert session.label(1, [0])
    assert isinstance(session.store, LabelStoreAPI)
    assert seen == [1]  # the store already held it when the state announced the change
    assert state.labels[0] == 1 and state.user_labels[0] == 1 and np.isnan(state.user_labels[1:]).all()
    assert session.describe(0)[0] == "1 · changed (file: 0)"
    assert "— → 1" in session.describe(0)[1]
    state.collection.set_class_names("artifact,LSBG")
    assert session.describe(0)[0] == "LSBG · changed (file: artifact)"


def test_auto_advance_follows_the_display_order(data):
    state, session = _session(data)
    state.set_order([5, 3, 9])
    state.set_current(3)
    session.label(UNSURE)
    assert state.current == 9 and state.labels[3] == UNSURE
    session.label(0)  # the last one shown: nowhere to go
    assert state.current == 9
    session.auto_advance = False
    state.set_current(5)
    session.label(1)
    assert state.current == 5


def test_a_multi_selection_is_labelled_as_one_action_and_undone_together(data):
    state, session = _session(data)
    state.set_selection([4, 2, 7])
    assert state.label_targets() == [2, 4, 7]  # in display order
    assert session.label(1)
    assert state.labels[[2, 4, 7]].tolist() == [1, 1, 1]
    assert session.undo()
    np.testing.assert_array_equal(state.labels, np.arange(N) % 2)
    assert state.current in (2, 4, 7)  # an undone cutout is shown
    assert session.redo() and state.labels[7] == 1
    assert session.label(None, [7])  # back to the file's label
    assert state.labels[7] == 1 and np.isnan(state.user_labels[7])


def test_another_programs_changes_arrive_by_polling(data):
    state, session = _session(data)
    session.label(1, [0])
    with open_label_store(state.collection) as other:
        other.set([5, 6], UNSURE)
    assert state.labels[5] == 1
    assert session.poll()
    assert state.labels[5] == UNSURE and state.labels[6] == UNSURE
    assert not session.poll()


def test_a_store_that_cannot_be_opened_refuses_labels_and_changes_nothing(data, monkeypatch):
    from galview.io.label_store import store_path_for

    path = store_path_for(data)
    path.write_bytes(b"not a database" * 20)
    before = path.read_bytes()
    errors = []
    state = ViewerState()
    session = LabelSession(state, opener)
    session.error.connect(errors.append)
    from galview.io import open_collection

    state.set_collection(open_collection(data))
    assert "labelling is off" in errors[0]
    assert not session.label(1, [0])
    assert "NOT saved" in errors[-1] and state.labels[0] == 0
    assert path.read_bytes() == before


def test_blind_recheck_hides_answers_and_writes_nothing(data):
    state, session = _session(data)
    summaries = []
    session.recheck_done.connect(summaries.append)
    check = session.start_recheck(4, seed=1)
    assert state.blind and state.order.tolist() == check.indices.tolist()
    assert session.describe(int(check.indices[0])) == ("hidden (blind re-check)", "")
    for index in check.indices:
        assert state.current == index
        session.label(int(state.labels[index]))  # the same answers as before
    assert not state.blind and session.recheck is None
    assert "4 of 4" in summaries[0] and session.store is None  # nothing was written


def test_undo_of_only_my_actions_is_passed_to_the_store(data):
    state, session = _session(data)
    calls = []
    session.label(1, [0])
    store = session.store
    original = store.undo
    session.store.undo = lambda **kw: (calls.append(kw), original(**kw))[1]
    session.undo()
    session.undo_mine = True
    session.label(1, [1])
    session.undo()
    assert calls[0] == {} and "user" in calls[1] and calls[1]["user"]


def test_a_selection_labelled_out_of_a_ranking_records_the_ranking_in_the_history(data):
    """Bulk labels from a ranking (the top of a similarity search, say) say where they came from."""
    from galview.core.rankings import Ranking

    state, session = _session(data)
    ranking = Ranking("similar", "most similar to cutout 3", np.linspace(1, 0, N), badge="sim")
    state.set_ranking(ranking)
    state.set_sorting(sort="similar")
    chosen = state.select_first(4)
    assert session.label(0, list(chosen))
    rows = session.store.history()
    assert [r["description"] for r in rows] == [
        "4 selected in the grid sorted by most similar to cutout 3"
    ] * 4
    assert (
        "; 4 selected in the grid sorted by most similar to cutout 3" in session.describe(int(chosen[0]))[1]
    )
    assert session.label(1, [int(chosen[0])])  # one cutout: nothing to say
    assert session.store.history()[-1]["description"] == ""
    state.set_sorting(sort="file")
    assert session.label(1, [5, 6])  # a selection in file order: no ranking to name
    assert session.store.history()[-1]["description"] == ""


def test_a_damaged_store_is_offered_for_salvage_when_the_caller_can_salvage(data):
    from galview.io import open_collection
    from galview.io.label_salvage import salvage_store

    state, session = _session(data)
    session.label(1, [0, 2])
    path = session.store.path
    session.close()
    with open(path, "r+b") as handle:
        handle.write(b"X" * 16)
    errors, offers = [], []

    plain = LabelSession(ViewerState(), opener)  # no salvage function: the problem is an error
    plain.error.connect(errors.append)
    plain.state.set_collection(open_collection(data))
    assert plain.store is None and "is damaged" in errors[-1] and not plain.salvage()

    helped = LabelSession(ViewerState(), opener, salvage=lambda c: salvage_store(c).lines())
    helped.salvage_offered.connect(offers.append)
    helped.state.set_collection(open_collection(data))
    assert len(offers) == 1 and str(offers[0]).startswith(str(path))
    assert helped.store is None and not helped.label(1, [4]) and helped.damaged is offers[0]
    assert helped.salvage()
    assert helped.store is not None and helped.broken is None and helped.damaged is None
    assert helped.state.user_labels[0] == 1 and helped.state.user_labels[2] == 1
    assert helped.label(0, [4]) and helped.store.get(4)["user_label"] == 0


def test_cutouts_not_scored_yet_are_labelled_while_the_scoring_runs(data):
    """Scores fill in batch by batch: a label set before its cutout is scored records no probability."""
    from types import SimpleNamespace

    from galview.core.scores import Scores

    state, session = _session(data)
    state.set_model(SimpleNamespace(version="v1"))
    state.set_scores(Scores.empty(N, 1, "v1"))
    state.update_scores([0, 1], np.array([[0.9], [0.2]], np.float32), "v1")  # the first batch only

    assert session.label(1, [0, 1, 5])
    rows = session.store.history()
    assert [(r["idx"], r["model_id"], r["prob"]) for r in rows] == [
        (0, "v1", pytest.approx(0.9)),
        (1, "v1", pytest.approx(0.2)),
        (5, "v1", None),
    ]
    assert session.label(0, [7])  # one unscored cutout
    assert session.store.history()[-1]["prob"] is None


def test_a_note_is_in_the_store_before_the_state_shows_it_and_earlier_ones_stay(data):
    state, session = _session(data)
    seen = []
    state.notes_changed.connect(
        lambda idx: idx is not None and seen.append((idx.tolist(), session.store.note(int(idx[0]))))
    )  # None: all reloaded, as when the first note creates the store
    state.set_current(3)
    assert session.set_note("  LSBG with a nucleus?  ")  # the first note creates the store
    assert seen == [([3], "LSBG with a nucleus?")] and state.notes == {3: "LSBG with a nucleus?"}
    assert session.note(3) == "LSBG with a nucleus?" and session.note(4) == ""
    assert session.set_note("nucleated dwarf", indices=3)
    assert session.note_history_text(3).endswith("LSBG with a nucleus?")  # the earlier version, kept
    assert session.set_note("", indices=3) and state.notes == {}
    assert "(cleared)" not in session.note_history_text(3)  # the current (cleared) note is not "earlier"
    assert session.note_history_text(3).splitlines()[0].endswith("nucleated dwarf")


def test_a_note_that_cannot_be_kept_is_said_not_saved(data):
    state, session = _session(data)
    errors = []
    session.error.connect(errors.append)
    assert not session.set_note("x" * 5000, indices=1)
    assert "NOT saved" in errors[0] and "at most" in errors[0] and state.notes == {}


def test_a_poll_does_not_wait_while_a_job_uses_the_store(data):
    """An export reading a million labels held the window's poll up to 1.2 s: it tries again next round."""
    import threading
    import time

    state, session = _session(data)
    session.label(1, [0])
    with open_label_store(state.collection) as other:
        other.set([5], UNSURE)
    holding, release = threading.Event(), threading.Event()

    def job() -> None:
        with session.store._reading():
            holding.set()
            release.wait(10)

    worker = threading.Thread(target=job)
    worker.start()
    assert holding.wait(10)
    started = time.perf_counter()
    assert not session.poll() and time.perf_counter() - started < 0.5
    assert state.labels[5] != UNSURE  # not taken in yet
    release.set()
    worker.join()
    assert session.poll() and state.labels[5] == UNSURE


def test_notes_come_back_on_reopening_and_from_another_program(data):
    state, session = _session(data)
    session.set_note("first", indices=0)
    other = open_label_store(state.collection)
    other.set_note(5, "written by another GalView")
    other.close()
    assert session.poll() is False  # no label changed, but the note came in
    assert state.notes == {0: "first", 5: "written by another GalView"}
    state2, _session2 = _session(data)
    assert state2.notes == {0: "first", 5: "written by another GalView"}
    state.set_blind(True)
    assert session.note(0) == ""  # hidden during a blind re-check, as labels are


def test_ctrl_z_walks_back_through_labels_and_notes_in_the_order_they_were_made(data, monkeypatch):
    import galview.core.label_session as label_session
    import galview.io.label_notes as label_notes
    import galview.io.label_store as label_store

    clock = iter(range(1000, 2000))
    tick = lambda: float(next(clock))  # noqa: E731 - one clock for labels and notes, strictly increasing
    for module in (label_session, label_notes, label_store):
        monkeypatch.setattr(module.time, "time", tick)
    state, session = _session(data)
    messages = []
    session.message.connect(messages.append)
    session.label(1, [0])
    session.set_note("tidal tail?", indices=0)
    session.label(UNSURE, [1])
    session.set_note("same object as #812", indices=[2, 3])

    assert session.undo() and state.notes == {0: "tidal tail?"}  # the newest: the note on two cutouts
    assert messages[-1] == "Undid the note on 2 cutouts"
    assert session.undo() and np.isnan(state.user_labels[1])  # then the label
    assert session.undo() and state.notes == {} and state.current == 0
    assert session.undo() and np.isnan(state.user_labels[0])
    assert not session.undo() and messages[-1] == "Nothing to undo"

    assert session.redo() and state.user_labels[0] == 1 and state.notes == {}  # the oldest first
    assert session.redo() and state.notes == {0: "tidal tail?"}
    assert session.redo() and state.user_labels[1] == UNSURE
    assert session.redo() and state.notes == {
        0: "tidal tail?",
        2: "same object as #812",
        3: "same object as #812",
    }
    assert not session.redo()
    history = [row["text"] for row in session.store.note_history(0)]
    assert history == ["tidal tail?", "", "tidal tail?"]  # undo wrote versions; none was lost


def test_undoing_a_note_keeps_one_a_colleague_wrote_since(data):
    state, session = _session(data)
    session.set_note("check deeper imaging", indices=[4, 5])
    other = open_label_store(state.collection)
    other.set_note(5, "deeper imaging: a real LSBG", user="ana")
    other.close()
    messages = []
    session.message.connect(messages.append)
    assert session.undo()
    assert state.notes == {5: "deeper imaging: a real LSBG"}
    assert "1 written since by someone else stay" in messages[-1]
    assert session.redo() and state.notes == {4: "check deeper imaging", 5: "deeper imaging: a real LSBG"}


def test_a_new_label_or_note_ends_the_notes_redo(data):
    state, session = _session(data)
    session.set_note("first", indices=0)
    session.undo()
    session.label(0, [1])
    assert not session.redo()  # the label dropped the undone note, as it drops undone labels
    session.set_note("second", indices=0)
    session.undo()
    session.set_note("third", indices=2)
    assert not session.redo() and state.notes == {2: "third"}
    state.set_collection(state.collection)  # another store: the notes' undo starts afresh
    assert not session.note_edits.done

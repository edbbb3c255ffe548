"""Labels ▸ Compare with another inspector's labels: the grid sorts disagreements first, the panel
shows their label beside yours, "Take the other inspector's label" is one undoable action, a bad file
is said and changes nothing, another collection forgets the comparison."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from PyQt6.QtWidgets import QFileDialog

from galview.core.grid_table import shown_table
from galview.core.training_labels import model_user
from galview.io.label_store import open_label_store
from galview.qt.grid import RankingRole
from tests.qt.conftest import random_npz

N = 30


def other_store(window, path, labels: dict[int, int]):
    with open_label_store(window.state.collection, path) as store:
        for index, value in labels.items():
            store.set([index], value, user="bob")
    return path


def inspector_text(window) -> str:
    return window.metadata.fields["Inspectors"].text()


def finished(window, qtbot, started=True):
    """Wait for the reading job the comparison started (it runs off the GUI thread)."""
    assert started
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=20000)


def test_disagreements_come_first_and_their_label_is_shown_beside_yours(window, qtbot, tmp_path, monkeypatch):
    assert window.open_path(random_npz(tmp_path / "a.npz", N))
    for index, value in {2: 1, 3: 1, 4: 0, 5: 0, 6: 1, 7: -1}.items():
        assert window.labelling.label(value, [index])
    bob = other_store(window, tmp_path / "bob.sqlite", {2: 1, 3: 0, 4: 0, 5: 1, 7: 1, 9: 1})
    before = hashlib.sha256(bob.read_bytes()).hexdigest()
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", lambda *a, **k: ([str(bob)], ""))
    window.label_menu.actions["compare"].trigger()
    finished(window, qtbot)
    state = window.state
    assert state.sorting.sort == "inspector"
    assert sorted(state.order[:2].tolist()) == [3, 5] and state.order[2] == 7  # then the unsure one
    assert state.current == state.order[0]
    message = window.statusBar().currentMessage()
    assert message.startswith(
        "bob.sqlite (labelled by bob): 4 cutouts given a class by both you and bob.sqlite: agree on 2 (50.0%), Cohen's κ 0.00 ["
    )
    state.set_current(3)
    assert inspector_text(window) == "bob.sqlite: 0 · you: 1 — disagree"
    model = window.grid.grid_model
    badges = [model.data(model.cell_of(i), RankingRole) for i in (3, 7, 2, 9)]
    assert badges == ["≠ 0", "? 1", "= 1", None]  # their label on each thumbnail; 9: only theirs
    table = shown_table(state, window.labelling.classes)
    first = [{3: "0", 5: "1"}[i] for i in state.order[:2]]
    assert table["other_label"][:3].tolist() == [*first, "1"]
    assert table["disagreement"][:3].tolist() == [2.0, 2.0, 1.0]
    state.set_current(7)
    assert inspector_text(window) == "bob.sqlite: 1 · you: unsure — unsure"
    state.set_current(9)
    assert inspector_text(window) == "bob.sqlite: 1 · you: no label"
    state.set_current(3)
    window.labelling.auto_advance = False
    order = state.order.copy()
    assert window.labelling.label(0, [3])  # adjudicated: the panel and the thumbnail follow at once
    assert inspector_text(window) == "bob.sqlite: 0 · you: 0 — agree"
    assert model.data(model.cell_of(3), RankingRole) == "= 0"
    np.testing.assert_array_equal(state.order, order)  # where the comparison put it, until Compare again
    table = shown_table(state, window.labelling.classes)
    assert table["disagreement"][list(state.order).index(3)] == 0.0
    assert window.labelling.label(-1, [9])  # one only they had labelled: now compared
    assert model.data(model.cell_of(9), RankingRole) == "? 1"
    assert hashlib.sha256(bob.read_bytes()).hexdigest() == before


def test_taking_their_labels_is_one_undoable_action(window, qtbot, tmp_path):
    assert window.open_path(random_npz(tmp_path / "a.npz", N))
    window.labelling.label(1, [3])
    bob = other_store(window, tmp_path / "bob.sqlite", {3: 0, 4: 1, 5: -1})
    assert not window.inspector.take_theirs()  # nothing compared yet: said, nothing done
    assert window.statusBar().currentMessage().startswith("Compare with other inspectors' labels first")
    finished(window, qtbot, window.inspector.compare_with(bob))
    window.state.set_selection([3, 4, 5, 6])
    window.label_menu.actions["take_theirs"].trigger()
    np.testing.assert_array_equal(window.state.user_labels[3:7], [0, 1, -1, np.nan])
    assert window.statusBar().currentMessage() == (
        "3 cutouts given bob.sqlite's label (Ctrl+Z undoes); 1 cutout without one left alone"
    )
    with open_label_store(window.state.collection) as mine:
        assert mine.history()[-1]["user"] != "bob"  # you took them: recorded as yours
    assert window.labelling.undo()
    np.testing.assert_array_equal(window.state.user_labels[3:7], [1, np.nan, np.nan, np.nan])


def test_a_bad_file_is_said_and_another_collection_forgets_the_comparison(window, qtbot, tmp_path):
    assert window.open_path(random_npz(tmp_path / "a.npz", N))
    window.labelling.label(1, [3])
    errors = []
    window.inspector.error.connect(errors.append)
    (tmp_path / "bad.csv").write_text("index,label\n3,1\n3,0\n")
    finished(window, qtbot, window.inspector.compare_with(tmp_path / "bad.csv"))  # read off the GUI thread
    assert errors == [f"{tmp_path / 'bad.csv'}: line 3: cutout 3 was already given on line 2"]
    assert window.state.sorting.sort == "file" and inspector_text(window) == "—"
    (tmp_path / "bob.csv").write_text("index,label\n3,0\n")
    finished(window, qtbot, window.inspector.compare_with(tmp_path / "bob.csv"))
    assert inspector_text(window) != "—"
    assert window.open_path(random_npz(tmp_path / "b.npz", N + 1, seed=1))
    assert window.inspector.others == [] and inspector_text(window) == "—"
    assert "inspector" not in window.state.rankings


def test_several_inspectors_split_votes_first_and_the_majority_taken(window, qtbot, tmp_path, monkeypatch):
    assert window.open_path(random_npz(tmp_path / "a.npz", N))
    window.labelling.auto_advance = False
    for index, value in {2: 1, 3: 1, 4: 1, 5: 0}.items():
        assert window.labelling.label(value, [index])
    bob = other_store(window, tmp_path / "bob.sqlite", {2: 1, 3: 0, 4: 0, 5: 0, 6: 1})
    carol = other_store(window, tmp_path / "carol.sqlite", {2: 1, 3: 0, 4: 1, 6: 0})
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", lambda *a, **k: ([str(bob), str(carol)], ""))
    window.state.set_current(6)  # the first of the ranking already: the panel must still fill in
    window.label_menu.actions["compare"].trigger()
    finished(window, qtbot)
    state = window.state
    assert (
        state.current == 6
        and inspector_text(window) == "bob.sqlite: 1 · carol.sqlite: 0 · you: no label — split"
    )
    assert state.sort_ranking.title == "split votes of 3 inspectors first"
    assert state.order[:3].tolist() == [6, 3, 4]  # the 1:1 tie, then the two 2:1 splits
    assert window.statusBar().currentMessage().startswith("3 inspectors: Krippendorff's α ")
    model = window.grid.grid_model
    badges = [model.data(model.cell_of(i), RankingRole) for i in (6, 3, 4, 2, 5, 0)]
    assert badges == ["≠ tie", "≠ 0 2/3", "≠ 1 2/3", "= 1", "= 0", None]
    state.set_current(3)
    assert inspector_text(window) == "bob.sqlite: 0 · carol.sqlite: 0 · you: 1 — split"
    state.set_selection([3, 4, 6])
    assert window.inspector.take_theirs()  # the majority: 3 → 0, 4 stays 1, the tie (6) left alone
    np.testing.assert_array_equal(state.user_labels[[3, 4, 6]], [0, 1, np.nan])
    assert model.data(model.cell_of(3), RankingRole) == "= 0"  # everyone says 0 now
    assert state.order[:3].tolist() == [6, 3, 4]  # the order as compared
    assert window.statusBar().currentMessage() == (
        "2 cutouts given the majority label (Ctrl+Z undoes); 1 cutout without one left alone"
    )
    assert window.labelling.undo()
    assert state.user_labels[3] == 1 and model.data(model.cell_of(3), RankingRole) == "≠ 0 2/3"
    state.set_selection([6])
    state.set_current(6)
    assert not window.inspector.take_theirs()  # a tie
    assert window.statusBar().currentMessage() == "There is no majority label for this cutout"


def test_compare_again_reads_the_same_files_anew_after_reopening(window, qtbot, tmp_path):
    data = random_npz(tmp_path / "a.npz", N)
    assert window.open_path(data)
    window.labelling.auto_advance = False
    window.labelling.label(1, [3])
    window.labelling.label(1, [4])
    bob = other_store(window, tmp_path / "bob.sqlite", {3: 0, 4: 0})
    assert not window.inspector.compare_again()  # nothing compared yet with this collection
    assert window.statusBar().currentMessage().startswith("No other inspectors' labels compared")
    finished(window, qtbot, window.inspector.compare_with(bob))
    assert window.open_path(random_npz(tmp_path / "b.npz", N + 1, seed=1))
    assert window.inspector.remembered() == []  # another collection: nothing remembered for it
    assert window.open_path(data)
    window.labelling.label(0, [3])  # agreed with bob meanwhile
    window.label_menu.actions["compare_again"].trigger()
    finished(window, qtbot)
    assert window.state.sorting.sort == "inspector" and window.state.order[0] == 4  # 3 no longer disagrees
    assert "agree on 1 (50.0%)" in window.statusBar().currentMessage()
    bob.unlink()
    assert window.inspector.remembered() == [] and not window.inspector.compare_again()


def test_the_people_of_one_shared_store_are_compared_by_their_own_labels(window, qtbot, tmp_path):
    from galview.io.label_store import current_user

    assert window.open_path(random_npz(tmp_path / "a.npz", N))
    assert not window.inspector.compare_people()  # no store yet
    window.labelling.auto_advance = False
    for index, value in {2: 1, 3: 1, 4: 0}.items():
        assert window.labelling.label(value, [index])
    finished(window, qtbot, window.inspector.compare_people())
    assert window.statusBar().currentMessage().startswith(f"Only {current_user()} has labelled")
    assert window.state.sorting.sort == "file"
    with open_label_store(window.state.collection) as shared:  # a colleague's GalView on the same store
        shared.set([3], 0, user="zoe")
        shared.set([5], 1, user="zoe")
        shared.set([6], 1, user=model_user("v7"))  # a model is nobody
    window.labelling.poll()
    me = current_user()
    window.label_menu.actions["compare_people"].trigger()
    finished(window, qtbot)
    state = window.state
    assert state.sort_ranking.title == f"disagreements between {min(me, 'zoe')} and {max(me, 'zoe')} first"
    assert state.order[0] == 3  # zoe overruled me on 3: the store says 0, my own label is still 1
    assert state.user_labels[3] == 0
    state.set_current(3)
    first, second = sorted((me, "zoe"))
    labels = {me: "1", "zoe": "0"}
    assert inspector_text(window) == f"{second}: {labels[second]} · {first}: {labels[first]} — disagree"
    model = window.grid.grid_model
    assert model.data(model.cell_of(5), RankingRole) is None  # only zoe labelled it
    order = list(state.order)
    assert window.labelling.label(0, [5])  # my own row follows at once, the order stays until compared again
    second_label = {me: "0", "zoe": "1"}[second]  # the mark shows the second person's label
    assert model.data(model.cell_of(5), RankingRole) == f"≠ {second_label}"
    assert inspector_text(window).endswith("— disagree") and list(state.order) == order
    assert window.labelling.label(0, [3])  # I come round to zoe's view of 3
    assert model.data(model.cell_of(3), RankingRole) == "= 0"
    assert window.labelling.undo()  # my own label of 3 is 1 again (not the store's, zoe's 0)
    assert model.data(model.cell_of(3), RankingRole) == f"≠ {labels[second]}"
    finished(window, qtbot, window.inspector.compare_again())  # remembered: the people again, read anew
    assert state.sorting.sort == "inspector" and state.order[0] in (3, 5)


def test_among_three_people_of_a_store_my_votes_follow_my_relabelling(window, qtbot, tmp_path):
    assert window.open_path(random_npz(tmp_path / "a.npz", N))
    window.labelling.auto_advance = False
    assert window.labelling.label(1, [2])
    with open_label_store(window.state.collection) as shared:
        shared.set([2], 0, user="amy")
        shared.set([2], 0, user="zoe")
    window.labelling.poll()
    finished(window, qtbot, window.inspector.compare_people())
    model = window.grid.grid_model
    assert window.state.order[0] == 2 and model.data(model.cell_of(2), RankingRole) == "≠ 0 2/3"
    assert window.labelling.label(0, [2])  # I join them: everyone says 0
    assert model.data(model.cell_of(2), RankingRole) == "= 0"


@pytest.mark.parametrize("read_first", [True, False])  # the reading done before the other collection opens
@pytest.mark.parametrize("job", ["read_inspectors", "store_people"])
def test_reading_runs_off_the_gui_thread_and_a_result_for_a_closed_collection_is_dropped(
    window, qtbot, tmp_path, monkeypatch, job, read_first
):
    import threading

    from galview.io import other_labels

    assert window.open_path(random_npz(tmp_path / "a.npz", N))
    window.labelling.label(1, [3])
    bob = other_store(window, tmp_path / "bob.sqlite", {3: 0})
    other_store(window, None, {4: 1})  # bob labels in this collection's own store too: two people there
    window.labelling.poll()
    release, threads = threading.Event(), []
    reading = getattr(other_labels, job)

    def slow(*args, **kwargs):
        if threading.current_thread() is threading.main_thread():
            return reading(*args, **kwargs)  # read at once (while the job waits)
        threads.append(threading.current_thread())
        result = reading(*args, **kwargs) if read_first else None
        assert release.wait(20)
        return result if read_first else reading(*args, **kwargs)

    monkeypatch.setattr(other_labels, job, slow)
    errors = []
    window.inspector.error.connect(errors.append)
    compare = window.inspector.compare_people if job == "store_people" else window.inspector.compare_with
    assert compare(bob) if job == "read_inspectors" else compare()
    qtbot.waitUntil(lambda: bool(threads), timeout=5000)
    assert threads[0] is not threading.main_thread() and window.runner.busy
    assert window.inspector.compare_with(bob)  # while a job runs: read at once, in this thread
    assert window.state.sorting.sort == "inspector" and window.inspector.others[0].name == "bob.sqlite"
    assert window.open_path(random_npz(tmp_path / "b.npz", N + 1, seed=1))  # opened while it reads
    release.set()
    finished(window, qtbot)
    assert window.inspector.others == [] and "inspector" not in window.state.rankings
    assert window.inspector.remembered() == []  # nor remembered for the collection now open
    assert errors == []  # not even that the store it was reading has closed


def test_their_notes_are_shown_beside_their_labels_in_full_in_the_tooltip(window, qtbot, tmp_path):
    assert window.open_path(random_npz(tmp_path / "a.npz", N))
    window.labelling.label(1, [3])
    bob = other_store(window, tmp_path / "bob.sqlite", {3: 0})
    long = "a ghost of the bright star\nto the north-east, see the DR10 image before deciding"
    with open_label_store(window.state.collection, bob) as store:
        store.set_note(3, long, user="bob")
    finished(window, qtbot, window.inspector.compare_with(bob))
    window.state.set_current(3)
    shown = long.replace("\n", " ")[:39]  # on one line, shortened
    assert inspector_text(window) == f"bob.sqlite: 0 “{shown}…” · you: 1 — disagree"
    assert window.metadata.fields["Inspectors"].toolTip() == f"bob.sqlite's note: {long}"
    window.state.set_current(4)
    assert inspector_text(window) == "bob.sqlite: no label · you: no label"
    assert window.metadata.fields["Inspectors"].toolTip() == ""

"""Another inspector's labels, read from their label store or CSV file without touching it: only labels
a person set count; a store of other cutouts, a damaged one or one's own is refused naming the file."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from galview.core.training_labels import model_user
from galview.io import open_collection
from galview.io.label_schema import LabelStoreError
from galview.io.label_store import open_label_store
from galview.io.other_labels import person_labels, read_inspectors, read_other_labels, store_people

N = 30


def cutouts(path: Path, ids=None, labels=None) -> Path:
    rng = np.random.default_rng(0)
    arrays = {"images": rng.integers(0, 256, (N, 8, 8, 3), dtype=np.uint8)}
    if ids is not None:
        arrays["ids"] = np.array(ids)
    if labels is not None:
        arrays["labels"] = np.asarray(labels)
    np.savez(path, **arrays)
    return path


def digest(*paths: Path) -> list[str | None]:
    return [hashlib.sha256(p.read_bytes()).hexdigest() if p.exists() else None for p in paths]


@pytest.fixture
def data(tmp_path) -> Path:
    return cutouts(tmp_path / "c.npz", ids=[f"obj{i}" for i in range(N)], labels=np.zeros(N))


def test_a_store_open_in_another_galview_is_read_from_a_copy_and_left_as_it_was(data, tmp_path):
    with open_collection(data) as collection:
        theirs = tmp_path / "bob" / "c.npz.labels.sqlite"
        theirs.parent.mkdir()
        store = open_label_store(collection, theirs)  # kept open: their GalView is running
        store.set([1, 2, 3], 1, user="bob")
        store.set([4], -1, user="bob")
        store.set([5], 1, user=model_user("v7"))  # a model's label is not an inspector's
        files = [theirs, Path(f"{theirs}-wal"), Path(f"{theirs}-shm")]
        before = digest(*files)
        assert before[1] is not None  # the write-ahead log holds the labels not yet folded in
        other = read_other_labels(theirs, collection)
        assert digest(*files) == before
        store.set([6], 0, user="bob")  # their GalView goes on writing
        store.close()
    assert other.users == ("bob",) and other.name == "c.npz.labels.sqlite"
    assert other.description == "c.npz.labels.sqlite (labelled by bob)"
    expected = np.full(N, np.nan)
    expected[[1, 2, 3]], expected[4] = 1, -1  # not the file's zeros, not the model's 1 on cutout 5
    np.testing.assert_array_equal(other.values, expected)
    assert other.labelled == 4


def test_person_labels_leave_out_the_files_and_a_models(data, tmp_path):
    with open_collection(data) as collection, open_label_store(collection) as store:
        store.set([7], 1, user="alice")
        store.set([8], 1, user=model_user("v7"))
        values = person_labels(store)
    assert np.flatnonzero(np.isfinite(values)).tolist() == [7]


def test_a_galview_export_counts_only_what_they_set_and_a_plain_csv_every_row(data, tmp_path):
    with open_collection(data) as collection:
        with open_label_store(collection, tmp_path / "bob.sqlite") as store:
            store.set([2, 9], 1, user="bob")
            store.export(tmp_path / "bob.csv")  # every cutout: the file's 0 where bob set nothing
        exported = read_other_labels(tmp_path / "bob.csv", collection, ("artifact", "LSBG"))
        (tmp_path / "plain.csv").write_text("id,label\nobj3,LSBG\nobj4,artifact\nobj5,u\nobj6,\n")
        plain = read_other_labels(tmp_path / "plain.csv", collection, ("artifact", "LSBG"))
    assert np.flatnonzero(np.isfinite(exported.values)).tolist() == [2, 9] and exported.users == ()
    np.testing.assert_array_equal(plain.values[3:7], [1, 0, -1, np.nan])
    assert plain.labelled == 3


def test_a_store_of_other_cutouts_or_another_size_is_refused(data, tmp_path):
    other_ids = cutouts(tmp_path / "other.npz", ids=[f"x{i}" for i in range(N)])
    smaller = tmp_path / "small.npz"
    np.savez(smaller, images=np.zeros((N - 1, 8, 8, 3), dtype=np.uint8))
    with open_collection(other_ids) as c, open_label_store(c, tmp_path / "x.sqlite") as store:
        store.set([0], 1)
    with open_collection(smaller) as c, open_label_store(c, tmp_path / "small.sqlite") as store:
        store.set([0], 1)
    with open_collection(data) as collection:
        with pytest.raises(
            LabelStoreError,
            match=r"x.sqlite: was made for other cutouts: cutout 0 is 'x0' there and 'obj0' here \(1 of the 1 cutouts it labels differ",
        ):
            read_other_labels(tmp_path / "x.sqlite", collection)
        with pytest.raises(
            LabelStoreError, match=r"small.sqlite: was made for 29 cutouts, but this collection has 30"
        ):
            read_other_labels(tmp_path / "small.sqlite", collection)


def test_a_damaged_store_is_refused_naming_their_file_not_the_copy(data, tmp_path):
    theirs = tmp_path / "bob.sqlite"
    with open_collection(data) as collection:
        with open_label_store(collection, theirs) as store:
            store.set([1], 1)
        raw = bytearray(theirs.read_bytes())
        raw[4096:8192] = b"\xff" * 4096  # a page of the labels overwritten
        theirs.write_bytes(bytes(raw))
        before = digest(theirs)
        with pytest.raises(LabelStoreError) as caught:
            read_other_labels(theirs, collection)
        assert digest(theirs) == before
    message = str(caught.value)
    assert message.startswith(f"{theirs}: ") and "galview-other-labels" not in message
    theirs.write_bytes(b"\xff" * 16 + bytes(raw[16:]))  # its first bytes gone: not read as a CSV file
    with (
        open_collection(data) as collection,
        pytest.raises(LabelStoreError, match="bob.sqlite: does not begin as an SQLite file does"),
    ):
        read_other_labels(theirs, collection)


def test_ones_own_store_a_folder_and_a_missing_file_are_refused(data, tmp_path):
    with open_collection(data) as collection:
        with open_label_store(collection) as store:
            store.set([1], 1)
            own = store.path
        with pytest.raises(LabelStoreError, match="is this collection's own label store"):
            read_other_labels(own, collection, own_store=own)
        for where in (tmp_path, tmp_path / "nowhere.sqlite"):
            with pytest.raises(
                LabelStoreError, match="is not a file; expected another inspector's label store"
            ):
                read_other_labels(where, collection)
        (tmp_path / "bad.csv").write_text("index,label\n1,1\n99,1\n")
        with pytest.raises(LabelStoreError, match=r"bad.csv: line 3: index 99 is out of range"):
            read_other_labels(tmp_path / "bad.csv", collection)


def test_every_damaged_store_of_the_hostile_corpus_is_read_or_refused_in_one_line(tmp_path):
    """The corpus's label stores damaged inside SQLite (wrong types, missing tables, rows out of range…):
    read as another inspector's, each is either read or refused naming the file, never another error."""
    from galview.core.errors import UserFacingError
    from tests.hostile.cases_files import STORE, cases

    stores = [case for case in cases() if case.args == STORE]
    assert len(stores) >= 6
    for k, case in enumerate(stores):
        folder = tmp_path / str(k)
        folder.mkdir()
        data = case.make(folder)
        with open_collection(data) as collection:
            try:
                other = read_other_labels(folder / "damaged.sqlite", collection)
            except UserFacingError as exc:
                assert str(exc).startswith(str(folder / "damaged.sqlite")) and "\n" not in str(exc), case.name
            else:
                assert other.values.shape == (len(collection),), case.name


def test_each_persons_own_labels_in_a_shared_store_replay_their_done_actions(data):
    with open_collection(data) as collection, open_label_store(collection) as store:
        store.set([0, 1], 1, user="alice")
        store.set([1], 0, user="bob")  # bob overrules alice on 1: both keep their own say
        store.set([2], 1, user="bob")
        store.set([2], 0, user="bob")
        store.undo(user="bob")  # bob's second word on 2 undone: his first stands
        store.set([3], 1, user="alice")
        store.set([3], None, user="alice")  # alice cleared 3: she says nothing of it now
        store.set([4], 0, user=model_user("v7"))
        found = store.labels_by_user()
        current = store.current()
        people = store_people(store)
        some = [3, 2, 1, 2]  # any order, repeats too: one person's labels of a few cutouts, as replayed
        for user in found:
            np.testing.assert_array_equal(store.labels_of_user(user, some), found[user][some])
            np.testing.assert_array_equal(store.labels_of_user(user), found[user])
        assert np.isnan(store.labels_of_user("nobody", [0])).all()
    assert [(p.name, p.users, p.person) for p in people] == [
        ("alice", ("alice",), "alice"),
        ("bob", ("bob",), "bob"),
    ]
    np.testing.assert_array_equal(people[1].values, found["bob"])  # the model is nobody
    assert sorted(found) == ["alice", "bob", model_user("v7")]
    np.testing.assert_array_equal(found["alice"][:6], [1, 1, np.nan, np.nan, np.nan, np.nan])
    np.testing.assert_array_equal(found["bob"][:6], [np.nan, 0, 1, np.nan, np.nan, np.nan])
    np.testing.assert_array_equal(current[:5], [1, 0, 1, np.nan, 0])  # the store's own: the last word


def test_the_windows_job_reads_each_file_in_turn_saying_which_and_stops_when_cancelled(data, tmp_path):
    from galview.core.jobs import Cancelled, CancelToken

    files = []
    for who in ("bob", "carol"):
        files.append(tmp_path / f"{who}.csv")
        files[-1].write_text(f"index,label\n{len(who)},1\n")
    progress = []
    with open_collection(data) as collection:
        bob, carol = read_inspectors(collection, files, on_progress=progress.append)
        token = CancelToken()
        token.cancel()
        with pytest.raises(Cancelled):
            read_inspectors(collection, files, cancel=token)
    assert [p.text() for p in progress] == ["reading bob.csv: 0 / 2 files", "reading carol.csv: 1 / 2 files"]
    assert (bob.name, np.flatnonzero(np.isfinite(bob.values)).tolist()) == ("bob.csv", [3])
    assert (carol.name, np.flatnonzero(np.isfinite(carol.values)).tolist()) == ("carol.csv", [5])


def test_their_notes_come_with_their_labels_from_a_store_or_its_export(data, tmp_path):
    with open_collection(data) as collection:
        theirs = tmp_path / "bob.sqlite"
        with open_label_store(collection, theirs) as store:
            store.set([2], 1, user="bob")
            store.set_note(2, "tidal tail to the NE?", user="bob")
            store.set_note(7, "same object as #2", user="bob")  # a note, no label of theirs
            store.export(tmp_path / "bob.csv")
        from_store = read_other_labels(theirs, collection)
        from_csv = read_other_labels(tmp_path / "bob.csv", collection)
        (tmp_path / "bad.csv").write_text("id,label,note\nobj2,1,fine\nnobody,,lost\n")
        with_unknown = read_other_labels(tmp_path / "bad.csv", collection)
    expected = {2: "tidal tail to the NE?", 7: "same object as #2"}
    assert from_store.notes == expected and from_csv.notes == expected
    assert np.flatnonzero(np.isfinite(from_csv.values)).tolist() == [2]  # the note alone labels nothing
    assert with_unknown.notes == {2: "fine"}  # a note on a cutout not found is left out, not an error

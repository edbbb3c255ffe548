"""The label store: edits, undo/redo across restarts, provenance, refusals that leave files untouched,
location next to the data or in the user data dir, export/import round trips, label naming."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import shutil
import sqlite3
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from galview.core.label_values import UNSURE, label_name, origin, parse_label
from galview.io import label_paths, open_collection
from galview.io.label_choice import current_labels
from galview.io.label_store import (
    LabelStore,
    LabelStoreError,
    has_label_store,
    open_label_store,
    store_path_for,
)

ORIGINAL = np.array([0, 1, np.nan, 1, 0, np.nan, 1, 0, 1, 0], dtype=np.float64)


@pytest.fixture
def stores_beside_data(monkeypatch):
    """The default store location (beside the data); these tests work on copies in tmp_path."""
    monkeypatch.delenv("GALVIEW_LABEL_STORES", raising=False)


@pytest.fixture
def store(tmp_path):
    with LabelStore.open(
        tmp_path / "s.sqlite", 10, ids=[f"obj{i}" for i in range(10)], original=ORIGINAL
    ) as s:
        yield s


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def des_copy(shared_data, tmp_path) -> Path:
    target = tmp_path / "des" / "des_lsbg_dev.npz"
    target.parent.mkdir()
    shutil.copy(shared_data / "des_lsbg" / "des_lsbg_dev.npz", target)
    return target


# -- label values -------------------------------------------------------------------------


def test_label_names_and_parsing():
    names = [label_name(v) for v in (None, np.nan, -1, 0, 1, 7)]
    assert names == ["unlabelled", "unlabelled", "unsure", "artifact", "LSBG", "7"]
    texts = ("1", "0", "1.0", 1, "lsbg", "ARTIFACT", " u ", "Unsure", "-1")
    assert [parse_label(t) for t in texts] == [1, 0, 1, 1, 1, 0, UNSURE, UNSURE, UNSURE]
    assert parse_label("ring", classes=("none", "ring")) == 1
    for bad in ("2", "0.5", "galaxy", "", True):
        with pytest.raises(ValueError, match="is not a label; expected 0 or 'artifact'"):
            parse_label(bad)


def test_origin_rules():
    assert origin(1, None) == "original"
    assert origin(np.nan, np.nan) == "original"
    assert origin(None, 1) == "mine"
    assert origin(np.nan, -1) == "mine"
    assert origin(1, 0) == "changed"
    assert origin(1.0, 1) == "original"  # confirming the file's label


# -- edits, queries -------------------------------------------------------------------------


def test_set_get_and_provenance(store):
    assert np.isnan(store.current()).all()
    np.testing.assert_array_equal(store.effective(), ORIGINAL)
    before = time.time()
    action = store.set(2, 1, user="ana", model_id="m1", prob=0.91, seconds=2.5)
    assert isinstance(action, int)
    assert store.get(2) == {
        "index": 2,
        "id": "obj2",
        "label": 1,
        "user_label": 1,
        "original": None,
        "origin": "mine",
        "changed_at": pytest.approx(time.time(), abs=time.time() - before + 0.01),
    }
    store.set(1, 0)
    store.set(3, 1)
    assert (store.get(1)["origin"], store.get(1)["label"], store.get(1)["original"]) == ("changed", 0, 1)
    assert (store.get(3)["origin"], store.get(3)["label"]) == ("original", 1)
    assert store.get(0) == {
        "index": 0,
        "id": "obj0",
        "label": 0,
        "user_label": None,
        "original": 0,
        "origin": "original",
        "changed_at": None,
    }
    expected = np.full(10, np.nan)
    expected[[1, 2, 3]] = [0, 1, 1]
    np.testing.assert_array_equal(store.current(), expected)
    np.testing.assert_array_equal(store.effective(), [0, 0, 1, 1, 0, np.nan, 1, 0, 1, 0])
    assert store.counts() == {0: 5, 1: 4, None: 1}


def test_original_labels_kept_apart_and_never_overwritten(tmp_path):
    path = tmp_path / "s.sqlite"
    with LabelStore.open(path, 10, original=ORIGINAL) as s:
        s.set(list(range(10)), UNSURE)
        np.testing.assert_array_equal(s.original_labels(), ORIGINAL)
        np.testing.assert_array_equal(s.effective(), np.full(10, UNSURE))
        s.set([0, 1], None)  # clearing goes back to the file's label
        np.testing.assert_array_equal(s.effective()[:2], [0, 1])
        assert s.get(0)["changed_at"] is None
    # reopening with other originals does not replace the stored ones
    with LabelStore.open(path, 10, original=np.ones(10)) as s:
        np.testing.assert_array_equal(s.original_labels(), ORIGINAL)
        np.testing.assert_array_equal(s.effective(ORIGINAL * 0), [0, 0] + [UNSURE] * 8)


def test_batch_is_one_action_with_per_index_probabilities(store):
    action = store.set([4, 5, 6, 5], UNSURE, prob=[0.1, 0.2, 0.3], seconds=1.0, description="three")
    rows = store.history()
    assert [(r["idx"], r["action"], r["prob"], r["seconds"], r["kind"]) for r in rows] == [
        (4, action, 0.1, 1.0, "set"),
        (5, action, 0.2, 1.0, "set"),
        (6, action, 0.3, 1.0, "set"),
    ]
    assert store.undo() == [6, 5, 4]
    assert np.isnan(store.current()).all()


def test_a_cutout_the_model_has_not_scored_yet_is_labelled_with_no_probability(store):
    """While the collection is still being scored some cutouts have no probability (None or NaN)."""
    action = store.set([1, 2, 3], 1, prob=[0.8, None, float("nan")])
    rows = store.history()
    assert [(r["idx"], r["action"], r["prob"]) for r in rows] == [
        (1, action, 0.8),
        (2, action, None),
        (3, action, None),
    ]
    assert list(store.current()[1:4]) == [1, 1, 1]


def test_history_fields(store):
    t0 = time.time()
    store.set(7, 1, user="ana", model_id="deepshadows-sim", prob=0.73, seconds=4.25)
    store.set(7, UNSURE, user="ben")
    store.undo()
    rows = store.history(7)
    assert [(r["old"], r["new"], r["user"], r["kind"]) for r in rows] == [
        (None, 1, "ana", "set"),
        (1, UNSURE, "ben", "set"),
        (UNSURE, 1, rows[2]["user"], "undo"),
    ]
    first = rows[0]
    assert first["cutout_id"] == "obj7" and first["idx"] == 7
    assert (first["model_id"], first["prob"], first["seconds"]) == ("deepshadows-sim", 0.73, 4.25)
    assert t0 <= first["at"] <= rows[1]["at"] <= rows[2]["at"] <= time.time()
    assert [r["seq"] for r in rows] == sorted(r["seq"] for r in rows)
    assert rows[2]["user"]  # the login name (or "unknown"), never empty
    assert store.history(6) == []
    assert len(store.history()) == 3


def test_undo_redo_and_no_redo_after_new_edit(store):
    a = store.set(0, 1)
    b = store.set([0, 1], UNSURE)
    assert a < b
    assert store.undo() == [1, 0]
    assert (store.current()[0], np.isnan(store.current()[1])) == (1, True)
    assert store.undo() == [0]
    assert np.isnan(store.current()).all()
    assert store.undo() is None
    assert store.redo() == [0]
    assert store.redo() == [0, 1]
    assert store.redo() is None
    np.testing.assert_array_equal(store.current()[:2], [UNSURE, UNSURE])
    store.undo()
    store.set(9, 1)  # a new edit drops the undone action
    assert store.redo() is None
    np.testing.assert_array_equal(store.current()[[0, 1, 9]], [1, np.nan, 1])
    assert store.undo() == [9]
    assert store.undo() == [0]


def test_undo_and_redo_survive_restart(tmp_path):
    path = tmp_path / "s.sqlite"
    with LabelStore.open(path, 10, original=ORIGINAL) as s:
        s.set(3, 0)
        s.set(4, 1)
        s.undo()
    with LabelStore.open(path, 10) as s:
        assert s.redo() == [4]
        assert s.undo() == [4]
        assert s.undo() == [3]
    with LabelStore.open(path, 10) as s:
        np.testing.assert_array_equal(s.effective(), ORIGINAL)
        assert [r["kind"] for r in s.history()] == ["set", "set", "undo", "redo", "undo", "undo"]
        assert s.redo() == [3]
        assert s.get(3)["label"] == 0


def test_changed_since_sees_another_instance(tmp_path):
    path = tmp_path / "s.sqlite"
    with LabelStore.open(path, 10) as mine, LabelStore.open(path, 10) as theirs:
        seen = mine.last_seq()
        assert seen == 0
        theirs.set([8, 2], 1)
        assert mine.last_seq() == 2
        np.testing.assert_array_equal(mine.changed_since(seen), [2, 8])
        assert mine.get(8)["label"] == 1
        assert mine.changed_since(mine.last_seq()).size == 0


@pytest.mark.parametrize(
    ("indices", "label", "error"),
    [
        (10, 1, IndexError),
        (-1, 1, IndexError),
        (1.5, 1, TypeError),
        (1, 0.5, ValueError),
        (1, "1", ValueError),
    ],
)
def test_set_rejects_bad_input(store, indices, label, error):
    with pytest.raises(error):
        store.set(indices, label)
    assert store.last_seq() == 0


# -- refusals: the file is left byte-identical ------------------------------------------------


def test_store_for_another_number_of_cutouts_refused(tmp_path):
    path = tmp_path / "s.sqlite"
    LabelStore.open(path, 10).close()
    before = digest(path)
    with pytest.raises(
        LabelStoreError, match=r"s\.sqlite: was made for 10 cutouts, but this collection has 12"
    ):
        LabelStore.open(path, 12)
    assert digest(path) == before


@pytest.mark.parametrize("kind", ["random", "sqlite-header-then-random", "empty"])
def test_garbage_file_refused_and_untouched(tmp_path, kind):
    path = tmp_path / "labels.sqlite"
    noise = np.random.default_rng(1).bytes(8192)
    content = {"random": noise, "sqlite-header-then-random": b"SQLite format 3\x00" + noise, "empty": b""}[
        kind
    ]
    path.write_bytes(content)
    with pytest.raises(
        LabelStoreError, match=r"labels\.sqlite: is (not a GalView label store|empty|damaged)"
    ) as err:
        LabelStore.open(path, 10)
    assert "left untouched" in str(err.value)
    assert path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["labels.sqlite"]


@pytest.mark.parametrize("fraction", [0.02, 0.3, 0.6, 0.95, 0.995])
def test_truncated_store_refused_and_untouched(tmp_path, fraction):
    path = tmp_path / "s.sqlite"
    rng = np.random.default_rng(0)
    with LabelStore.open(path, 3000, original=rng.integers(0, 2, 3000)) as s:
        for _ in range(40):
            s.set(rng.integers(0, 3000, 25), int(rng.integers(0, 2)))
    whole = path.read_bytes()
    path.write_bytes(whole[: int(len(whole) * fraction)])
    before = digest(path)
    with pytest.raises(LabelStoreError, match=r"s\.sqlite: is (not a GalView label store or is )?damaged"):
        LabelStore.open(path, 3000)
    assert digest(path) == before


def test_newer_schema_refused(tmp_path):
    path = tmp_path / "s.sqlite"
    LabelStore.open(path, 10).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    before = digest(path)
    with pytest.raises(
        LabelStoreError, match=r"s\.sqlite: was written by a newer GalView \(label store version 99"
    ):
        LabelStore.open(path, 10)
    assert digest(path) == before


def test_other_sqlite_database_refused(tmp_path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    before = digest(path)
    with pytest.raises(
        LabelStoreError, match="other.db: is an SQLite database but not a GalView label store"
    ):
        LabelStore.open(path, 10)
    assert digest(path) == before


def test_locked_store_is_a_clear_error_and_loses_nothing(tmp_path):
    path = tmp_path / "s.sqlite"
    with LabelStore.open(path, 10, timeout=0.2) as s:
        s.set(1, 1)
        other = sqlite3.connect(path, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # another program holds the write lock
            started = time.perf_counter()
            with pytest.raises(
                LabelStoreError, match=r"s\.sqlite: is locked by another program \(waited 0.2 s\)"
            ):
                s.set(2, 0)
            assert time.perf_counter() - started >= 0.19
        finally:
            other.close()
        s.set(2, 0)
        assert [r["new"] for r in s.history()] == [1, 0]


def test_store_locked_exclusively_refused_on_open(tmp_path):
    path = tmp_path / "s.sqlite"
    LabelStore.open(path, 10).close()
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("PRAGMA locking_mode = EXCLUSIVE")
        other.execute("BEGIN EXCLUSIVE")  # not even a reader gets in now
        other.execute("UPDATE meta SET value = value WHERE key = 'n'")
        other.execute("COMMIT")
        with pytest.raises(LabelStoreError, match=r"s\.sqlite: is locked by another program"):
            LabelStore.open(path, 10, timeout=0.1)
    finally:
        other.close()
    with LabelStore.open(path, 10) as s:
        assert s.integrity() == "ok"


def test_unwritable_location_refused(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    for path in (tmp_path / "missing" / "s.sqlite", blocker / "s.sqlite"):
        with pytest.raises(LabelStoreError, match=r"s\.sqlite: cannot be created"):
            LabelStore.open(path, 10)
    assert blocker.read_text() == "x"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


def test_existing_file_is_never_replaced_by_a_new_store(tmp_path):
    path = tmp_path / "s.sqlite"
    with LabelStore.open(path, 10) as first:
        first.set(5, 1)
        with LabelStore.open(path, 10, original=np.zeros(10)) as second:
            assert second.get(5)["label"] == 1
            assert np.isnan(second.original_labels()).all()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".creating")]


# -- location ---------------------------------------------------------------------------------


def test_store_beside_real_des_file(shared_data, tmp_path, stores_beside_data):
    data = des_copy(shared_data, tmp_path)
    with open_collection(data) as collection, open_label_store(collection) as s:
        assert s.path == data.with_name("des_lsbg_dev.npz.labels.sqlite")
        assert s.n == 112 and s.source == str(data)
        np.testing.assert_array_equal(s.original_labels(), np.asarray(collection.labels, dtype=float))
        np.testing.assert_array_equal(s.ids(), collection.ids)
        flipped = 1 - int(collection.labels[7])
        s.set(7, flipped)
        assert s.get(7)["origin"] == "changed"
        shift = 1 if flipped == 0 else -1
        assert s.counts() == {0: 54 + shift, 1: 58 - shift}
    with open_collection(data) as collection, open_label_store(collection) as s:
        assert s.get(7)["origin"] == "changed"


def test_read_only_data_folder_uses_user_data_dir(
    shared_data, tmp_path, monkeypatch, isolated_home, stores_beside_data
):
    data = des_copy(shared_data, tmp_path)
    monkeypatch.setattr(label_paths, "_can_write", lambda directory: False)
    digest8 = hashlib.sha1(str(data.absolute()).encode()).hexdigest()[:8]
    expected = isolated_home / "data" / "labels" / f"des_lsbg_dev-{digest8}.sqlite"
    with open_collection(data) as collection:
        with open_label_store(collection) as s:
            assert s.path == expected
            s.set(3, UNSURE)
        assert sorted(p.name for p in data.parent.iterdir()) == ["des_lsbg_dev.npz"]
        # the folder becomes writable again: the labels made meanwhile are still the ones used
        monkeypatch.setattr(label_paths, "_can_write", lambda directory: True)
        with open_label_store(collection) as s:
            assert s.path == expected and s.get(3)["label"] == UNSURE


def test_existing_store_in_read_only_folder_is_not_hidden(
    shared_data, tmp_path, monkeypatch, stores_beside_data
):
    data = des_copy(shared_data, tmp_path)
    with open_collection(data) as collection:
        open_label_store(collection).close()
        monkeypatch.setattr(label_paths, "_can_write", lambda directory: False)
        with pytest.raises(
            LabelStoreError, match=r"des_lsbg_dev\.npz\.labels\.sqlite: is in a folder GalView cannot write"
        ):
            open_label_store(collection)


def test_can_write_really_writes(tmp_path):
    assert label_paths._can_write(tmp_path)
    assert not label_paths._can_write(tmp_path / "missing")
    assert list(tmp_path.iterdir()) == []


def test_folder_marked_read_only_is_left_alone_even_by_root(
    shared_data, tmp_path, isolated_home, stores_beside_data
):
    """chmod a-w says "do not write here": honoured whoever runs GalView (root could write)."""
    data = des_copy(shared_data, tmp_path)
    folder = data.parent
    folder.chmod(0o555)
    try:
        assert not label_paths._can_write(folder)
        with open_collection(data) as collection, open_label_store(collection) as s:
            assert s.path.parent == isolated_home / "data" / "labels"
            s.set(3, UNSURE)
        assert sorted(p.name for p in folder.iterdir()) == ["des_lsbg_dev.npz"]
    finally:
        folder.chmod(0o755)
    assert label_paths._can_write(folder)


def test_store_inside_image_folder_does_not_disturb_it(shared_data, tmp_path, stores_beside_data):
    folder = tmp_path / "dwarfs"
    shutil.copytree(shared_data / "legacy_dwarfs", folder)
    folder.chmod(0o755)  # copytree keeps the shared folder's read-only bits; a user's own folder is writable
    with open_collection(folder) as collection, open_label_store(collection) as s:
        assert s.path == folder / "galview-labels.sqlite" and s.n == 12
        s.set(0, 1)
    with open_collection(folder) as collection:  # the store's files are not taken for cutouts
        assert len(collection) == 12
    with LabelStore.open(tmp_path / "explicit.sqlite", 12) as s:
        assert s.last_seq() == 0


# -- export / import ---------------------------------------------------------------------------


def read_export(path: Path) -> dict[str, list]:
    if path.suffix == ".csv":
        with open(path, newline="") as handle:
            rows = list(csv.DictReader(handle))
        cells = {k: [r[k] for r in rows] for k in rows[0]}
        number = [float(v) if v else np.nan for v in cells["label"]]
        orig = [float(v) if v else np.nan for v in cells["original_label"]]
        return {
            "index": [int(v) for v in cells["index"]],
            "id": cells["id"],
            "label": number,
            "original_label": orig,
            "changed_at": cells["changed_at"],
            "note": cells["note"],
        }
    if path.suffix == ".fits":
        from astropy.table import Table

        t = Table.read(path, mask_invalid=False)
        columns = {k: np.asarray(t[k]) for k in t.colnames}
        return {k: list(np.char.decode(v) if v.dtype.kind == "S" else v) for k, v in columns.items()}
    import h5py

    with h5py.File(path, "r") as f:
        return {k: list(f[k].asstr()[()] if k == "id" else f[k][()]) for k in f}


@pytest.mark.parametrize("suffix", [".csv", ".fits", ".h5"])
def test_export_round_trip(store, tmp_path, suffix):
    store.set([1, 5], UNSURE)
    store.set(2, 1)
    out = store.export(tmp_path / f"labels{suffix}")
    got = read_export(out)
    assert sorted(got) == sorted(["index", "id", "label", "original_label", "changed_at", "note"])
    assert got["index"] == list(range(10))
    assert list(got["id"]) == [f"obj{i}" for i in range(10)]
    np.testing.assert_array_equal(got["label"], [0, UNSURE, 1, 1, 0, UNSURE, 1, 0, 1, 0])
    np.testing.assert_array_equal(got["original_label"], ORIGINAL)
    for i in range(10):
        when = store.get(i)["changed_at"]
        cell = got["changed_at"][i]
        if suffix == ".h5":
            assert (np.isnan(cell) and when is None) or cell == pytest.approx(when)
        elif when is None:
            assert str(cell).strip() == ""
        else:
            parsed = datetime.fromisoformat(str(cell).replace("Z", "+00:00"))
            assert parsed.tzinfo is not None and parsed.timestamp() == pytest.approx(when, abs=1e-3)


def test_export_unknown_suffix_refused(store, tmp_path):
    with pytest.raises(LabelStoreError, match=r"labels\.txt: unsupported export format"):
        store.export(tmp_path / "labels.txt")
    assert not [p for p in tmp_path.iterdir() if "labels" in p.name]


def test_import_csv_round_trip_is_one_undoable_action(store, tmp_path):
    store.set([1, 5], UNSURE)
    store.set(2, 1)
    exported = store.export(tmp_path / "labels.csv")
    with LabelStore.open(tmp_path / "fresh.sqlite", 10, ids=store.ids(), original=ORIGINAL) as fresh:
        assert fresh.import_csv(exported) == [1, 2, 5]  # unchanged rows change nothing
        np.testing.assert_array_equal(fresh.effective(), store.effective())
        assert {r["kind"] for r in fresh.history()} == {"import"}
        assert len({r["action"] for r in fresh.history()}) == 1
        assert fresh.undo() == [5, 2, 1]
        np.testing.assert_array_equal(fresh.effective(), ORIGINAL)


def test_import_csv_by_id_and_class_names(store, tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text("id,label\nobj4,LSBG\nobj5,u\nobj6,\nobj0,artifact\n")
    assert store.import_csv(path) == [4, 5]
    assert (store.get(4)["label"], store.get(5)["label"], store.get(6)["user_label"]) == (1, UNSURE, None)


def test_an_import_whose_store_is_closed_right_after_it_wrote_says_what_it_wrote(
    store, tmp_path, monkeypatch
):
    """The window closes the store when another collection opens; an import that had committed then must
    not fail reading its own action back (it said "nothing imported" of labels it had written)."""
    path = tmp_path / "mine.csv"
    path.write_text("index,label\n4,1\n6,0\n")
    set_many = store.set_many

    def then_closed(*args, **kwargs):
        action = set_many(*args, **kwargs)
        store.close()  # another collection was opened in the window
        return action

    monkeypatch.setattr(store, "set_many", then_closed)
    assert store.import_csv(path) == [4, 6]
    with LabelStore.open(tmp_path / "s.sqlite", 10) as again:
        assert (again.get(4)["label"], again.get(6)["label"]) == (1, 0)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("index,label\n1,1\n2,maybe\n", r"line 3: 'maybe' is not a label"),
        ("index,label\n1,1\n99,0\n", r"line 3: index 99 is out of range"),
        ("index,label\n1,1\n1,0\n", r"line 3: cutout 1 was already given on line 2"),
        ("id,label\nobj1,1\n\nnope,1\n", r"line 4: no cutout has id 'nope'"),
        ("index,id,label\n1,obj2,1\n", r"line 2: cutout 1 has id 'obj1' in the store, not 'obj2'"),
        ("cutout,class\n1,1\n", r"needs a header with columns"),
    ],
)
def test_import_csv_bad_rows_name_file_and_line(store, tmp_path, text, problem):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(LabelStoreError, match=r"bad\.csv: " + problem):
        store.import_csv(path)
    assert store.last_seq() == 0  # nothing imported


def test_import_missing_file(store, tmp_path):
    with pytest.raises(LabelStoreError, match=r"nothing\.csv: cannot be read"):
        store.import_csv(tmp_path / "nothing.csv")


def test_closed_store_says_so(tmp_path):
    s = LabelStore.open(tmp_path / "s.sqlite", 10)
    s.close()
    with pytest.raises(ValueError, match=r"s\.sqlite is closed"):
        s.set(1, 1)


def test_ids_and_originals_are_read_only_when_creating(tmp_path):
    calls = []

    def ids():
        calls.append("ids")
        return [f"x{i}" for i in range(10)]

    LabelStore.open(tmp_path / "s.sqlite", 10, ids=ids, original=lambda: ["LSBG", "artifact"] * 5).close()
    with LabelStore.open(tmp_path / "s.sqlite", 10, ids=ids) as s:
        assert calls == ["ids"]  # not called again for an existing store
        assert s.ids()[3] == "x3"
        np.testing.assert_array_equal(s.original_labels(), [1, 0] * 5)  # text labels by class name


def test_a_collection_without_ids_has_its_indices_as_ids_in_its_store(tmp_path):
    """SQLite counts them out (a million: 0.3 s less in the window's thread at the first label)."""
    from galview.io import open_collection

    np.save(tmp_path / "plain.npy", np.zeros((1200, 4, 4, 3), np.uint8))
    with open_collection(tmp_path / "plain.npy") as plain:
        assert not plain.has_ids
        with open_label_store(plain, tmp_path / "plain.sqlite") as s:
            np.testing.assert_array_equal(s.ids(), plain.ids)  # "0", "1", … "1199", as the collection says
            assert s.ids().dtype.kind == "U" and s.ids()[1199] == "1199"
    named = tmp_path / "named.npz"
    np.savez(named, images=np.zeros((3, 4, 4, 3), np.uint8), ids=np.array(["a", "b", "c"]))
    with open_collection(named) as collection, open_label_store(collection, tmp_path / "named.sqlite") as s:
        assert collection.has_ids and s.ids().tolist() == ["a", "b", "c"]


# -- the store belongs to one collection: fingerprint, refusal, re-binding -----------------------


def npz_collection(path: Path, seed: int, n: int = 10, labels=True) -> Path:
    """A small collection file; another seed gives other cutouts of the same size."""
    images = np.random.default_rng(seed).integers(0, 256, (n, 8, 8, 3), dtype=np.uint8)
    if labels:
        np.savez(path, images=images, labels=np.arange(n) % 2)
    else:
        np.savez(path, images=images)
    return path


@pytest.fixture
def two_collections(tmp_path):
    """Two files of 10 cutouts each, with different pixels."""
    return npz_collection(tmp_path / "a.npz", 1), npz_collection(tmp_path / "b.npz", 2)


def test_store_of_another_collection_of_the_same_size_is_refused_and_untouched(tmp_path, two_collections):
    from galview.core.collection import fingerprint

    a, b = two_collections
    path = tmp_path / "s.sqlite"
    with open_collection(a) as ca, open_label_store(ca, path) as s:
        assert s.fingerprint == fingerprint(ca) and s.source == str(a)
        s.set(3, 0)
        fp_a = fingerprint(ca)
    before = digest(path)
    with open_collection(b) as cb:
        fp_b = fingerprint(cb)
        assert fp_a != fp_b and fp_a.split(" #")[0] == fp_b.split(" #")[0]  # same count, shape, dtype
        with pytest.raises(LabelStoreError) as caught:
            open_label_store(cb, path)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{path}: belongs to {a} ({fp_a}), not to {b} ({fp_b})")
    assert "--force" in message
    assert digest(path) == before
    assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0
    with open_collection(a) as ca, open_label_store(ca, path) as s:  # still its own collection's
        assert s.get(3)["label"] == 0 and s.rebindings() == []
    assert digest(path) == before  # and opening it for the right collection writes nothing


def test_force_rebinds_records_it_and_undo_stops_there(tmp_path, two_collections):
    from galview.core.collection import fingerprint

    a, b = two_collections
    path = tmp_path / "s.sqlite"
    with open_collection(a) as ca, open_label_store(ca, path) as s:
        s.set(1, 1)
        s.set(2, 1)
        assert s.undo() == [2]  # an undone action: redo would be possible here
        fp_a = fingerprint(ca)
    with open_collection(b) as cb:
        t0 = time.time()
        with open_label_store(cb, path, force=True) as s:
            assert (s.source, s.fingerprint) == (str(b), fingerprint(cb))
            (row,) = s.rebindings()
            assert (row["old_source"], row["old_fingerprint"]) == (str(a), fp_a)
            assert (row["source"], row["fingerprint"], row["after_action"]) == (str(b), fingerprint(cb), 2)
            assert row["user"] and t0 <= row["at"] <= time.time()
            assert s.get(1)["label"] == 1  # the labels stay; the action before the re-binding stays done
            assert s.redo() is None and s.undo() is None  # neither reaches back past the re-binding
            s.set(4, 0)
            assert s.undo() == [4] and s.undo() is None
            assert [r["kind"] for r in s.history()] == ["set", "set", "undo", "set", "undo"]
        before = digest(path)
        with open_label_store(cb, path) as s:  # bound to b now: opens without force, writes nothing
            assert len(s.rebindings()) == 1
        assert digest(path) == before
    with open_collection(a) as ca, pytest.raises(LabelStoreError, match=r"belongs to .*b\.npz"):
        open_label_store(ca, path)
    assert digest(path) == before
    with contextlib.closing(
        sqlite3.connect(path)
    ) as conn:  # still a version-1 store that older GalViews open
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_store_without_fingerprint_gets_one_on_first_open(tmp_path, two_collections):
    from galview.core.collection import fingerprint

    a, b = two_collections
    path = tmp_path / "s.sqlite"
    with LabelStore.open(path, 10, source=str(a)) as s:  # as every store was made before fingerprints
        s.set(5, UNSURE)
        assert s.fingerprint is None
    with contextlib.closing(sqlite3.connect(path)) as conn:
        assert conn.execute("SELECT value FROM meta WHERE key = 'fingerprint'").fetchone() is None
    before = digest(path)
    with open_collection(a) as ca, open_label_store(ca, path) as s:
        assert s.fingerprint == fingerprint(ca)
        assert s.get(5)["label"] == UNSURE and s.last_seq() == 1 and s.rebindings() == []
    assert digest(path) != before  # one write: the fingerprint
    with contextlib.closing(sqlite3.connect(path)) as conn:
        recorded = conn.execute("SELECT value FROM meta WHERE key = 'fingerprint'").fetchone()[0]
    before = digest(path)
    with open_collection(a) as ca, open_label_store(ca, path) as s:  # opens again, writes nothing
        assert recorded == fingerprint(ca) and s.get(5)["label"] == UNSURE
    with LabelStore.open(path, 10) as s:  # by path, without a collection: no check
        assert s.fingerprint == recorded
    assert digest(path) == before
    with open_collection(b) as cb, pytest.raises(LabelStoreError, match="belongs to"):
        open_label_store(cb, path)


def test_has_label_store_creates_nothing(tmp_path, two_collections, isolated_home):
    a, _ = two_collections
    stores = isolated_home / "label_stores"
    with open_collection(a) as ca:
        assert not has_label_store(ca) and not stores.exists()
        assert not has_label_store(ca, tmp_path / "x.sqlite") and not (tmp_path / "x.sqlite").exists()
        open_label_store(ca).close()
        assert has_label_store(ca) and stores.is_dir()


def test_label_store_implements_the_protocol(store):
    import inspect

    from galview.core.label_api import LabelStoreAPI

    assert isinstance(store, LabelStoreAPI)
    assert not isinstance(object(), LabelStoreAPI)
    for name, member in vars(LabelStoreAPI).items():
        if name.startswith("_") or not callable(member):
            continue
        wanted = list(inspect.signature(member).parameters)
        assert list(inspect.signature(getattr(LabelStore, name)).parameters)[: len(wanted)] == wanted, name


# -- one rule for which labels to use ---------------------------------------------------------


def test_current_labels_in_its_three_modes(tmp_path, two_collections):
    a, _ = two_collections
    file_labels = np.arange(10) % 2
    with open_collection(a) as ca:
        path = store_path_for(ca.source)
        choice = current_labels(ca)  # auto, no store: the file's, and no store is made
        assert (choice.source, choice.path, choice.changed, choice.unsure) == ("file", None, 0, 0)
        np.testing.assert_array_equal(choice.labels, file_labels)
        assert choice.labels.dtype == np.float64 and not path.exists()
        choice = current_labels(ca, source="store")  # store: made when missing
        assert (choice.source, choice.path, choice.changed) == ("store", path, 0) and path.exists()
        with open_label_store(ca) as s:
            s.set([0, 1], UNSURE)
            s.set(2, 0)
        choice = current_labels(ca)  # auto, a store: the store's
        expected = file_labels.astype(float)
        expected[[0, 1, 2]] = [UNSURE, UNSURE, 0]
        assert (choice.source, choice.path, choice.changed, choice.unsure) == ("store", path, 3, 2)
        np.testing.assert_array_equal(choice.labels, expected)
        choice = current_labels(ca, source="file")  # file: the file's even with a store
        assert (choice.source, choice.changed) == ("file", 0)
        np.testing.assert_array_equal(choice.labels, file_labels)
        other = tmp_path / "other.sqlite"
        assert current_labels(ca, other).source == "file" and not other.exists()
        with pytest.raises(ValueError, match="labels source must be one of auto, file, store"):
            current_labels(ca, source="mine")
    with open_collection(npz_collection(tmp_path / "bare.npz", 3, labels=False)) as bare:
        choice = current_labels(bare)
        assert choice.source == "none" and not choice.any and choice.labels.shape == (10,)


def test_current_labels_refuses_a_store_of_another_collection(tmp_path, two_collections):
    a, b = two_collections
    path = tmp_path / "s.sqlite"
    with open_collection(a) as ca:
        open_label_store(ca, path).close()
    with open_collection(b) as cb:
        with pytest.raises(LabelStoreError, match="belongs to"):
            current_labels(cb, path)
        assert current_labels(cb, path, force=True).source == "store"


# -- undo: store-wide, or one user's -----------------------------------------------------------


def replayed(store) -> np.ndarray:
    """User labels as the replay of the done actions in action order (what undo must keep)."""
    with contextlib.closing(sqlite3.connect(store.path)) as conn:
        rows = conn.execute(
            "SELECT h.idx, h.new FROM history h JOIN actions a ON a.action = h.action "
            "WHERE a.state = 'done' AND h.kind IN ('set', 'import') ORDER BY h.action, h.seq"
        ).fetchall()
    out = np.full(store.n, np.nan)
    for i, new in rows:
        out[i] = np.nan if new is None else new
    return out


def test_store_wide_undo_takes_the_last_action_whoever_made_it(store):
    store.set(0, 1, user="ana")
    store.set(1, 0, user="ben")
    assert store.undo() == [1]  # ben's, though ana asks nothing
    assert store.undo() == [0]
    assert store.undo() is None
    assert store.redo() == [0] and store.redo() == [1]
    np.testing.assert_array_equal(store.current()[:2], [1, 0])
    np.testing.assert_array_equal(store.current(), replayed(store))


def test_undo_of_one_user_keeps_what_others_set_later(store):
    def check():
        np.testing.assert_array_equal(store.current(), replayed(store))

    store.set([0, 1], 1, user="ana")
    store.set(1, 0, user="ben")
    store.set(2, 1, user="ana")
    assert store.undo(user="ana") == [2]
    check()
    assert store.undo(user="ana") == [0]  # cutout 1 keeps ben's later label
    np.testing.assert_array_equal(store.current()[:3], [np.nan, 0, np.nan])
    check()
    assert store.undo(user="ana") is None and store.undo(user="carl") is None
    assert store.history()[-1]["user"] == "ana" and store.history()[-1]["kind"] == "undo"
    assert store.undo(user="ben") == [1]  # back to no label: ana's action on it is undone
    assert np.isnan(store.current()).all()
    check()
    assert store.redo(user="ana") == [0, 1]  # ana's first action again, now decisive for cutout 1
    np.testing.assert_array_equal(store.current()[:3], [1, 1, np.nan])
    check()
    assert store.redo(user="ben") == [1]
    np.testing.assert_array_equal(store.current()[:3], [1, 0, np.nan])
    check()


def test_undo_of_one_user_when_others_relabelled_everything_changes_nothing(store):
    store.set(5, 1, user="ana")
    store.set(5, 0, user="ben")
    assert store.undo(user="ana") == []  # the action is undone, but ben's label stays
    assert store.current()[5] == 0 and store.redo(user="ana") == []
    np.testing.assert_array_equal(store.current(), replayed(store))
    assert store.undo() == [5]  # store-wide: ben's; then ana's label is the replay
    assert store.current()[5] == 1
    np.testing.assert_array_equal(store.current(), replayed(store))


def test_undo_of_one_user_goes_back_to_the_newest_older_label(store):
    store.set(3, 0, user="ben")
    store.set(3, UNSURE, user="carl")
    store.set(3, 1, user="ana")
    store.set(4, 1, user="ben")  # ana's action is not the store's last
    assert store.undo(user="ana") == [3]
    assert store.current()[3] == UNSURE  # carl's, the newest label set before ana's
    np.testing.assert_array_equal(store.current(), replayed(store))
    assert store.undo(user="carl") == [3] and store.current()[3] == 0
    np.testing.assert_array_equal(store.current(), replayed(store))


def test_the_windows_import_and_export_jobs_say_their_steps_and_a_cancel_writes_nothing(store, tmp_path):
    from galview.core.jobs import Cancelled, CancelToken
    from galview.io.label_export import export_labels, import_csv

    theirs = tmp_path / "theirs.csv"
    theirs.write_text("index,label\n2,1\n3,0\n")
    stopped = CancelToken()
    stopped.cancel()
    with pytest.raises(Cancelled):
        import_csv(store, theirs, cancel=stopped)
    with pytest.raises(Cancelled):
        export_labels(store, tmp_path / "out.csv", cancel=stopped)
    assert store.history() == [] and list(tmp_path.glob("*out.csv*")) == []
    steps = []
    assert import_csv(store, theirs, on_progress=steps.append, cancel=CancelToken()) == [2, 3]
    export_labels(store, tmp_path / "out.csv", on_progress=steps.append)
    assert [step.text() for step in steps] == [
        "reading theirs.csv: 0 / 2 steps",
        "writing 2 labels: 1 / 2 steps",
        "reading the labels: 0 / 2 steps",
        f"writing {len(ORIGINAL)} rows to out.csv: 1 / 2 steps",
    ]


def test_an_import_never_overwrites_a_label_set_while_it_read_its_file(store, tmp_path, monkeypatch):
    from galview.io import label_export

    theirs = tmp_path / "theirs.csv"
    theirs.write_text("index,label\n2,1\n3,1\n4,1\n")
    reading = label_export.csv_labels

    def meanwhile(*args, **kwargs):  # the window labels cutout 3 while the import reads
        found = reading(*args, **kwargs)
        store.set([3], 0, user="me")
        return found

    monkeypatch.setattr(label_export, "csv_labels", meanwhile)
    assert label_export.import_csv(store, theirs) == [2, 4]  # 3 keeps the label set after the import began
    assert store.current()[3] == 0 and store.current()[2] == store.current()[4] == 1
    seq = store.last_seq()
    store.set([4], 0, user="me")
    assert store.set_many([(4, 1)], kind="import", unless_changed_since=seq) is None  # nothing left to write
    assert store.current()[4] == 0 and store.history()[-1]["user"] == "me"


def test_any_text_is_kept_as_an_id(tmp_path):
    """The ids go to SQLite as one JSON array: quotes, backslashes, line breaks, other scripts, empty
    ids and text that is not valid UTF-8 (mended) come back as they were given."""
    ids = ["J1", 'q"uote', "back\\slash", "line\nbreak", "", "ngc ü 星系", "ngc\udce9.png", "7"]
    with LabelStore.open(tmp_path / "a.sqlite", len(ids), ids=np.array(ids)) as store:
        assert store.ids().tolist() == [*ids[:6], "ngc\ufffd.png", "7"]

"""Damaged label stores, hostile labels and odd names reach the user as one-line errors (issue 11, section 6).

A store edited by hand or damaged is refused on opening where that costs no pass over the store, and
otherwise when the damaged row is read; either way a :class:`LabelStoreError` naming the file, which
is left untouched.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from galview.core.errors import CollectionError
from galview.io import label_paths, open_collection
from galview.io.label_store import LabelStore, LabelStoreError, open_label_store, store_path_for
from tests.hostile import cases_files
from tests.io.btree_pages import table_pages

N = 6


@pytest.fixture
def store_path(tmp_path) -> Path:
    path = tmp_path / "store.sqlite"
    original = np.array([0, 1, np.nan, 1, 0, 1])
    with LabelStore.open(path, N, ids=[f"obj{i}" for i in range(N)], original=original) as store:
        store.set(1, 0)
        store.set([2, 3], 1)
    return path


def _damage(path: Path, *statements: str) -> str:
    conn = sqlite3.connect(path)
    try:
        for statement in statements:
            conn.execute(statement)
        conn.commit()
    finally:
        conn.close()
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _one_line(error: LabelStoreError, path: Path, *fragments: str) -> None:
    message = str(error)
    assert message.startswith(f"{path}: is damaged (") and "\n" not in message, message
    assert message.endswith("it was left untouched")
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


# -- refused on opening ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statement", "fragment"),
    [
        ("UPDATE labels SET label = 'LSBG' WHERE idx = 1", "holds the label 'LSBG' at index 1"),
        ("UPDATE labels SET label = 1e19 WHERE idx = 1", "holds the label 1.0e+19 at index 1"),
        ("UPDATE labels SET label = 0.5 WHERE idx = 4", "holds the label 0.5 at index 4"),
        ("UPDATE labels SET label = -9 WHERE idx = 4", "holds the label -9 at index 4"),
        ("UPDATE labels SET label = x'00' WHERE idx = 4", "holds the label X'00' at index 4"),
        ("UPDATE labels SET idx = 99 WHERE idx = 5", "labels table has indices 0 to 99; expected 0 to 5"),
        ("DELETE FROM labels WHERE idx = 0", "labels table has indices 1 to 5"),
        ("UPDATE original SET idx = -3 WHERE idx = 0", "original table has indices -3 to 5"),
        ("UPDATE meta SET value = 'four' WHERE key = 'n'", "its number of cutouts is 'four'"),
    ],
)
def test_damaged_store_is_refused_on_opening_and_left_untouched(store_path, statement, fragment):
    before = _damage(store_path, statement)
    with pytest.raises(LabelStoreError) as info:
        LabelStore.open(store_path, N)
    _one_line(info.value, store_path, fragment)
    assert hashlib.sha256(store_path.read_bytes()).hexdigest() == before


# -- refused when the damaged row is read ------------------------------------------------------------


def test_deleted_row_is_refused_when_read_or_set(store_path):
    _damage(store_path, "DELETE FROM labels WHERE idx = 2")
    with LabelStore.open(store_path, N) as store:
        store.set(0, 1)  # the rows that are there still work
        for call in (
            lambda: store.set(2, 1),
            store.ids,
            lambda: store.get(2),
            lambda: store.export(store_path.with_suffix(".csv")),
        ):
            with pytest.raises(LabelStoreError) as info:
                call()
            _one_line(info.value, store_path)
        assert "no row for cutout 2" in str(pytest.raises(LabelStoreError, store.set, 2, 1).value)


def test_blob_id_is_refused_when_read_or_set(store_path):
    _damage(store_path, "UPDATE labels SET cutout_id = x'ff00fe' WHERE idx = 3")
    with LabelStore.open(store_path, N) as store:
        with pytest.raises(LabelStoreError) as info:
            store.set(3, 0)
        _one_line(info.value, store_path, "an id that is not text at index 3")
        with pytest.raises(LabelStoreError) as info:
            store.ids()
        _one_line(info.value, store_path, "an id stored as bytes at index 3")
        with pytest.raises(LabelStoreError):
            store.get(3)


def test_text_among_the_files_labels_is_refused_when_read(store_path):
    _damage(store_path, "UPDATE original SET label = 'ring' WHERE idx = 0")
    with LabelStore.open(store_path, N) as store:
        with pytest.raises(LabelStoreError) as info:
            store.effective()
        _one_line(info.value, store_path, "original table holds the label 'ring' at index 0")


def test_damaged_history_is_refused_by_history_and_undo(store_path):
    _damage(store_path, "UPDATE history SET new = 'LSBG' WHERE idx = 3")
    with LabelStore.open(store_path, N) as store:
        with pytest.raises(LabelStoreError) as info:
            store.history()
        _one_line(info.value, store_path, "history row")
        with pytest.raises(LabelStoreError) as info:
            store.undo()
        _one_line(info.value, store_path, "its history holds the label 'LSBG' for cutout 3")
        assert store.current()[3] == 1  # the refused undo changed nothing


def test_history_row_of_a_cutout_out_of_range_is_refused_by_undo(store_path):
    _damage(store_path, "UPDATE history SET idx = 77 WHERE idx = 3")
    with LabelStore.open(store_path, N) as store:
        with pytest.raises(LabelStoreError) as info:
            store.undo()
        _one_line(info.value, store_path, "no row for cutout 77")


# -- labels from the collection that cannot be stored --------------------------------------------------


class _Labelled:
    """Just what open_label_store needs from a collection."""

    def __init__(self, source, labels, n=3):
        self.source, self.labels, self._n = Path(source), labels, n
        self.ids, self.has_ids = np.array([f"c{i}" for i in range(n)]), True
        self._cache = {"fingerprint": f"{n}×fake"}

    def __len__(self):
        return self._n


def test_file_label_of_1e19_is_a_clean_error_naming_the_collection(tmp_path):
    collection = _Labelled(tmp_path / "cutouts.npz", np.array([0.0, 1e19, 1.0]))
    with pytest.raises(CollectionError) as info:
        open_label_store(collection, tmp_path / "s.sqlite")
    assert str(info.value) == (
        f"{tmp_path / 'cutouts.npz'}: cutout 1 has the label 1e+19; expected a class index "
        "(a whole number, at most 2,147,483,647)"
    )
    assert not (tmp_path / "s.sqlite").exists()


def test_two_dimensional_file_labels_are_a_clean_error(tmp_path):
    collection = _Labelled(tmp_path / "cutouts.h5", np.zeros((3, 2)))
    with pytest.raises(
        CollectionError, match=r"has labels of shape \(3, 2\); expected one per cutout, shape \(3,\)"
    ):
        open_label_store(collection, tmp_path / "s.sqlite")


# -- names -------------------------------------------------------------------------------------------


def test_store_of_a_254_character_file_name_falls_back_to_the_data_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("GALVIEW_LABEL_STORES", raising=False)
    path = cases_files._png_long_name(tmp_path)
    assert len(path.name) == 254
    store = store_path_for(path)
    assert store.parent == label_paths.fallback_store_path(path).parent
    assert len(store.name) <= 255 and store.name.startswith("g" * 100 + "-")
    with open_collection(path) as collection, open_label_store(collection) as labels:
        labels.set(0, 1)
        assert labels.path == store


def test_store_of_a_254_character_file_name_in_the_stores_folder(tmp_path):
    path = cases_files._png_long_name(tmp_path)
    with open_collection(path) as collection, open_label_store(collection) as labels:
        labels.set(0, 1)
        assert len(labels.path.name) <= 255


def test_store_keeps_its_name_when_it_fits(tmp_path):
    name = store_path_for(tmp_path / "cutouts.npz").name
    digest = hashlib.sha1(str((tmp_path / "cutouts.npz").absolute()).encode()).hexdigest()[:8]
    assert name == f"cutouts-{digest}.sqlite"  # as before issue 11: existing stores are found


def test_store_of_a_folder_with_non_utf8_names_holds_valid_text(tmp_path, monkeypatch):
    monkeypatch.delenv("GALVIEW_LABEL_STORES", raising=False)
    folder = cases_files._png_non_utf8_name(tmp_path)
    renamed = cases_files._raw_path(tmp_path, b"data-\xff")
    folder.rename(renamed)
    with open_collection(renamed) as collection, open_label_store(collection) as store:
        store.set(0, 1)
        assert store.ids()[0] == "ngc\ufffd\ufffd-obj"
        assert store.source.endswith("data-\ufffd")
        store.export(tmp_path / "out.csv")
    assert "ngc\ufffd\ufffd-obj" in (tmp_path / "out.csv").read_text(encoding="utf-8")


# -- bytes that are not UTF-8 (found by mutation fuzzing) -------------------------------------------


def _not_utf8(path: Path, *statements: str) -> None:
    """Run ``statements`` in which ``BAD`` stands for a text value holding the byte 0xBE (not UTF-8)."""
    _damage(path, *(s.replace("BAD", "CAST(x'41be42' AS TEXT)") for s in statements))


def test_schema_text_that_is_not_utf8_is_refused_on_opening(store_path):
    raw = bytearray(store_path.read_bytes())
    at = raw.find(b"CREATE INDEX labels_user")
    assert at > 0
    raw[at + 5] = 0xBE  # SQLite's own error message then quotes a byte Python cannot decode
    store_path.write_bytes(bytes(raw))
    with pytest.raises(LabelStoreError) as info:
        LabelStore.open(store_path, N)
    assert str(info.value).startswith(f"{store_path}: ") and "\n" not in str(info.value)
    assert "damaged" in str(info.value) and str(info.value).endswith("it was left untouched")


def test_meta_text_that_is_not_utf8_is_refused_on_opening(store_path):
    _not_utf8(store_path, "UPDATE meta SET value = BAD WHERE key = 'source'")
    with pytest.raises(LabelStoreError) as info:
        LabelStore.open(store_path, N)
    _one_line(info.value, store_path, "meta entry source is not valid text")


def test_id_that_is_not_utf8_is_refused_when_read_or_set(store_path):
    _not_utf8(store_path, "UPDATE labels SET cutout_id = BAD WHERE idx = 3")
    with LabelStore.open(store_path, N) as store:
        store.set(0, 1)  # the rows that are intact still work
        with pytest.raises(LabelStoreError) as info:
            store.set(3, 0)
        _one_line(info.value, store_path, "an id that is not text at index 3")
        with pytest.raises(LabelStoreError) as info:
            store.ids()
        _one_line(info.value, store_path, "an id that is not valid text at index 3")
        assert store.current()[3] == 1  # the label itself is untouched and readable


def test_history_text_that_is_not_utf8_still_shows_the_history(store_path):
    _not_utf8(store_path, "UPDATE history SET user = BAD WHERE idx = 1")
    with LabelStore.open(store_path, N) as store:
        rows = [row for row in store.history() if row["idx"] == 1]
        assert rows and rows[0]["user"] == "A\ufffdB"  # shown as damaged, not an exception
        assert store.undo() is not None  # and the last action can still be undone


def test_damaged_schema_text_met_when_writing_is_refused_and_rolled_back(store_path):
    raw = bytearray(store_path.read_bytes())
    at = raw.find(b"'undone'")
    assert at > 0
    raw[at + 6] = 0xF5  # the CHECK constraint of actions.state; SQLite's own error then quotes the byte
    store_path.write_bytes(bytes(raw))
    with LabelStore.open(store_path, N) as store:
        before = store.current()
        with pytest.raises(LabelStoreError) as info:
            store.undo()
        _one_line(info.value, store_path, "damaged text")
        np.testing.assert_array_equal(store.current(), before)  # the refused undo changed nothing


def test_a_damaged_store_with_a_write_ahead_log_is_refused_with_both_files_as_they_were(tmp_path):
    """After a crash the newest labels are in the -wal file; refusing the store must not fold the log
    into the damaged file (closing a read-write connection would): both stay byte for byte."""
    import shutil

    n = 3000
    path, crashed = tmp_path / "store.sqlite", tmp_path / "crashed.sqlite"
    with LabelStore.open(path, n, ids=[f"c{i}" for i in range(n)]) as store:
        store.set_many([(i, i % 2) for i in range(n)])  # in the log until the store is closed
        shutil.copy(path, crashed)
        shutil.copy(f"{path}-wal", f"{crashed}-wal")
    page = max(sum(table_pages(path, "original"), []))
    with open(crashed, "r+b") as handle:  # a page the log does not hold
        handle.seek((page - 1) * 4096)
        handle.write(bytes(4096))
    before = hashlib.sha256(crashed.read_bytes()).hexdigest()
    log_before = Path(f"{crashed}-wal").read_bytes()
    with pytest.raises(LabelStoreError, match="is damaged"):
        LabelStore.open(crashed, n)
    assert hashlib.sha256(crashed.read_bytes()).hexdigest() == before
    assert Path(f"{crashed}-wal").read_bytes() == log_before

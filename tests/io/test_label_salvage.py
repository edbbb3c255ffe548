"""Recovering the readable labels of a damaged label store (``galview labels salvage``).

The stores here are damaged the way disks damage them: whole pages zeroed (found with SQLite's
``dbstat``), the header's magic string overwritten, the newest commits only in the write-ahead log.
"""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from galview.io import open_collection
from galview.io.label_salvage import salvage_store
from galview.io.label_schema import DamagedLabelStore
from galview.io.label_store import LabelStoreError, open_label_store
from tests.io.btree_pages import table_pages

N = 3000  # enough cutouts for the labels table and the history to span many pages


def expected_labels() -> np.ndarray:
    """Every cutout labelled 0/1, then every 7th set to unsure, then cutout 5 cleared."""
    values = np.array([-1 if i % 7 == 0 else i % 2 for i in range(N)], dtype=float)
    values[5] = np.nan
    return values


@pytest.fixture
def data(tmp_path, monkeypatch) -> Path:
    """A collection of N cutouts whose store (beside it) holds three actions' labels, closed cleanly."""
    monkeypatch.delenv("GALVIEW_LABEL_STORES", raising=False)
    path = tmp_path / "cutouts.npz"
    ids = np.array([f"cut{i:05d}" for i in range(N)])
    np.savez(path, images=np.zeros((N, 8, 8), np.float32), ids=ids, labels=np.full(N, np.nan))
    with open_collection(path) as collection, open_label_store(collection) as store:
        store.set_many([(i, i % 2) for i in range(N)])
        store.set_many([(i, -1) for i in range(0, N, 7)])
        store.set(5, None)
    return path


def store_of(data: Path) -> Path:
    return data.with_name(data.name + ".labels.sqlite")


def pages(store: Path, table: str, kind: str = "leaf") -> list[int]:
    """Page numbers of the table's leaf (or ``"internal"``) pages, in row order."""
    leaves, interiors = table_pages(store, table)
    return leaves if kind == "leaf" else interiors


def zero_pages(store: Path, numbers) -> str:
    """Overwrite whole pages with zeros; returns the damaged file's digest."""
    size = 4096
    with open(store, "r+b") as handle:
        for number in numbers:
            handle.seek((number - 1) * size)
            handle.write(bytes(size))
    return digest(store)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def crashed_copy(data: Path, tmp_path: Path) -> Path:
    """A copy of the collection in ``tmp_path/crashed`` whose store holds its newest commit (cutouts 1-3
    set to 0) only in the write-ahead log, as a crash leaves it; returns the copy's collection path."""
    crashed = tmp_path / "crashed"
    crashed.mkdir()
    copy = crashed / data.name
    shutil.copy(data, copy)
    with open_collection(data) as collection, open_label_store(collection) as store:
        store.set([1, 2, 3], 0)  # committed to the log; the file is copied before the checkpoint at close
        shutil.copy(store.path, store_of(copy))
        shutil.copy(f"{store.path}-wal", f"{store_of(copy)}-wal")
    return copy


def salvaged(data: Path):
    with open_collection(data) as collection:
        return salvage_store(collection)


def labels_now(data: Path) -> np.ndarray:
    with open_collection(data) as collection, open_label_store(collection) as store:
        return store.current()


def test_a_lost_page_of_labels_comes_back_from_the_history(data, monkeypatch):
    from galview.io import label_salvage

    scans = []
    monkeypatch.setattr(label_salvage, "leaf_records", lambda *a, **k: scans.append(a) or iter(()))
    store = store_of(data)
    lost_page = pages(store, "labels")[3]
    before = zero_pages(store, [lost_page])
    with open_collection(data) as collection, pytest.raises(DamagedLabelStore):
        open_label_store(collection)

    report = salvaged(data)

    np.testing.assert_array_equal(labels_now(data), expected_labels())
    assert report.store == store and report.lost_rows > 50  # a page holds about 130 rows
    assert report.from_history == report.lost_rows and report.unknown == 0
    assert not scans  # SQLite read the whole history: no pass over the pages
    assert digest(report.damaged) == before  # moved aside, not changed
    assert report.damaged.name.startswith(store.name + ".damaged-")
    with open(report.history_csv, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == report.history_rows == N + len(range(0, N, 7)) + 1
    assert rows[-1]["idx"] == "5" and rows[-1]["new"] == ""


def test_the_recovery_is_one_undoable_action_named_after_the_damaged_file(data):
    zero_pages(store_of(data), [pages(store_of(data), "labels")[0]])
    report = salvaged(data)
    with open_collection(data) as collection, open_label_store(collection) as store:
        history = store.history()
        assert {row["kind"] for row in history} == {"import"}
        assert {row["description"] for row in history} == {
            f"recovered from the damaged store {report.damaged.name}"
        }
        assert store.undo() is not None
        assert np.isnan(store.current()).all()
        store.redo()
        np.testing.assert_array_equal(store.current(), expected_labels())


def test_labels_lost_from_both_tables_are_reported_and_the_rest_kept(data):
    store = store_of(data)
    labels_page, history_pages = pages(store, "labels")[0], pages(store, "history")
    zero_pages(store, [labels_page, *history_pages])  # rows 0..~130 and the whole history gone

    report = salvaged(data)

    now, expected = labels_now(data), expected_labels()
    lost = report.unknown
    assert lost == report.lost_rows > 50 and report.from_history == 0 and report.history_csv is None
    assert np.isnan(now[:lost]).all()
    np.testing.assert_array_equal(now[lost:], expected[lost:])
    assert any("no readable history" in line for line in report.lines())


def test_commits_still_in_the_write_ahead_log_are_recovered(data, tmp_path):
    """A crash leaves the newest commits in the -wal file: the salvage reads them too."""
    copy = crashed_copy(data, tmp_path)
    zero_pages(store_of(copy), [pages(store_of(data), "original")[0]])  # a page the log does not hold

    report = salvaged(copy)

    expected = expected_labels()
    expected[[1, 2, 3]] = 0
    np.testing.assert_array_equal(labels_now(copy), expected)
    assert report.lost_rows == 0 and Path(f"{report.damaged}-wal").is_file()


def test_a_damaged_header_magic_does_not_hide_the_labels(data):
    store = store_of(data)
    with open(store, "r+b") as handle:
        handle.write(b"X" * 16)
    report = salvaged(data)
    np.testing.assert_array_equal(labels_now(data), expected_labels())
    assert report.lost_rows == 0


def test_rows_of_another_collection_are_not_recovered(data):
    store = store_of(data)
    conn = sqlite3.connect(store)
    with conn:
        conn.execute("UPDATE labels SET cutout_id = 'someone-else' WHERE idx = 10")
        conn.execute("UPDATE history SET cutout_id = 'someone-else' WHERE idx = 10")
        conn.execute("UPDATE labels SET label = 'LSBG' WHERE idx = 11")  # refused on opening
    conn.close()

    report = salvaged(data)

    now, expected = labels_now(data), expected_labels()
    assert report.rejected == 2 + 1  # two label rows and cutout 10's one history row
    assert np.isnan(now[10]) and now[11] == expected[11]  # 11 comes back from its history
    np.testing.assert_array_equal(np.delete(now, 10), np.delete(expected, 10))


def test_a_store_that_reads_is_refused_and_left_alone(data):
    store = store_of(data)
    before = digest(store)
    with pytest.raises(LabelStoreError, match="nothing to recover"):
        salvaged(data)
    assert digest(store) == before
    assert sorted(p.name for p in data.parent.iterdir()) == sorted([data.name, store.name])


def test_no_store_is_a_clear_error(data):
    store_of(data).unlink()
    with pytest.raises(LabelStoreError, match="there is no label store to recover"):
        salvaged(data)


def test_a_store_of_another_size_is_not_salvaged(data, tmp_path):
    other = tmp_path / "other.npz"
    np.savez(other, images=np.zeros((4, 8, 8), np.float32))
    with (
        open_collection(other) as collection,
        pytest.raises(LabelStoreError, match="was made for 3000 cutouts"),
    ):
        salvage_store(collection, store_of(data))


def test_a_store_with_nothing_readable_is_replaced_by_an_empty_one_and_kept(data):
    store = store_of(data)
    store.write_bytes(b"this is not an SQLite database" * 200)
    report = salvaged(data)
    assert report.labels == 0 and report.unknown == N
    assert any("nothing could be read" in line for line in report.lines())
    assert report.damaged.read_bytes() == b"this is not an SQLite database" * 200
    assert np.isnan(labels_now(data)).all()


def test_a_store_cut_short_gives_back_the_labels_of_its_first_pages(data):
    store = store_of(data)
    kept = pages(store, "labels")[:4]
    cut = max(kept) * 4096
    with open(store, "r+b") as handle:
        handle.truncate(cut)  # the rest of the labels, and the whole history, gone
    report = salvaged(data)
    now, expected = labels_now(data), expected_labels()
    assert report.labels > 300 and report.unknown == N - report.labels - 1  # cutout 5 has no label
    known = ~np.isnan(now)
    np.testing.assert_array_equal(now[known], expected[known])


def test_progress_is_in_rows_and_a_cancel_leaves_everything_as_it_was(data):
    from galview.core.jobs import Cancelled, CancelToken

    store = store_of(data)
    before = zero_pages(store, [pages(store, "labels")[2]])
    token, seen = CancelToken(), []

    def progress(p):
        seen.append((p.message, p.done, p.total, p.unit))
        if p.message == "reading the history table":
            token.cancel()  # stops at the next step, before anything is written

    with open_collection(data) as collection, pytest.raises(Cancelled):
        salvage_store(collection, on_progress=progress, cancel=token)
    assert digest(store) == before and sorted(p.name for p in data.parent.iterdir()) == [
        data.name,
        store.name,
    ]
    assert {unit for *_, unit in seen} == {"rows"} and seen[0][0] == "copying the store"
    reading = [(done, total) for message, done, total, _ in seen if message.startswith("reading")]
    assert reading[0] == (0, N) and all(d <= t for d, t in reading)
    assert [d for d, _ in reading] == sorted(d for d, _ in reading)


def test_a_lost_schema_page_leaves_the_history_on_its_pages_to_read(data):
    """Page 1 (the schema) zeroed: SQLite finds no table, the history's leaf pages are still there."""
    store = store_of(data)
    zero_pages(store, [1])
    report = salvaged(data)
    np.testing.assert_array_equal(labels_now(data), expected_labels())
    assert report.lost_rows == N and report.from_history == N - 1  # cutout 5: cleared, no label
    assert report.history_from_pages == report.history_rows == N + len(range(0, N, 7)) + 1
    assert report.history_lost == 0 and report.unknown == 0


def test_lost_interior_pages_leave_the_rows_below_them_to_read(data):
    store = store_of(data)
    zero_pages(store, pages(store, "labels", "internal") + pages(store, "history", "internal"))
    report = salvaged(data)
    np.testing.assert_array_equal(labels_now(data), expected_labels())
    assert report.history_from_pages == report.history_rows > N


def test_the_log_is_read_page_by_page_too(data, tmp_path):
    """Commits only in the write-ahead log, and the file's schema page lost."""
    copy = crashed_copy(data, tmp_path)
    zero_pages(store_of(copy), [1])

    salvaged(copy)

    expected = expected_labels()
    expected[[1, 2, 3]] = 0
    np.testing.assert_array_equal(labels_now(copy), expected)


def test_the_page_by_page_pass_reports_pages_and_can_be_cancelled(data):
    from galview.core.jobs import Cancelled, CancelToken

    store = store_of(data)
    before = zero_pages(store, [1])
    token, seen = CancelToken(), []

    def progress(p):
        seen.append((p.message, p.unit, p.total))
        if p.message == "reading the pages one by one":
            token.cancel()

    with open_collection(data) as collection, pytest.raises(Cancelled):
        salvage_store(collection, on_progress=progress, cancel=token)
    assert ("reading the pages one by one", "pages", store.stat().st_size // 4096) in seen
    assert digest(store) == before and sorted(p.name for p in data.parent.iterdir()) == [
        data.name,
        store.name,
    ]


def test_a_history_file_that_cannot_be_written_changes_nothing(data, monkeypatch):
    from galview.io import label_salvage

    def full_disk(path, rows):
        Path(path).write_text("half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(label_salvage, "_write_history", full_disk)
    store = store_of(data)
    before = zero_pages(store, [pages(store, "labels")[1]])
    with pytest.raises(LabelStoreError, match="No space left on device"):
        salvaged(data)
    assert digest(store) == before and sorted(p.name for p in data.parent.iterdir()) == [
        data.name,
        store.name,
    ]


def test_a_damaged_page_count_in_the_header_is_mended_not_followed(data):
    """Found by fuzzing: a header counting 16 million pages made the salvage pad its copy to 67 GB,
    then read it all page by page (the history's interior page was lost too)."""
    store = store_of(data)
    zero_pages(store, pages(store, "history", "internal"))
    with open(store, "r+b") as handle:
        handle.seek(28)
        handle.write((16_449_548).to_bytes(4, "big"))
    totals = set()
    with open_collection(data) as collection:
        report = salvage_store(collection, on_progress=lambda p: p.unit == "pages" and totals.add(p.total))
    np.testing.assert_array_equal(labels_now(data), expected_labels())
    assert report.lost_rows == 0 and report.history_from_pages > N
    assert totals == {report.damaged.stat().st_size // 4096}  # the pages the file has, not 16 million


def test_a_store_another_program_has_open_is_not_moved_from_under_it(data):
    """Another GalView opened the store before it was damaged and still has it open: the salvage
    refuses (what that program writes next would go to the moved file) until it closes."""
    import subprocess
    import sys

    store = store_of(data)
    before = zero_pages(store, [pages(store, "labels")[3]])
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys; conn = sqlite3.connect(sys.argv[1]);"
            "conn.execute('SELECT count(*) FROM meta').fetchall(); print('open', flush=True); sys.stdin.read()",
            str(store),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(LabelStoreError, match="is open in another program"):
            salvaged(data)
        assert digest(store) == before
        assert not list(data.parent.glob("*.damaged-*"))
    finally:
        holder.communicate("", timeout=30)
    report = salvaged(data)  # closed there: now it is recovered
    np.testing.assert_array_equal(labels_now(data), expected_labels())
    assert digest(report.damaged) == before


def test_a_store_that_cannot_be_moved_aside_keeps_its_log_and_nothing_is_left(data, tmp_path, monkeypatch):
    """On Windows a file another program holds open cannot be moved: the log, already moved, goes back."""
    from galview.io import label_salvage

    copy = crashed_copy(data, tmp_path)
    crashed = copy.parent
    zero_pages(store_of(copy), [pages(store_of(data), "original")[0]])
    before = sorted((p.name, digest(p)) for p in crashed.iterdir())
    rename = os.rename

    def store_held_open(source, target):
        if Path(source) == store_of(copy):
            raise PermissionError(13, "The process cannot access the file")
        rename(source, target)

    monkeypatch.setattr(label_salvage.os, "rename", store_held_open)
    with pytest.raises(LabelStoreError, match="could not be moved aside.*nothing was changed"):
        salvaged(copy)
    assert sorted((p.name, digest(p)) for p in crashed.iterdir()) == before  # its log back beside it

    monkeypatch.setattr(label_salvage.os, "rename", rename)
    salvaged(copy)
    expected = expected_labels()
    expected[[1, 2, 3]] = 0
    np.testing.assert_array_equal(labels_now(copy), expected)


def test_notes_are_recovered_with_every_version_when_a_labels_page_is_lost(data):
    with open_collection(data) as collection, open_label_store(collection) as store:
        store.set_note(12, "tidal tail?")
        store.set_note(12, "tidal tail, confirmed", user="ana")
        store.set_note(40, "same object as #41")
        store.set_note(40, "")  # cleared: stays in the history
    zero_pages(store_of(data), [pages(store_of(data), "labels")[2]])

    report = salvaged(data)

    assert (report.noted, report.note_versions) == (1, 4)
    assert "recovered the notes on 1 cutout (4 versions, earlier ones included)" in report.lines()
    with open_collection(data) as collection, open_label_store(collection) as store:
        assert store.notes() == {12: "tidal tail, confirmed"}
        history = store.note_history()
        assert [(r["idx"], r["text"], r["user"]) for r in history][:2] == [
            (12, "tidal tail?", history[0]["user"]),
            (12, "tidal tail, confirmed", "ana"),
        ]
        assert [r["text"] for r in store.note_history(40)] == ["same object as #41", ""]


def test_a_damaged_notes_table_alone_makes_the_store_damaged_and_its_other_notes_come_back(data):
    with open_collection(data) as collection, open_label_store(collection) as store:
        store.set_note(3, "fine")
    conn = sqlite3.connect(store_of(data))
    conn.execute("INSERT INTO notes (idx, cutout_id, text, at, user) VALUES (4, 'cut00004', x'01', 0, 'x')")
    conn.commit()
    conn.close()
    report = salvaged(data)  # not refused as "reads without error"
    assert report.noted == 1 and report.rejected == 1
    np.testing.assert_array_equal(labels_now(data), expected_labels())

"""Opening from the menus reads the files in a thread: the window stays usable, errors are said, and
only the newest opening is shown."""

from __future__ import annotations

import time

import pytest
from PyQt6.QtCore import QTimer
from PyQt6.QtWidgets import QFileDialog

import galview.io
from tests.qt.conftest import random_npz


@pytest.fixture
def slow_opening(monkeypatch):
    """Opening a path whose name holds "slow" takes 1.5 s; every collection opened is recorded, and
    each one closed gets ``closed_here = True``."""
    real = galview.io.open_collection
    opened = []

    def open_collection(path, **options):
        if "slow" in str(path):
            time.sleep(1.5)
        collection = real(path, **options)
        close = collection.close

        def recorded_close():
            collection.closed_here = True
            close()

        collection.closed_here = False
        collection.close = recorded_close
        opened.append(collection)
        return collection

    monkeypatch.setattr(galview.io, "open_collection", open_collection)
    return opened


def _choose_in_dialog(monkeypatch, path):
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args, **kwargs: (str(path), ""))


def test_the_window_answers_while_a_slow_collection_opens(window, qtbot, tmp_path, monkeypatch, slow_opening):
    window.open_path(random_npz(tmp_path / "first.npz", 4))
    _choose_in_dialog(monkeypatch, random_npz(tmp_path / "slow.npz", 6))
    lateness = []
    expected = [time.perf_counter() + 0.01]

    def tick():
        now = time.perf_counter()
        lateness.append(now - expected[0])
        expected[0] = now + 0.01

    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(10)
    window._ask_open_file()
    assert window.state.n == 4 and "Opening slow.npz" in window.statusBar().currentMessage()
    window.state.set_current(2)  # browsing the open collection meanwhile
    qtbot.waitUntil(lambda: window.state.n == 6, timeout=10000)
    timer.stop()
    assert len(lateness) > 50  # the timer kept firing through the 1.5 s
    assert max(lateness) < 0.25, f"the event loop stalled {max(lateness):.2f} s"
    assert window.state.collection.source.name == "slow.npz"


def test_a_file_that_cannot_be_opened_is_said_and_the_open_one_stays(window, qtbot, tmp_path, monkeypatch):
    window.open_path(random_npz(tmp_path / "good.npz", 4))
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    _choose_in_dialog(monkeypatch, broken)
    window._ask_open_file()
    qtbot.waitUntil(lambda: window.last_error is not None, timeout=10000)
    assert "broken.npz" in window.last_error
    assert window.state.collection.source.name == "good.npz" and window.state.n == 4


def test_only_the_newest_opening_is_shown(window, qtbot, tmp_path, monkeypatch, slow_opening):
    slow = random_npz(tmp_path / "slow.npz", 6)
    fast = random_npz(tmp_path / "fast.npz", 3)
    window.open_path(slow, background=True)
    window.open_path(fast, background=True)  # asked for while the slow one is still being read
    qtbot.waitUntil(lambda: len(slow_opening) == 2 and not window.opener.busy, timeout=10000)
    qtbot.wait(100)  # the slow one's result arrives after the fast one's
    assert window.state.collection.source.name == "fast.npz"
    superseded = next(c for c in slow_opening if c.source.name == "slow.npz")
    assert superseded.closed_here and not window.state.collection.closed_here


def test_closing_the_window_while_opening_waits_and_closes_what_arrives(qtbot, tmp_path, slow_opening):
    from galview.qt.window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    window.open_path(random_npz(tmp_path / "slow.npz", 6), background=True)
    window.close()  # waits for the thread (1.5 s); its collection is closed, never shown
    qtbot.wait(100)
    assert window.state.collection is None
    assert len(slow_opening) == 1 and slow_opening[0].closed_here


def test_galview_view_at_start_up_lists_all_and_opens_the_first_in_the_background(window, qtbot, tmp_path):
    first, second = random_npz(tmp_path / "first.npz", 5), random_npz(tmp_path / "second.npz", 7)
    assert window.open_paths([first, second], background=True)
    assert window.state.collection is None  # not yet: the window is already usable
    qtbot.waitUntil(lambda: window.state.collection is not None, timeout=10000)
    assert window.state.collection.source == first
    assert [a.text() for a in window.switcher.menu.actions() if a.isCheckable()] == [
        "1. first.npz",
        "2. second.npz",
    ]


def test_an_opening_in_the_calling_thread_supersedes_one_under_way(window, qtbot, tmp_path, slow_opening):
    window.open_path(random_npz(tmp_path / "slow.npz", 6), background=True)
    assert window.open_path(random_npz(tmp_path / "now.npz", 3))  # e.g. a simulation just written
    qtbot.waitUntil(lambda: len(slow_opening) == 2, timeout=10000)
    qtbot.wait(200)
    assert window.state.collection.source.name == "now.npz"
    assert next(c for c in slow_opening if c.source.name == "slow.npz").closed_here

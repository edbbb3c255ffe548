"""Qt fixtures: a main window that is closed (and its renderer thread stopped) after each test."""

from __future__ import annotations

import pytest

pytest.importorskip("PyQt6")


@pytest.fixture(autouse=True)
def no_default_model(tmp_path, monkeypatch):
    """Windows start with no model unless a test says otherwise (the shipped one may exist)."""
    monkeypatch.setenv("GALVIEW_MODEL", str(tmp_path / "no_such_model.keras"))


@pytest.fixture(autouse=True)
def no_unanswered_dialogs(monkeypatch):
    """A file or input dialog that a test did not answer fails the test, instead of waiting for a person
    for ever (a test answers one by patching it again; an action bound to the wrong slot shows up so)."""
    from PyQt6 import QtWidgets

    def unanswered(name):
        def ask(*_args, **_kwargs):
            raise AssertionError(f"the test opened {name} without answering it")

        return staticmethod(ask)

    for name in ("getOpenFileName", "getOpenFileNames", "getSaveFileName", "getExistingDirectory"):
        monkeypatch.setattr(QtWidgets.QFileDialog, name, unanswered(f"QFileDialog.{name}"))
    for name in ("getInt", "getDouble", "getText", "getMultiLineText", "getItem"):
        monkeypatch.setattr(QtWidgets.QInputDialog, name, unanswered(f"QInputDialog.{name}"))


TINY_SHAPE = (16, 16, 3)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """An untrained 16×16×3 DeepShadows (uint8 RGB input) saved with its card."""
    pytest.importorskip("keras")
    from galview.ml.architectures import build_model, get_architecture
    from galview.ml.cards import InputSpec
    from galview.ml.loading import save_model

    path = tmp_path_factory.mktemp("models") / "tiny.keras"
    spec = InputSpec(TINY_SHAPE, dtype="uint8", scale="divide255", bands=("R", "G", "B"))
    save_model(build_model("deepshadows", TINY_SHAPE), get_architecture("deepshadows").card(input=spec), path)
    return path


def random_npz(path, n, seed=0, shape=TINY_SHAPE):
    """``n`` random uint8 cutouts with alternating labels 0/1, saved as npz; returns the path."""
    import numpy as np

    rng = np.random.default_rng(seed)
    np.savez(path, images=rng.integers(0, 256, (n, *shape), dtype=np.uint8), labels=np.arange(n) % 2)
    return path


@pytest.fixture
def window(qtbot):
    from galview.qt.app import make_app
    from galview.qt.window import MainWindow

    make_app()
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1100, 700)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()


def wait_thumbnails(qtbot, win, timeout=10000):
    from galview.qt.app import thumbnails_ready

    qtbot.waitUntil(lambda: thumbnails_ready(win), timeout=timeout)

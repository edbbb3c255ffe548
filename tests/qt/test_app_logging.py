"""The window's error hook logs unexpected exceptions with their traceback and shows them in a dialog."""

from __future__ import annotations

import sys


def test_unexpected_error_is_logged_and_shown(window, monkeypatch, capsys):
    from PyQt6.QtWidgets import QMessageBox

    from galview.core.logs import ensure_logging, log_path
    from galview.qt.app import install_excepthook

    ensure_logging()
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # restored after the test
    install_excepthook(window)
    try:
        raise ValueError("a bug in a slot")
    except ValueError:
        sys.excepthook(*sys.exc_info())
    assert window.last_error == "ValueError: a bug in a slot"
    text = log_path().read_text()
    assert "unexpected error in the window" in text and "Traceback" in text
    assert "ValueError: a bug in a slot" in text
    assert "Traceback" in capsys.readouterr().err
    (box,) = window.findChildren(QMessageBox)
    assert "a bug in a slot" in box.detailedText()
    box.close()

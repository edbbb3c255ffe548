"""The command line logs: the log file under GALVIEW_HOME, ``--verbose``, user errors and crashes."""

from __future__ import annotations

import pytest

from galview.cli import main
from galview.core.logs import log_path


@pytest.fixture
def des(shared_data):
    return str(shared_data / "des_lsbg" / "des_lsbg_dev.npz")


def test_each_command_is_logged_under_galview_home(des, isolated_home, capsys):
    assert main(["info", des, "--json"]) == 0
    assert capsys.readouterr().err == ""
    log = isolated_home / "data" / "logs" / "galview.log"
    assert log == log_path() and f"galview 0.1.0: info {des} --json" in log.read_text()


def test_verbose_shows_debug_lines_on_stderr(des, capsys):
    assert main(["--verbose", "info", des]) == 0
    err = capsys.readouterr().err
    assert "DEBUG galview.cli: options: {" in err and "'command': 'info'" in err
    assert "DEBUG   galview.cli [MainThread] options:" in log_path().read_text()


def test_user_error_is_one_line_on_stderr_and_logged(tmp_path, capsys):
    missing = tmp_path / "nowhere.h5"
    assert main(["info", str(missing)]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("galview: error:") and "nowhere.h5" in lines[0]
    logged = [line for line in log_path().read_text().splitlines() if "ERROR" in line]
    assert len(logged) == 1 and "nowhere.h5" in logged[0] and "galview.cli" in logged[0]


def test_unexpected_error_is_logged_with_its_traceback(des, monkeypatch, capsys):
    from galview.cli import data

    def broken(args):
        raise RuntimeError("a bug in info")

    monkeypatch.setattr(data, "cmd_info", broken)
    assert main(["info", des]) == 1
    err = capsys.readouterr().err
    assert "unexpected error in 'galview info'" in err and "Traceback" in err
    text = log_path().read_text()
    assert "Traceback" in text and "RuntimeError: a bug in info" in text and "in broken" in text

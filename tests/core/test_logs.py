"""GalView's logging set-up: the log file under GALVIEW_HOME, stderr levels, rotation, file-only records."""

from __future__ import annotations

import logging

from galview.core.logs import FILE_ONLY, ensure_logging, log_path, setup_logging

logger = logging.getLogger("galview.tests")


def test_log_file_is_in_galview_home(isolated_home):
    path = setup_logging()
    assert path == log_path() == isolated_home / "data" / "logs" / "galview.log"
    logger.info("an info line")
    logger.debug("a debug line")
    text = path.read_text()
    assert "INFO    galview.tests [MainThread] an info line" in text
    assert "a debug line" not in text


def test_stderr_shows_warnings_by_default_and_debug_when_verbose(capsys):
    setup_logging()
    logger.info("quiet info")
    logger.warning("loud warning")
    err = capsys.readouterr().err
    assert "loud warning" in err and "quiet info" not in err
    path = setup_logging(verbose=True)
    logger.debug("verbose debug")
    assert "DEBUG galview.tests: verbose debug" in capsys.readouterr().err
    assert "verbose debug" in path.read_text()


def test_file_only_records_stay_off_stderr(capsys):
    path = setup_logging()
    logger.error("told the user already", extra=FILE_ONLY)
    assert capsys.readouterr().err == ""
    assert "ERROR   galview.tests [MainThread] told the user already" in path.read_text()


def test_the_log_rotates_and_stays_bounded():
    path = setup_logging(max_bytes=2_000, backups=2)
    for i in range(400):
        logger.info("line %04d %s", i, "x" * 40)
    files = sorted(path.parent.iterdir())
    assert [f.name for f in files] == ["galview.log", "galview.log.1", "galview.log.2"]
    assert all(f.stat().st_size <= 2_000 for f in files)
    assert "line 0399" in path.read_text()  # the newest lines are in galview.log


def test_setting_up_again_replaces_the_handlers(capsys):
    setup_logging()
    setup_logging()
    ensure_logging()  # already set up: keeps it
    logger.warning("once")
    assert capsys.readouterr().err.count("once") == 1
    assert len(logging.getLogger("galview").handlers) == 2


def test_ensure_logging_keeps_verbose(capsys):
    setup_logging(verbose=True)
    ensure_logging()
    logger.debug("still verbose")
    assert "still verbose" in capsys.readouterr().err

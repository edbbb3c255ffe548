"""GalView's logging: a rotating log file in GalView's data folder, warnings and errors on stderr.

Modules log through ``logger = logging.getLogger(__name__)``; only the entry points configure logging:
:func:`galview.cli.main` calls :func:`setup_logging` (``--verbose`` for debug lines on stderr) and the
window's :func:`galview.qt.app.run_app` calls :func:`ensure_logging`. Everything under the ``galview``
logger goes to ``data_dir() / "logs" / "galview.log"`` (INFO and above, DEBUG with ``verbose``), kept
to about ``MAX_BYTES`` × (``BACKUPS`` + 1) by rotation.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from pathlib import Path

from galview.core.errors import UserFacingError
from galview.core.native_stderr import quiet_tensorflow_import
from galview.core.paths import data_dir

LOGGER_NAME = "galview"
LOG_FILE = "galview.log"
MAX_BYTES = 1_000_000
BACKUPS = 3
FILE_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(threadName)s] %(message)s"
STDERR_FORMAT = "%(levelname)s %(name)s: %(message)s"
# ``logger.error(..., extra=FILE_ONLY)``: a record for the log file only, when the caller has told the
# user in its own words (the command line's one-line ``galview: error: ...``).
FILE_ONLY = {"galview_file_only": True}

_handlers: list[logging.Handler] = []


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (pytest and IDEs replace it after set-up)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass  # always the current sys.stderr


def _not_file_only(record: logging.LogRecord) -> bool:
    return not getattr(record, "galview_file_only", False)


def log_path() -> Path:
    """The current log file: ``galview.log`` in the ``logs`` folder of GalView's data folder."""
    return data_dir() / "logs" / LOG_FILE


def setup_logging(
    verbose: bool = False, *, max_bytes: int = MAX_BYTES, backups: int = BACKUPS
) -> Path | None:
    """Send the ``galview`` loggers to the rotating log file and to stderr; replaces an earlier set-up.

    Parameters
    ----------
    verbose : bool
        Debug lines on stderr and in the file; otherwise stderr shows warnings and errors, the file
        INFO and above.
    max_bytes, backups : int
        Rotation: the file is renamed ``galview.log.1`` … ``galview.log.<backups>`` when it would
        exceed ``max_bytes``.

    Returns
    -------
    Path or None
        The log file (created with its first record). If it cannot be opened, logging goes to stderr
        only, with a warning (None when even its folder cannot be named).
    """
    reset_logging()
    package = logging.getLogger(LOGGER_NAME)
    package.setLevel(logging.DEBUG if verbose else logging.INFO)
    stderr = _StderrHandler()
    stderr.setLevel(logging.DEBUG if verbose else logging.WARNING)
    stderr.setFormatter(logging.Formatter(STDERR_FORMAT))
    stderr.addFilter(_not_file_only)
    _attach(package, stderr)
    try:
        path = log_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            path,
            maxBytes=max_bytes,
            backupCount=backups,
            encoding="utf-8",
            errors="backslashreplace",
            delay=True,
        )
    except (OSError, UserFacingError) as exc:  # e.g. GALVIEW_HOME is not a folder
        package.warning("no log file (%s); logging to stderr only", exc)
        return None
    handler.setFormatter(logging.Formatter(FILE_FORMAT))
    _attach(package, handler)
    return path


def quiet_libraries(verbose: bool = False) -> None:
    """Keep TensorFlow's and absl's own log lines off the terminal unless ``verbose``.

    TensorFlow writes its C++ log lines (CPU features, memory patches, the absl notice) straight to
    stderr when it is imported; they say nothing the user can act on. ``TF_CPP_MIN_LOG_LEVEL`` must
    be set before that import, so the command line calls this first. A value the user set is kept,
    and its errors still show. With ``verbose`` nothing is changed.
    """
    if verbose:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # 2: warnings and info dropped, errors shown
    quiet_tensorflow_import()  # the notices recent releases print whatever that variable says
    for name in ("tensorflow", "absl"):
        logging.getLogger(name).setLevel(logging.ERROR)


def ensure_logging() -> None:
    """:func:`setup_logging` with its defaults, unless logging is set up already (by the command line)."""
    if not _handlers:
        setup_logging()


def reset_logging() -> None:
    """Remove and close the handlers :func:`setup_logging` added (the tests call this after each test)."""
    package = logging.getLogger(LOGGER_NAME)
    while _handlers:
        handler = _handlers.pop()
        package.removeHandler(handler)
        handler.close()
    package.setLevel(logging.NOTSET)


def _attach(logger: logging.Logger, handler: logging.Handler) -> None:
    logger.addHandler(handler)
    _handlers.append(handler)

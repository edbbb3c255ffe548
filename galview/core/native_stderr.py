"""Keep TensorFlow's native start-up notices off the terminal.

TensorFlow's C++ code writes notices to file descriptor 2 while it is imported: "oneDNN custom operations
are on" (on CPUs with AVX-512 VNNI, BF16 or AMX), the CPU-feature notice, and absl's "All log messages
before absl::InitializeLog() is called are written to STDERR". Recent releases write them whatever
``TF_CPP_MIN_LOG_LEVEL`` says, and they tell the user nothing they can act on. The command line (unless
``--verbose``) calls :func:`quiet_tensorflow_import`: the first import of ``tensorflow`` then runs with
descriptor 2 sent to a temporary file, and afterwards every line of it except those notices is written
back to stderr (errors and anything else printed meanwhile, by any thread, are kept; an exit while the
import still runs in another thread writes them at exit). Only a crash by a signal during the import
itself would lose what it printed; ``--verbose`` leaves descriptor 2 alone.
"""

from __future__ import annotations

import atexit
import importlib.machinery
import os
import re
import sys
import threading
from contextlib import contextmanager

#: Lines dropped: absl's pre-initialisation warning, info (I) and warning (W) lines in absl's format
#: (``I0000 00:00:1796399313.454256    7815 port.cc:153] …``) and the second line of the CPU notice.
NATIVE_NOTICE = re.compile(
    rb"^(WARNING: All log messages before absl::InitializeLog\(\) is called"
    rb"|[IW]\d{4} [\d:.]+ +\d+ [\w./-]+:\d+\] "
    rb"|To enable the following instructions: )"
)


def without_notices(text: bytes) -> bytes:
    """``text`` without the lines :data:`NATIVE_NOTICE` matches."""
    return b"".join(line for line in text.splitlines(keepends=True) if not NATIVE_NOTICE.match(line))


class _Capture:
    """Descriptor 2 sent to a temporary file until :meth:`release` (once, from whichever thread or
    exit handler comes first) puts it back and writes the kept lines to it."""

    def __init__(self) -> None:
        import tempfile  # here, not at start-up: only TensorFlow's import needs it

        sys.stderr.flush()
        self._saved = os.dup(2)
        self._file = tempfile.TemporaryFile()
        self._released = False
        os.dup2(self._file.fileno(), 2)

    def release(self) -> None:
        with _LOCK:
            if self._released:
                return
            self._released = True
            try:
                sys.stderr.flush()
            finally:
                os.dup2(self._saved, 2)
                os.close(self._saved)
                self._file.seek(0)
                kept = without_notices(self._file.read())
                self._file.close()
                if kept:
                    os.write(2, kept)


_LOCK = threading.Lock()
_OPEN: list[_Capture] = []


@atexit.register
def _release_open_captures() -> None:
    """At exit, what was printed during an import still running in another thread is not lost."""
    for capture in list(_OPEN):
        capture.release()


@contextmanager
def native_notices_dropped():
    """While the block runs, descriptor 2 goes to a temporary file; then its lines, less the notices,
    go to stderr (at exit at the latest)."""
    capture = _Capture()
    _OPEN.append(capture)
    try:
        yield
    finally:
        capture.release()
        _OPEN.remove(capture)


class _QuietLoader:
    """Runs another loader's ``exec_module`` with the notices dropped; everything else is the other's."""

    def __init__(self, loader) -> None:
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module) -> None:
        with native_notices_dropped():
            self._loader.exec_module(module)

    def __getattr__(self, name):
        return getattr(self._loader, name)


class _QuietTensorFlowFinder:
    """Finds only ``tensorflow``, once, through the ordinary path finder, and wraps its loader."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "tensorflow":
            return None
        remove_finder()
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


def quiet_tensorflow_import() -> None:
    """Drop the native notices of TensorFlow's first import (nothing if it is imported already)."""
    if "tensorflow" in sys.modules or any(isinstance(f, _QuietTensorFlowFinder) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _QuietTensorFlowFinder())


def remove_finder() -> None:
    """Undo :func:`quiet_tensorflow_import` (the finder also removes itself once used)."""
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _QuietTensorFlowFinder)]

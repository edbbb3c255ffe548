"""A first look at an HDF5 file in a child process, so that a damaged file cannot end GalView.

The HDF5 library itself can crash on some damaged files (seen in mutation fuzzing: a variable-length
string attribute whose global-heap reference was damaged gave a segmentation fault when read). Python
cannot catch that. So before GalView reads an HDF5 file in its own process, a child process opens it
the same way and reads what opening reads (ids, labels, coordinates, class names) and the first and
last cutouts. A child killed by a signal, or still reading after :data:`TIMEOUT_S` (a damaged heap can
make the library loop), means the file is refused; any other outcome lets the file be opened here,
where ordinary damage gets its usual one-line message. Each file (path, size, modification time,
options) is looked at once per process; the look costs about 0.2 s.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

from galview.core.errors import CollectionError

logger = logging.getLogger(__name__)

#: Set in the child, which opens the file without looking at it first.
CHILD_ENV = "GALVIEW_HDF5_CHILD"
#: A child still reading after this long is stopped and the file refused (reading what opening reads
#: takes well under a second for a sound file; a minute is the hostile-input corpus's limit per case).
TIMEOUT_S = 20.0
_LOOKED_AT: set[tuple] = set()

_CHILD = """
import json, signal, sys
signal.alarm(int(sys.argv[3]))  # ends a looping child even if GalView itself was killed meanwhile
from galview.io.registry import open_collection
with open_collection(sys.argv[1], **json.loads(sys.argv[2])) as collection:
    n = len(collection)
    collection.ids, collection.labels, collection.coords, collection.class_names
    if n:
        collection.get_batch([0, n - 1])
"""


def check_in_child(path: Path, options: dict) -> None:
    """Open ``path`` with ``options`` in a child process first; refuse it if that crashed the child.

    Raises
    ------
    CollectionError
        If the child was killed by a signal while reading the file (a segmentation fault of the
        HDF5 library, say), or was still reading it after :data:`TIMEOUT_S`.
    """
    if os.environ.get(CHILD_ENV):
        return
    try:
        status = path.stat()
    except OSError:
        return  # the reader says what is wrong with it
    key = (str(path.resolve()), status.st_size, status.st_mtime_ns, json.dumps(options, sort_keys=True))
    if key in _LOOKED_AT:
        return
    command = [sys.executable, "-c", _CHILD, str(path), json.dumps(options), str(int(TIMEOUT_S) + 5)]
    try:
        done = subprocess.run(
            command, env={**os.environ, CHILD_ENV: "1"}, capture_output=True, timeout=TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:  # the child is killed; reading it here would not end either
        raise CollectionError(
            path,
            f"is a damaged HDF5 file: reading its metadata did not end within {TIMEOUT_S:.0f} s (the HDF5 "
            "library loops on some damaged files); expected a valid HDF5 file",
        ) from None
    except OSError as exc:
        logger.warning("could not look at %s in a child process first (%s); opening it here", path, exc)
        return
    if done.returncode < 0:
        raise CollectionError(
            path,
            f"is a damaged HDF5 file: reading it crashed the HDF5 library ({_signal_name(-done.returncode)}); "
            "expected a valid HDF5 file",
        )
    _LOOKED_AT.add(key)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"

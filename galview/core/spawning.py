"""Worker processes started by ``spawn``: whether starting them is safe, and one BLAS thread each.

A spawned process imports the starting program's main module again (as ``__mp_main__``) before it
runs its task. Code under ``if __name__ == "__main__":`` does not run then; code outside it does. The
``galview`` command and ``python -m galview`` have the guard, but a script that opens GalView's window
without one would open a window in every process (seen once while measuring, BENCHMARKS.md, Sérsic
photometry §6). :func:`spawn_is_safe` tells the window whether to use processes or its job's thread.
"""

from __future__ import annotations

import os
import re
import sys
from contextlib import contextmanager
from pathlib import Path

#: What the numerical libraries read at start-up for their own thread count.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

_MAIN_GUARD = re.compile(r"""^if\s+__name__\s*==\s*["']__main__["']\s*:""", re.MULTILINE)


def spawn_is_safe(main=None) -> bool:
    """True when a spawned process would not run the main module's own code again.

    Parameters
    ----------
    main : module, optional
        The main module (default: ``sys.modules["__main__"]``).

    Returns
    -------
    bool
        True for an interactive session or a notebook (no main file: nothing is imported again) and for
        a main module whose source has an ``if __name__ == "__main__":`` guard; False when its source
        has none or cannot be read.
    """
    main = sys.modules.get("__main__") if main is None else main
    spec = getattr(main, "__spec__", None)
    path = getattr(spec, "origin", None) if spec is not None else getattr(main, "__file__", None)
    if path is None:
        return True
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return _MAIN_GUARD.search(text) is not None


@contextmanager
def one_thread_each():
    """Processes started in this block run their numerical libraries on one thread each (where the user
    set no count): two fitting processes on two cores, each with its own two BLAS threads, took 2.7 times
    as long as one process (BENCHMARKS.md, Sérsic photometry)."""
    saved = {name: os.environ.get(name) for name in THREAD_VARIABLES}
    for name, value in saved.items():
        if value is None:
            os.environ[name] = "1"
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)

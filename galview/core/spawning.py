"""Worker processes started by ``spawn``: whether starting them is safe, and one BLAS thread each.

A spawned process imports the starting program's main module again (as ``__mp_main__``) before it
runs its task. Code under ``if __name__ == "__main__":`` does not run then; code outside it does. The
``galview`` command and ``python -m galview`` have the guard, but a script that opens GalView's window
without one would open a window in every process (seen once while measuring, BENCHMARKS.md, Sérsic
photometry §6). :func:`spawn_is_safe` tells the window whether to use processes or its job's thread;
:func:`results_in_order` runs tasks in spawned processes, a bounded number ahead, listening for Cancel.
"""

from __future__ import annotations

import os
import re
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
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


#: Seconds between looks at Cancel while the processes work.
POLL_S = 0.2
#: The scheduling priority of the processes the window starts (fitting, simulating, retraining), below
#: its own (``os.nice``): the window comes first on the cores.
WORKER_NICENESS = 10


def results_in_order(
    function: Callable, tasks: Iterable, workers: int, *, niceness: int = 0, cancel=None, ahead: int = 2
) -> Iterator:
    """Yield ``function(*task)`` for each task, in order, computed in ``workers`` spawned processes.

    Parameters
    ----------
    function : callable
        A module-level function (the processes import it by name).
    tasks : iterable of tuple
        Its arguments; taken one by one, at most ``ahead`` × ``workers`` beyond the last result given.
    workers : int
    niceness : int
        The processes' scheduling priority below this one's (``os.nice``; 0: the same).
    cancel : CancelToken, optional
        Looked at every :data:`POLL_S` seconds while a result is waited for.

    Raises
    ------
    concurrent.futures.process.BrokenProcessPool
        When a process ended before its task (killed, out of memory): the caller says so.
    Cancelled
        Once ``cancel`` is set. Tasks not started are dropped and running ones not waited for (the
        processes end when they finish them); the same when the caller stops early.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker, initargs=(niceness,))
    pending, finished = deque(), False
    try:
        with one_thread_each():  # the processes start as tasks are handed out: it holds while they may start
            for task in tasks:
                pending.append(pool.submit(function, *task))
                if len(pending) >= ahead * workers:
                    yield _result(pending.popleft(), cancel)
            while pending:
                yield _result(pending.popleft(), cancel)
        finished = True
    finally:
        pool.shutdown(wait=finished, cancel_futures=True)


def _result(future, cancel):
    """The future's result, waited for in steps of :data:`POLL_S` so that ``cancel`` is heard."""
    from concurrent.futures import TimeoutError as NotYet

    while True:
        if cancel is not None:
            cancel.raise_if_cancelled()
        try:
            return future.result(timeout=POLL_S)
        except NotYet:
            continue


def _start_worker(niceness: int) -> None:
    """A worker process's first step: a lower scheduling priority, where asked (and allowed)."""
    if niceness > 0 and hasattr(os, "nice"):
        os.nice(niceness)

"""The window's scoring job with one or two read-ahead threads: time to score a collection, and how late a
10 ms timer of the window's event loop ran meanwhile (what the user feels).

    python benchmarks/bench_window_readers.py FOLDER_OR_FILE --readers 1 2 1 2

Each run is a fresh process (a fresh GalView home, so no kept scores) with the shipped model, offscreen;
``galview.ml.scoring.score_batches`` is given ``readers`` as the window's job would be. Compare runs of one
invocation only: the 2-core VM is noisy.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def one_run(path: str, readers: int) -> str:
    """Score ``path`` in a window whose scoring job reads ahead with ``readers`` threads; one line."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.path.insert(0, str(REPO))
    from benchmarks.event_loop import LatenessTimer
    from galview.ml import scoring
    from galview.qt.app import make_app
    from galview.qt.window import MainWindow

    plain = scoring.score_batches
    scoring.score_batches = lambda *args, **kwargs: plain(*args, **{**kwargs, "readers": readers})
    app = make_app()
    window = MainWindow()
    window.show()
    while window.state.model is None or window.runner.busy:  # the shipped model loads in the background
        app.processEvents()
        time.sleep(0.01)
    window.scoring.auto_limit = 0  # scoring starts below, timed
    window.open_path(path)
    lateness = LatenessTimer()
    lateness.start()
    started = time.perf_counter()
    assert window.scoring.score(), window.statusBar().currentMessage()
    while window.runner.busy:
        app.processEvents()
        time.sleep(0.001)
    seconds = time.perf_counter() - started
    lateness.stop()
    scored = window.state.scores.n_scored
    window.close()
    return f"readers {readers}: {scored:,} cutouts scored in {seconds:.1f} s; event loop late by {lateness.summary()}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("--readers", type=int, nargs="+", default=[1, 2, 1, 2])
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a single run, in this process
    args = parser.parse_args()
    if args.one is not None:
        print(one_run(args.path, args.one), flush=True)
        return 0
    for readers in args.readers:
        with tempfile.TemporaryDirectory() as home:
            env = dict(os.environ, GALVIEW_HOME=home)
            env.pop("GALVIEW_MODEL", None)
            done = subprocess.run(
                [sys.executable, __file__, args.path, "--one", str(readers)],
                env=env, capture_output=True, text=True, check=True,
            )  # fmt: skip
            print(done.stdout.strip().splitlines()[-1], flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Notes on cutouts: what writing one costs, and what the window reads when a collection has many.

Prints, for a store of N cutouts of which M carry a note: the commit latency of ``set_note`` (median
and p99; the first one also creates the notes table), reading one note, all current notes
(``notes()``, done when a collection is opened and when another GalView wrote one), the poll
(``last_note_seq``), the Show box's "with a note" filter and the exported grid's ``note`` column over
all N cutouts, and a CSV export of the labels with their notes.

    python benchmarks/bench_notes.py [--n 1000000] [--notes 10000] [--sets 300] [--dir FOLDER]
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import tempfile
import time
from pathlib import Path

import numpy as np
from bench_label_store import line, timed  # run as benchmarks/bench_notes.py: its folder is on the path

from galview.core.collection import ArrayCollection
from galview.core.grid_table import shown_table
from galview.core.label_filter import shown_by_labels
from galview.core.state import ViewerState
from galview.io.label_notes import restore_note_rows
from galview.io.label_store import LabelStore


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="cutouts in the store")
    parser.add_argument("--notes", type=int, default=10_000, help="cutouts with a note (written in bulk)")
    parser.add_argument("--sets", type=int, default=300, help="timed set_note commits")
    parser.add_argument("--dir", help="folder on the disk to measure (default: system temp folder)")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    n = args.n
    print(f"python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, {platform.platform()}")
    with tempfile.TemporaryDirectory(dir=args.dir) as folder:
        path = Path(folder) / "bench.sqlite"
        print(f"store: {path} (filesystem of {os.path.realpath(folder)})")
        ids = [f"J{i:09d}" for i in range(n)]
        start = time.perf_counter()
        LabelStore.open(path, n, ids=ids).close()
        print(f"create store, {n:,} cutouts: {time.perf_counter() - start:.2f} s")
        with LabelStore.open(path, n) as store:
            noted = rng.choice(n, args.notes, replace=False)
            start = time.perf_counter()
            store.set_note(int(noted[0]), "first note: makes the table")
            print(f"first set_note (creates the notes table): {(time.perf_counter() - start) * 1000:.2f} ms")
            text = "tidal tail to the NE? check the DR10 image before calling it; same object as #812"
            rows = [(int(i), ids[i], f"{text} ({k})", time.time(), "bench") for k, i in enumerate(noted[1:])]
            start = time.perf_counter()
            restore_note_rows(store, rows)
            print(
                f"bulk insert of {len(rows):,} notes (one transaction): {time.perf_counter() - start:.2f} s"
            )
            targets = rng.integers(0, n, args.sets)
            line("set_note (one committed, fsynced transaction)", timed(
                lambda k: store.set_note(int(targets[k]), f"note {k}"), args.sets))  # fmt: skip
            line("note(index)", timed(lambda k: store.note(int(targets[k])), 200))
            line("last_note_seq() poll", timed(lambda k: store.last_note_seq(), 200))
            line(f"notes() ({args.notes:,}+ noted of {n:,})", timed(lambda k: store.notes(), 10))
            notes = store.notes()
            labels = np.full(n, np.nan)
            line("Show box 'with a note' over all cutouts", timed(
                lambda k: shown_by_labels("noted", labels, noted=notes), 10))  # fmt: skip
            state = ViewerState()
            state.set_collection(ArrayCollection("memory", np.zeros((n, 2, 2, 1), np.uint8), "NHWC", ids=ids))
            state.set_notes(notes)
            line(
                f"exported grid, {n:,} rows (all columns)", timed(lambda k: shown_table(state, ("0", "1")), 3)
            )
            state.set_notes({})
            line(f"exported grid, {n:,} rows, no notes", timed(lambda k: shown_table(state, ("0", "1")), 3))
            with tempfile.TemporaryDirectory() as out:
                line(f"labels export CSV ({n:,} rows, with notes)", timed(
                    lambda k: store.export(Path(out) / "labels.csv"), 3))  # fmt: skip
            print(f"note rows: {store.last_note_seq():,}; integrity: {store.integrity()}")
        print(f"store size: {path.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()

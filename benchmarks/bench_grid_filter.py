"""How long the grid's label filter (Show box) and File ▸ Export the grid as shown take at survey size.

Both run in the window's thread, so their time is how long the window is frozen. A collection of N
tiny cutouts in memory (only the metadata matters), labelled and scored at random; times the state's
re-ordering for each filter and the export of what the filter keeps.

    python benchmarks/bench_grid_filter.py [--n 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from galview.core.collection import ArrayCollection
from galview.core.grid_table import shown_table, table_rows
from galview.core.scores import Scores
from galview.core.state import ViewerState
from galview.io.writers import write_csv


def _state(n: int) -> ViewerState:
    rng = np.random.default_rng(0)
    file_labels = rng.integers(0, 2, n).astype(np.float64)
    collection = ArrayCollection(
        "memory",
        np.zeros((n, 2, 2, 1), np.uint8),
        "NHWC",
        labels=file_labels,
        ra=rng.uniform(0, 360, n),
        dec=rng.uniform(-60, 0, n),
    )
    state = ViewerState()
    state.set_collection(collection)
    user = np.full(n, np.nan)
    touched = rng.choice(n, n // 20, replace=False)  # a person relabelled 5%
    user[touched] = rng.integers(-1, 2, len(touched))
    labels = np.where(np.isnan(user), file_labels, user)
    state.set_labels(labels, user_labels=user)
    scores = Scores.empty(n, 1, "v1", class_names=("artifact", "LSBG"), model_name="bench")
    scores.set_rows(np.arange(n), rng.uniform(0, 1, (n, 1)).astype(np.float32))
    state.set_scores(scores)
    return state


def _median(call, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    state = _state(args.n)
    state.set_sorting(sort="prob_desc")
    print(f"{args.n:,} cutouts, sorted by probability; medians of {args.repeat}")
    for show in ("all", "class:1", "unlabelled", "changed", "disagree"):
        state.set_sorting(show=show)
        seconds = _median(lambda: state.refresh_order(force=True), args.repeat)
        print(f"  Show {show:<10} {len(state.order):>9,} shown   re-ordering: {seconds * 1000:6.0f} ms")
    state.set_sorting(show="class:1")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "shown.csv"
        table_seconds = _median(lambda: shown_table(state, ("artifact", "LSBG")), args.repeat)
        table = shown_table(state, ("artifact", "LSBG"))
        write_seconds = _median(lambda: write_csv(path, list(table), table_rows(table)), args.repeat)
        size = path.stat().st_size
    print(
        f"  export of {len(state.order):,} rows: table {table_seconds:.2f} s + CSV {write_seconds:.2f} s "
        f"({size / 1e6:.0f} MB)"
    )


if __name__ == "__main__":
    main()

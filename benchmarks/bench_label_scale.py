"""Labels at survey scale, the parts the window does in its GUI thread or beside it.

1. The first label of a collection creates its store: every cutout's id written (``LabelStore.open`` with
   the ids, as ``open_label_store`` does), timed for a million cutouts, with the ids as a numpy array of
   strings (what collections give) and as a list of Python strings.
2. Once compared with other inspectors, each label you set brings the thumbnails' marks up to date
   (``AgreementRanking.follow``, ``ConsensusRanking.follow``): one cutout, and every cutout (a reload).
3. A CSV file's rows collected in a worker thread (``csv.DictReader`` over a file on disk), with and without
   ``rows_letting_others_run``: how late a 10 ms sleep in the main thread wakes (as the window's event
   loop would) and how long the loop takes.

    python benchmarks/bench_label_scale.py [--n 1000000] [--labelled 200000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import csv
import platform
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from galview.core.agreement import Agreement
from galview.core.consensus import Consensus
from galview.core.jobs import rows_letting_others_run
from galview.io.label_store import LabelStore


def seconds(call) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def first_store(n: int, repeat: int) -> None:
    ids = np.array([f"DES{i:012d}" for i in range(n)])
    labels = (np.arange(n) % 2).astype(np.float64)  # a file labelled throughout (the demo, a training set)
    print(f"\n1. The first label of {n:,} cutouts: creating the store with every id")
    cases = (
        ("ids as numpy strings", ids, None),
        ("ids as Python strings", ids.tolist(), None),
        ("ids as numpy strings, the file's label of every cutout", ids, labels),
    )
    for name, given, original in cases:
        times = []
        for _ in range(repeat):
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "a.labels.sqlite"
                times.append(
                    seconds(
                        lambda p=path, i=given, o=original: LabelStore.open(p, n, ids=i, original=o).close()
                    )
                )
        print(f"{name}: {', '.join(f'{t:.2f}' for t in times)} s")


def follow(n: int, labelled: int, repeat: int) -> None:
    rng = np.random.default_rng(0)
    people = []
    for _ in range(3):
        values = np.full(n, np.nan)
        chosen = rng.choice(n, labelled, replace=False)
        values[chosen] = rng.integers(0, 2, labelled)
        people.append(values)
    mine = people[0]
    pair = Agreement(mine, people[1]).ranking("bob")
    team = Consensus(("you", "bob", "carol"), np.vstack(people), ("artifact", "LSBG")).ranking()
    print(f"\n2. Marks that follow your relabelling ({n:,} cutouts, {labelled:,} labels each)")
    everything = np.arange(n)
    for name, ranking in (("one other inspector", pair), ("a team of three", team)):
        one = []
        for index in rng.choice(n, 200, replace=False):
            mine[index] = 1 - mine[index] if np.isfinite(mine[index]) else 1
            one.append(seconds(lambda index=index, ranking=ranking: ranking.follow([index], mine)))
        whole = []
        for _ in range(repeat):  # a reload of every label after an import that changed 100,000 of them
            flipped = rng.choice(n, n // 10, replace=False)
            mine[flipped] = np.where(np.isfinite(mine[flipped]), 1 - mine[flipped], 1)
            whole.append(seconds(lambda ranking=ranking: ranking.follow(everything, mine)))
        print(
            f"{name}: one cutout median {1000 * np.median(one):.2f} ms (max {1000 * max(one):.2f}); "
            f"every cutout, a tenth of them changed: {', '.join(f'{1000 * t:.0f}' for t in whole)} ms"
        )


def csv_in_a_thread(rows: int, repeat: int) -> None:
    """A labels export of ``rows`` rows on disk, its rows collected with ``csv.DictReader`` as GalView's
    readers do (a plain loop over a csv reader in memory does not show the stall: it yields every 5 ms)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "labels.csv"
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["index", "id", "label", "changed_at"])
            writer.writerows([i, f"DES{i:012d}", i % 2, 1.8e9 + i] for i in range(rows))
        print(f"\n3. {rows:,} CSV rows read in a worker thread; a 10 ms sleep in the main thread meanwhile")
        for name, wrap in (
            ("rows as they come", lambda r: r),
            ("rows_letting_others_run", rows_letting_others_run),
        ):
            for _ in range(repeat):
                lateness, took = _lateness_while(lambda wrap=wrap: _collect(path, wrap))
                print(
                    f"{name}: loop {took:.2f} s; sleep late by median {np.median(lateness):.1f} ms, "
                    f"p99 {np.percentile(lateness, 99):.0f} ms, worst {max(lateness):.0f} ms"
                )


def _collect(path: Path, wrap) -> list:
    with open(path, newline="", encoding="utf-8") as handle:
        return [row for row in wrap(csv.DictReader(handle))]


def _lateness_while(work) -> tuple[list[float], float]:
    """How late (ms) each 10 ms sleep of this thread wakes while ``work`` runs in another; its time."""
    took = []
    thread = threading.Thread(target=lambda: took.append(seconds(work)))
    lateness = []
    thread.start()
    while thread.is_alive():
        start = time.perf_counter()
        time.sleep(0.01)
        lateness.append(1000 * (time.perf_counter() - start) - 10)
    thread.join()
    return lateness, took[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="cutouts")
    parser.add_argument("--labelled", type=int, default=200_000, help="labels each inspector set")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"python {platform.python_version()}, {platform.platform()}")
    first_store(args.n, args.repeat)
    follow(args.n, args.labelled, args.repeat)
    csv_in_a_thread(args.n, args.repeat)


if __name__ == "__main__":
    main()

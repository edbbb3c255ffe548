"""Two inspectors compared at survey scale: reading the other's label store or CSV file, the figures
and the disagreement ranking.

Builds, in a temporary folder, two label stores of N cutouts in which each inspector labelled M
cutouts (half of them the same cutouts, about 10% of those given the other class), and the second
inspector's CSV export; then times what ``galview labels agree`` and Labels ▸ Compare with another
inspector's labels… do: reading their store (copied, then read) or CSV file, your own labels, the
confusion matrix, Cohen's kappa and its bootstrap interval (2,000 resamples), and the ranking; then a
team of three (a third inspector labels M more cutouts): the votes, Krippendorff's alpha, its interval
and the most disputed first; and each person's own labels where two people labelled one store, all of
them and (what the window re-reads when you relabel among them) of 1, 100 and 10,000 cutouts.

With ``--window`` it then opens the same collection (an .npz of tiny cutouts with the same ids) in the
window, with your labels in its store, and measures the event-loop lag (a 10 ms timer) while Labels ▸
Compare with other inspectors' labels reads the other's store and then their CSV file in the background,
and while Labels ▸ Export labels… writes your labels and Import labels from CSV… imports the other's CSV.

    python benchmarks/bench_agreement.py [--n 1000000] [--labelled 200000] [--dir FOLDER] [--window]
"""

from __future__ import annotations

import argparse
import platform
import resource
import sqlite3
import tempfile
import time
from pathlib import Path

import numpy as np

from galview.core.agreement import Agreement
from galview.core.collection import ArrayCollection
from galview.core.consensus import Consensus
from galview.core.training_labels import model_user
from galview.io.label_store import LabelStore
from galview.io.other_labels import person_labels, read_other_labels, store_people


def seconds(call):
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="cutouts in the collection")
    parser.add_argument("--labelled", type=int, default=200_000, help="cutouts each inspector labelled")
    parser.add_argument("--dir", help="folder on the disk to measure (default: system temp folder)")
    parser.add_argument("--window", action="store_true", help="also the window's lag while it compares")
    args = parser.parse_args()
    n, m = args.n, args.labelled
    rng = np.random.default_rng(0)
    print(f"python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, {platform.platform()}")
    ids = np.array([f"J{i:09d}" for i in range(n)])
    collection = ArrayCollection("survey", np.zeros((n, 2, 2, 1), dtype=np.uint8), "NHWC", ids=ids)
    shared = rng.choice(n, m // 2, replace=False)
    rest = np.setdiff1d(np.arange(n), shared)
    own = np.concatenate([shared, rng.choice(rest, m - len(shared), replace=False)])
    theirs = np.concatenate([shared, rng.choice(rest, m - len(shared), replace=False)])
    truth = rng.integers(0, 2, n)
    other_view = truth.copy()
    flip = rng.random(n) < 0.1
    other_view[flip] = 1 - other_view[flip]
    with tempfile.TemporaryDirectory(dir=args.dir) as folder:
        folder = Path(folder)
        for name, chosen, values in (("mine", own, truth), ("bob", theirs, other_view)):
            took, _ = seconds(
                lambda chosen=chosen, values=values, name=name: _write(
                    folder / f"{name}.sqlite", n, ids, chosen, values, name
                )
            )
            print(f"write store '{name}': {n:,} cutouts, {m:,} labels in one action: {took:.1f} s")
        with LabelStore.open(folder / "bob.sqlite", n) as store:
            took, _ = seconds(lambda: store.export(folder / "bob.csv"))
        print(
            f"export bob's labels to CSV ({n:,} rows): {took:.1f} s, {(folder / 'bob.csv').stat().st_size / 2**20:.0f} MB"
        )
        took, other = seconds(lambda: read_other_labels(folder / "bob.sqlite", collection))
        print(
            f"read the other inspector's store (copy, open, person labels, users): {took:.2f} s; {other.labelled:,} labels"
        )
        took, from_csv = seconds(lambda: read_other_labels(folder / "bob.csv", collection))
        print(f"read the other inspector's CSV export: {took:.2f} s; {from_csv.labelled:,} labels")
        with LabelStore.open(folder / "mine.sqlite", n) as store:
            took, mine = seconds(lambda: person_labels(store))
        print(f"your own person labels (current, less a model's): {took:.2f} s")
        with LabelStore.open(folder / "bob.sqlite", n) as store:
            store.set([int(theirs[0])], 1, user=model_user("bench"))
        took, _ = seconds(lambda: read_other_labels(folder / "bob.sqlite", collection))
        print(f"the same store once a model has labelled one cutout in it (its history read): {took:.2f} s")
        took, agreement = seconds(lambda: Agreement(mine, other.values))
        took_figures, _ = seconds(lambda: (agreement.confusion, agreement.kappa, agreement.disagreements))
        took_interval, interval = seconds(agreement.kappa_interval)
        took_ranking, _ = seconds(lambda: agreement.ranking("bob.sqlite"))
        print(
            f"figures: confusion, kappa, disagreements {1000 * (took + took_figures):.0f} ms; bootstrap interval "
            f"{1000 * took_interval:.0f} ms; ranking {1000 * took_ranking:.0f} ms"
        )
        print(agreement.summary("bob.sqlite"))
        print(f"kappa interval {interval[0]:.4f}–{interval[1]:.4f}")
        third = np.full(n, np.nan)
        carol = rng.choice(n, m, replace=False)
        third[carol] = np.where(rng.random(m) < 0.1, 1 - truth[carol], truth[carol])
        took, team = seconds(
            lambda: Consensus(("you", "bob", "carol"), np.vstack([mine, other.values, third]))
        )
        took_votes, _ = seconds(lambda: (team.votes, team.adopted, team.share))
        took_alpha, alpha = seconds(lambda: team.alpha)
        took_interval, (low, high) = seconds(team.alpha_interval)
        took_order, _ = seconds(team.order)
        print(
            f"a team of three (carol labelled {m:,} more): votes, adopted labels and shares {1000 * (took + took_votes):.0f} ms; "
            f"Krippendorff's alpha {1000 * took_alpha:.0f} ms; its bootstrap interval {1000 * took_interval:.0f} ms; "
            f"the most disputed first {1000 * took_order:.0f} ms"
        )
        print(
            f"alpha {alpha:.4f} [{low:.4f}, {high:.4f}] over {team.pairable:,} cutouts given a class by two or more"
        )
        if args.window:
            _window_lag(folder, ids, own, truth)
        with LabelStore.open(folder / "bob.sqlite", n) as store:  # carol labels in bob's store too
            store.set_many([(int(i), int(third[i])) for i in carol], user="carol")
            took, people = seconds(lambda: store_people(store))
            print(
                f"the people of one store (bob and carol, {2 * m:,} labels, and the model's one): each one's own "
                f"labels {took:.2f} s; {', '.join(f'{p.name} {p.labelled:,}' for p in people)}"
            )
            # what the window re-reads of yours when you relabel (carol here), and all of them
            for size in (1, 100, 10_000, n):
                chosen = None if size == n else rng.choice(n, size, replace=False)
                times = [
                    seconds(lambda chosen=chosen: store.labels_of_user("carol", chosen))[0] for _ in range(5)
                ]
                print(
                    f"carol's own labels of {size:,} cutouts (your row following you): {1000 * np.median(times):.1f} ms"
                )
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


def _window_lag(folder: Path, ids, own, truth) -> None:
    """The window's event-loop lag while it reads bob's store, then his CSV file, in the background."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("GALVIEW_HOME", str(folder / "home"))
    from PyQt6.QtTest import QTest

    from galview.io import open_collection
    from galview.io.label_store import open_label_store
    from galview.qt.app import make_app
    from galview.qt.window import MainWindow

    data = folder / "survey.npz"
    np.savez(data, images=np.zeros((len(ids), 4, 4, 3), dtype=np.uint8), ids=ids)
    with open_collection(data) as collection, open_label_store(collection) as store:
        store.set_many([(int(i), int(truth[i])) for i in own], user="me")
    make_app()
    window = MainWindow()
    window.resize(1280, 800)
    window.show()
    while window.state.model is None:  # the shipped model loads in the background
        QTest.qWait(20)
    window.scoring.auto_limit = 0  # no scoring job: the comparison is what is measured
    took, _ = seconds(lambda: window.open_path(data))
    print(f"window: opened {len(ids):,} cutouts (with your {len(own):,} labels) in {took:.1f} s")
    for other in (folder / "bob.sqlite", folder / "bob.csv"):
        took, lateness = _lag_while(window, lambda other=other: window.inspector.compare_with(other))
        print(f"window: compared with {other.name} in {took:.2f} s; event-loop lateness: {lateness}")
        print(f"  status bar: {window.statusBar().currentMessage()[:110]}")
    session = window.labelling.session
    for what, start in (
        (
            "exported your labels in the GUI thread, as until today",
            lambda: bool(session.export(folder / "a.csv")),
        ),
        ("exported your labels (every row)", lambda: window.labelling.start_export(folder / "mine.csv")),
        ("imported bob's CSV into your store", lambda: window.labelling.start_import(folder / "bob.csv")),
    ):
        took, lateness = _lag_while(window, start)
        print(f"window: {what} in {took:.2f} s; event-loop lateness: {lateness}")
        print(f"  status bar: {window.statusBar().currentMessage()[:110]}")
    window.close()


def _lag_while(window, start) -> tuple[float, str]:
    """(seconds, the lateness summary) of a job ``start()`` begins in the window, until it ends."""
    from event_loop import LatenessTimer  # benchmarks/event_loop.py
    from PyQt6.QtTest import QTest

    while window.runner.busy:
        QTest.qWait(20)
    QTest.qWait(200)
    timer = LatenessTimer()
    timer.start()
    started = time.perf_counter()
    assert start()
    while window.runner.busy:
        QTest.qWait(5)
    QTest.qWait(50)  # what the window does once the result arrived, and its first redraw
    took = time.perf_counter() - started
    timer.stop()
    return took, timer.summary()


def _write(path: Path, n: int, ids, chosen, values, user: str) -> None:
    with LabelStore.open(path, n, ids=ids) as store:
        store.set_many([(int(i), int(values[i])) for i in chosen], user=user)


if __name__ == "__main__":
    main()

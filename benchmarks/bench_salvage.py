"""How much of a damaged label store ``galview labels salvage`` recovers, and how fast.

    PYTHONPATH=. python benchmarks/bench_salvage.py [--runs 300] [--seed 0] [--big 1000000]

Part 1 (recovery): a store of 3,000 cutouts, every cutout labelled in a first action, every 7th set to
unsure in a second, one cleared in a third (3,430 history rows, 100 pages of 4 KiB). Each run damages a
copy the way disks do, at a random place: one page zeroed, 1–16 bytes of one page overwritten, three
neighbouring pages zeroed, or the file cut at a page boundary. The copy is opened and read as the window
does; if GalView refuses it as damaged, it is salvaged and the new store's labels are compared with the
truth. Counted per kind of damage: refusals, salvages, labels recovered right, wrong (a label that is not
the cutout's last one) and lost, and any exception other than a one-line refusal (a finding). Damage
that SQLite does not notice (a label byte changed inside a sound page) is counted as *undetected*, with
the wrong labels it gives: SQLite pages carry no checksum, so neither GalView nor salvage can see it.

Part 2 (speed): a store of ``--big`` cutouts, all labelled, one page of its labels table zeroed;
the time to salvage it, against the time to open and read it before the damage; then the recovered
store's schema page zeroed (SQLite reaches no table: the history is read off the pages) and salvaged.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

from galview.core.errors import UserFacingError
from galview.io import open_collection
from galview.io.label_salvage import salvage_store
from galview.io.label_schema import DamagedLabelStore
from galview.io.label_store import open_label_store

PAGE = 4096
KINDS = ("one page zeroed", "bytes of one page", "three pages zeroed", "cut at a page")


def make_collection(folder: Path, n: int) -> Path:
    path = folder / f"cutouts_{n}.npz"
    ids = np.char.add("cut", np.arange(n).astype(str))
    np.savez(path, images=np.zeros((n, 2, 2), np.float32), ids=ids, labels=np.full(n, np.nan))
    return path


def label_all(data: Path) -> np.ndarray:
    """Three actions (all labelled, every 7th unsure, one cleared); returns the true labels."""
    with open_collection(data) as collection, open_label_store(collection) as store:
        n = len(collection)
        store.set_many([(i, i % 2) for i in range(n)])
        store.set_many([(i, -1) for i in range(0, n, 7)])
        store.set(5, None)
        return store.current()


def damage(path: Path, kind: str, rng: random.Random) -> None:
    pages = path.stat().st_size // PAGE
    page = rng.randrange(pages)
    with open(path, "r+b") as handle:
        if kind == "one page zeroed":
            handle.seek(page * PAGE)
            handle.write(bytes(PAGE))
        elif kind == "three pages zeroed":
            page = min(page, pages - 3)
            handle.seek(page * PAGE)
            handle.write(bytes(3 * PAGE))
        elif kind == "bytes of one page":
            for _ in range(rng.randrange(1, 17)):
                handle.seek(page * PAGE + rng.randrange(PAGE))
                handle.write(bytes([rng.randrange(256)]))
        else:
            handle.truncate(max(1, page) * PAGE)


def one_run(data: Path, store: Path, truth: np.ndarray) -> dict:
    """Open and read the damaged store as the window does; salvage it if refused as damaged."""
    out = {"outcome": "", "right": 0, "wrong": 0, "lost": 0}
    labelled = ~np.isnan(truth)
    with open_collection(data) as collection:
        try:
            with open_label_store(collection, store) as opened:
                opened.ids(), opened.history()
                got = opened.current()
            out["outcome"] = "undetected"
        except DamagedLabelStore:
            try:
                salvage_store(collection, store)
            except UserFacingError:
                out["outcome"] = "salvage refused"
                return out
            with open_label_store(collection, store) as opened:
                got = opened.current()
            out["outcome"] = "salvaged"
        except UserFacingError:
            out["outcome"] = "refused (not as damaged)"
            return out
    same = (got == truth) | (np.isnan(got) & np.isnan(truth))
    out["right"] = int((same & labelled).sum())
    out["lost"] = int((np.isnan(got) & labelled).sum())
    out["wrong"] = int((~same).sum()) - out["lost"]
    return out


def recovery(folder: Path, runs: int, seed: int) -> None:
    data = make_collection(folder, 3000)
    truth = label_all(data)
    sound = data.with_name(data.name + ".labels.sqlite")
    pages = sound.stat().st_size // PAGE
    print(f"store of 3,000 cutouts: {pages} pages, {int((~np.isnan(truth)).sum())} labels")
    rng = random.Random(seed)
    tally: dict[str, Counter] = {kind: Counter() for kind in KINDS}
    findings = []
    started = time.perf_counter()
    for run in range(runs):
        kind = KINDS[run % len(KINDS)]
        work = folder / f"run{run}"
        work.mkdir()
        copy = work / sound.name
        shutil.copy(sound, copy)
        damage(copy, kind, rng)
        try:
            result = one_run(data, copy, truth)
        except Exception as exc:  # a finding: anything but a one-line refusal
            findings.append(f"{kind}, run {run}: {type(exc).__name__}: {exc}")
            result = {"outcome": "finding", "right": 0, "wrong": 0, "lost": 0}
        counts = tally[kind]
        counts["runs"] += 1
        counts[result["outcome"]] += 1
        for key in ("right", "wrong", "lost"):
            counts[f"{result['outcome']} {key}"] += result[key]
        shutil.rmtree(work)
    elapsed = time.perf_counter() - started
    print(
        "| damage | runs | undetected (wrong labels) | refused as damaged, salvaged | labels right / wrong / lost "
        "after salvage, summed | other refusals | findings |\n|---|---|---|---|---|---|---|"
    )
    for kind, c in tally.items():
        print(
            f"| {kind} | {c['runs']} | {c['undetected']} ({c['undetected wrong']}) | {c['salvaged']} | "
            f"{c['salvaged right']:,} / {c['salvaged wrong']} / {c['salvaged lost']} | "
            f"{c['refused (not as damaged)'] + c['salvage refused']} | {c['finding']} |"
        )
    print("\n".join(findings))
    print(f"{runs} runs in {elapsed:.0f} s")


def speed(folder: Path, n: int) -> None:
    data = make_collection(folder, n)
    started = time.perf_counter()
    label_all(data)
    print(f"{n:,} cutouts labelled in three actions: {time.perf_counter() - started:.1f} s")
    store = data.with_name(data.name + ".labels.sqlite")
    with open_collection(data) as collection:
        started = time.perf_counter()
        with open_label_store(collection) as opened:
            opened.ids(), opened.current(), opened.history()
        read = time.perf_counter() - started
        conn = sqlite3.connect(store)
        conn.execute("CREATE VIRTUAL TABLE temp.pages USING dbstat")
        leaves = [
            r[0]
            for r in conn.execute("SELECT pageno FROM temp.pages WHERE name = 'labels' AND pagetype = 'leaf'")
        ]
        conn.close()
        with open(store, "r+b") as handle:
            handle.seek((leaves[len(leaves) // 2] - 1) * PAGE)
            handle.write(bytes(PAGE))
        started = time.perf_counter()
        report = salvage_store(collection)
        took = time.perf_counter() - started
        print(
            f"open and read the sound store: {read:.1f} s; salvage after one labels page zeroed: {took:.1f} s"
        )
        print("\n".join(report.lines()))
        with open(store, "r+b") as handle:  # the new store's schema page: SQLite reaches no table
            handle.write(bytes(PAGE))
        started = time.perf_counter()
        report = salvage_store(collection)
        took = time.perf_counter() - started
    print(f"salvage after the schema page zeroed (every history row read off the pages): {took:.1f} s")
    print("\n".join(report.lines()))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--big", type=int, default=1_000_000, help="cutouts of the speed test (0: skip it)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="galview-bench-salvage-") as temp:
        if args.runs:
            recovery(Path(temp), args.runs, args.seed)
        if args.big:
            speed(Path(temp), args.big)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Damaged and hostile input (issue 11, section 6): every corpus case through every command it names.

Collects every ``tests/hostile/cases_*.py`` module, runs each case's commands (``info``, ``view``
offscreen with a screenshot, ``score`` with the shipped model, ``labels set … 0 1``) in subprocesses
limited to 60 s and 2 GB (see :mod:`tests.hostile.corpus`) and prints, per input (its worst run) and
per run, how many gave a clean one-line error, were accepted, printed a traceback, crashed, hung,
used more than 2 GB, or ran code from the data; then the same by cause, and every run that fell short
of its case's expectation.

    PYTHONPATH=. python benchmarks/bench_hostile.py [--jobs 2] [--only npz/] [--commands info,labels]
        [--galview-root OTHER_CHECKOUT] [--fast]

``--galview-root`` measures another checkout of GalView (the "before" numbers) with this corpus.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.hostile.case import CAUSES  # noqa: E402
from tests.hostile.corpus import (  # noqa: E402
    COMMANDS,
    MEMORY_LIMIT,
    TIME_LIMIT_S,
    by_case,
    input_kind,
    load_cases,
    run_cases,
)

COLUMNS = (
    ("clean-error", "clean errors"),
    ("accepted", "accepted"),
    ("mixed", "mixed"),
    ("unclean-error", "unclean errors"),
    ("traceback", "tracebacks"),
    ("crash", "crashes"),
    ("hang", "> 60 s"),
    ("memory", "> 2 GB"),
    ("code-from-data", "code from data"),
)


def row(label: str, kinds: Counter, honoured: int, total: int) -> str:
    """One table row: counts by kind, then how many met their case's expectation."""
    cells = [f"{kinds.get(kind, 0):>{max(len(title), 4)}}" for kind, title in COLUMNS]
    return f"| {label:<22} | {total:>6} | " + " | ".join(cells) + f" | {honoured:>4}/{total:<4} |"


def header(first: str) -> str:
    titles = [f"{title:>{max(len(title), 4)}}" for _kind, title in COLUMNS]
    line = f"| {first:<22} | {'tried':>6} | " + " | ".join(titles) + f" | {'as expected':>9} |"
    return line + "\n|" + "|".join("-" * (len(cell)) for cell in line.split("|")[1:-1]) + "|"


def report(runs, cases) -> None:
    """Print the per-input table, the per-run table, the per-cause table and the shortfalls."""
    grouped = by_case(runs)
    names = [case.name for case in cases if case.name in grouped]
    per_input = {name: input_kind(grouped[name]) for name in names}
    met = {name: all(run.honoured for run in grouped[name]) for name in names}
    print(header("inputs"))
    print(row("all inputs", Counter(per_input.values()), sum(met.values()), len(names)))
    print()
    print(header("runs (input × command)"))
    for command in COMMANDS:
        mine = [run for run in runs if run.command == command]
        if mine:
            print(row(command, Counter(r.kind for r in mine), sum(r.honoured for r in mine), len(mine)))
    print(row("all runs", Counter(r.kind for r in runs), sum(r.honoured for r in runs), len(runs)))
    print()
    print(header("inputs by cause"))
    cause_of = {case.name: case.cause for case in cases}
    for cause in CAUSES:
        chosen = [name for name in names if cause_of[name] == cause]
        if chosen:
            kinds = Counter(per_input[name] for name in chosen)
            print(row(cause, kinds, sum(met[name] for name in chosen), len(chosen)))
    print()
    short = [run for run in runs if not run.honoured]
    print(f"runs short of their case's expectation: {len(short)}")
    for run in short:
        print("  " + run.summary())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1, help="cases run at the same time")
    parser.add_argument("--only", default="", help="only cases whose name starts with this")
    parser.add_argument("--commands", default=",".join(COMMANDS), help="commands to run (comma-separated)")
    parser.add_argument("--fast", action="store_true", help="only the fast cases (the CI subset)")
    parser.add_argument("--galview-root", type=Path, default=REPO, help="checkout of GalView to measure")
    args = parser.parse_args()
    cases = [c for c in load_cases() if c.name.startswith(args.only) and (c.fast or not args.fast)]
    commands = args.commands.split(",")
    print(f"# {datetime.datetime.now():%Y-%m-%d %H:%M}, {platform.node()}, {platform.platform()}")
    print(f"# {os.cpu_count()} CPUs, python {platform.python_version()}, GalView from {args.galview_root}")
    print(
        f"# {len(cases)} inputs, commands {commands}, limits {TIME_LIMIT_S:.0f} s and {MEMORY_LIMIT >> 30} GB"
    )
    started = time.monotonic()

    def progress(case, runs):
        kinds = ", ".join(f"{run.command}:{run.kind}" for run in runs)
        print(f"  {case.name}: {kinds}", file=sys.stderr, flush=True)

    runs = run_cases(
        cases, lambda case: commands, jobs=args.jobs, on_done=progress, galview_root=args.galview_root
    )
    print(f"# {len(runs)} runs in {time.monotonic() - started:.0f} s\n")
    report(runs, cases)


if __name__ == "__main__":
    main()

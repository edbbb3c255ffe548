"""How long ``galview`` takes to answer a mistake that needs no model, and a normal run (issue 11).

Runs each command ``--repeat`` times in a fresh process (``python -m galview``) in an empty temporary
folder, with the shipped model as the default one, and prints the median wall-clock time, the exit
status and the last line of stderr. ``--tree`` runs another checkout (e.g. the code before a change,
``git worktree add /tmp/before HEAD~5``) through ``PYTHONPATH``; the default is this one.

    python benchmarks/bench_cli_startup.py [--tree PATH] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DES = ROOT.parent / "shared" / "data" / "des_lsbg" / "des_lsbg_dev.npz"
COMMANDS = [
    "view nosuch.npz --offscreen --screenshot shot.png",
    "score nosuch.npz -o x.csv",
    "score DES -o missing_dir/x.csv",
    "score DES -o out.txt",
    "explain nosuch.npz --index 0 -o x.npy",
    "train nosuch.npz -o model",
    "score DES --batchsize 64 -o x.csv",
    "info DES",
    "score DES -o s.csv",
]


def run_once(tree: Path, command: str, folder: Path, home: Path) -> tuple[float, int, str]:
    """Seconds, exit status and last stderr line of one run in ``folder``."""
    env = dict(os.environ, PYTHONPATH=str(tree), GALVIEW_HOME=str(home), QT_QPA_PLATFORM="offscreen")
    env.pop("GALVIEW_MODEL", None)
    args = [str(DES) if word == "DES" else word for word in command.split()]
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "galview", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    seconds = time.perf_counter() - started
    last = (result.stderr.strip().splitlines() or [""])[-1]
    return seconds, result.returncode, last[:90]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=ROOT, help="checkout to run (default: this one)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per command (median reported)")
    options = parser.parse_args()
    print(f"tree {options.tree}  load average {os.getloadavg()[0]:.1f}")
    print("median s | exit | command | last line of stderr")
    with tempfile.TemporaryDirectory() as scratch:
        home = Path(scratch) / "home"
        for command in COMMANDS:
            times = []
            for _ in range(options.repeat):
                with tempfile.TemporaryDirectory(dir=scratch) as folder:
                    seconds, code, last = run_once(options.tree, command, Path(folder), home)
                times.append(seconds)
            print(f"{statistics.median(times):6.1f} | {code} | galview {command} | {last}", flush=True)


if __name__ == "__main__":
    main()

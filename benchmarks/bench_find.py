"""How long Cutout ▸ Go to… (and ``galview find``) takes among a million cutouts, for each kind of text.

It runs in the window's thread: its time is how long the window waits. N random positions and
"DES J<number>" ids in memory; medians of ``--repeat`` runs.

    python benchmarks/bench_find.py [--n 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from galview.core.finding import find_cutout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    ra, dec = rng.uniform(0, 360, args.n), rng.uniform(-60, 10, args.n)
    ids = np.char.add("DES J", np.arange(args.n).astype(str))
    print(f"{args.n:,} cutouts; medians of {args.repeat}")
    for text, what in (
        ("#5", "an index"),
        (f"DES J{args.n // 2}", "an exact id"),
        ("150.1 2.2", "a position in degrees"),
        ("10:00:24 +02:12:00", "a sexagesimal position"),
        (f"des j{args.n // 3}", "an id in another case"),
        (f"J{args.n - 1}", "part of one id"),
    ):
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            found = find_cutout(text, args.n, ids, ra, dec)
            times.append(time.perf_counter() - started)
        print(
            f"  {what:<24} {text!r:<22} {statistics.median(times) * 1000:6.0f} ms  -> {found.describe(text)}"
        )


if __name__ == "__main__":
    main()

"""Scoring with one or two threads reading and adapting batches ahead of the model.

    python benchmarks/bench_score_readers.py DATA [DATA ...] [--repeat 3] [--readers 1,2]

For each collection, scores every cutout with the shipped model (:func:`galview.ml.scoring.score_to_file`,
what ``galview score`` runs; the model loaded once, beforehand) with :data:`galview.ml.scoring.READERS`
set to each value in turn, alternating, and prints the median wall time and cutouts per second. Use a
collection the model takes as it is (an HDF5 file of viewer colours) and one that needs the physical
adapter (a folder of survey FITS fluxes, e.g. from ``bench_fits_folder.py``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("data", nargs="+")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--readers", default="1,2")
    args = parser.parse_args(argv)
    from galview.assets import default_model_path
    from galview.io import open_collection
    from galview.ml import scoring
    from galview.ml.loading import load_model

    loaded = load_model(default_model_path())
    counts = [int(n) for n in args.readers.split(",")]
    results = {}
    for data in args.data:
        with open_collection(data) as collection, tempfile.TemporaryDirectory() as out:
            times = {n: [] for n in counts}
            scoring.score_to_file(loaded, collection, Path(out) / "warm.csv", indices=range(64))  # warm-up
            for _ in range(args.repeat):
                for n in counts:
                    scoring.READERS = n
                    start = time.perf_counter()
                    scoring.score_to_file(loaded, collection, Path(out) / f"scores{n}.csv")
                    times[n].append(time.perf_counter() - start)
            size = len(collection)
        row = {n: round(statistics.median(t), 2) for n, t in times.items()}
        results[data] = row
        line = ", ".join(
            f"{n} reader{'s' if n > 1 else ''}: {t:.2f} s ({size / t:,.0f}/s)" for n, t in row.items()
        )
        print(f"{data} ({size:,} cutouts): {line}", flush=True)
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

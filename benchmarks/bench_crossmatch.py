"""Cross-matching a survey-sized collection with a catalogue: reading the catalogue, matching, and the
baseline of a per-cutout nearest-source loop (haversine over the whole catalogue, as one would write it
in a notebook), timed on a subset and extrapolated.

    python benchmarks/bench_crossmatch.py [--n 1000000] [--sources 100000] [--radius 3] [--loop 200]

Positions are drawn uniformly on a 100 deg² patch (a survey field of that density); a third of the
sources are placed within 2″ of a cutout, so about that many cutouts match.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from galview.core.crossmatch import match_positions
from galview.io.catalogues import read_catalogue


def patch(rng, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` positions uniform on the sphere within RA 150–160°, Dec −5–5° (about 100 deg²)."""
    ra = rng.uniform(150, 160, n)
    dec = np.degrees(np.arcsin(rng.uniform(np.sin(np.radians(-5)), np.sin(np.radians(5)), n)))
    return ra, dec


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="cutouts")
    parser.add_argument("--sources", type=int, default=100_000, help="catalogue rows")
    parser.add_argument("--radius", type=float, default=3.0, help="match radius, arcsec")
    parser.add_argument("--loop", type=int, default=200, help="cutouts timed in the per-cutout loop")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    ra, dec = patch(rng, args.n)
    cat_ra, cat_dec = patch(rng, args.sources)
    near = rng.choice(args.n, args.sources // 3, replace=False)
    offset = rng.uniform(0, 2, len(near)) / 3600
    cat_ra[: len(near)], cat_dec[: len(near)] = ra[near], dec[near] + offset
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "catalogue.csv"
        with open(path, "w") as handle:
            handle.write("name,ra,dec,mu_g\n")
            handle.writelines(
                f"src{k},{a:.7f},{d:.7f},{25 + k % 30 / 10}\n"
                for k, (a, d) in enumerate(zip(cat_ra, cat_dec, strict=True))
            )
        start = time.perf_counter()
        catalogue = read_catalogue(path)
        read_s = time.perf_counter() - start
        print(
            f"read a {path.stat().st_size / 1e6:.1f} MB CSV catalogue of {len(catalogue):,} rows: {read_s:.2f} s"
        )
    times = []
    for _ in range(3):
        start = time.perf_counter()
        match = match_positions(ra, dec, catalogue.ra, catalogue.dec, args.radius)
        times.append(time.perf_counter() - start)
    print(
        f"match {args.n:,} cutouts against {args.sources:,} sources within {args.radius:g}″: median "
        f"{np.median(times):.2f} s (runs {', '.join(f'{t:.2f}' for t in times)}); {int(match.matched.sum()):,} matched"
    )
    subset = rng.choice(args.n, args.loop, replace=False)
    ra0, dec0 = np.radians(catalogue.ra), np.radians(catalogue.dec)
    start = time.perf_counter()
    loop_rows = []
    for i in subset:
        r, d = np.radians(ra[i]), np.radians(dec[i])
        half = np.sin((dec0 - d) / 2) ** 2 + np.cos(d) * np.cos(dec0) * np.sin((ra0 - r) / 2) ** 2
        separation = np.degrees(2 * np.arcsin(np.sqrt(half))) * 3600
        best = int(np.argmin(separation))
        loop_rows.append(best if separation[best] <= args.radius else -1)
    per = (time.perf_counter() - start) / args.loop
    print(
        f"per-cutout haversine loop: {per * 1000:.2f} ms per cutout, so {per * args.n:,.0f} s for {args.n:,} "
        f"({per * args.n / np.median(times):,.0f}× the k-d tree); agrees on {np.mean(np.array(loop_rows) == match.row[subset]):.0%} of "
        f"{args.loop} cutouts"
    )


if __name__ == "__main__":
    main()

"""Damaged catalogues for the cross-match: every copy is read or refused in one line naming it, never more.

Copies of the real ``../shared/data/legacy_dwarfs/candidates.csv`` (and of the same table written as a
FITS table) get random damage — bytes flipped, the file cut short, bytes inserted, a stretch zeroed —
and each is read (:func:`galview.io.catalogues.read_catalogue`) and matched with one position. Counts
what was read, what was refused with a :class:`CatalogueError` (one line naming the file) and anything
else (a finding, printed with its traceback).

    python benchmarks/fuzz_catalogues.py [--runs 600] [--seed 39]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import traceback
from pathlib import Path

from galview.core.crossmatch import match_positions
from galview.io.catalogues import CatalogueError, read_catalogue

SEED_CATALOGUE = Path(__file__).resolve().parents[2] / "shared" / "data" / "legacy_dwarfs" / "candidates.csv"


def damaged(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    data = bytearray(data)
    how = rng.choice(["flip", "truncate", "insert", "zero"])
    if how == "flip":
        for _ in range(rng.randint(1, 20)):
            data[rng.randrange(len(data))] = rng.randrange(256)
    elif how == "truncate":
        data = data[: rng.randrange(len(data))]
    elif how == "insert":
        at = rng.randrange(len(data))
        data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 50)))
    else:
        start = rng.randrange(len(data))
        length = min(rng.randint(1, 3000), len(data) - start)
        data[start : start + length] = bytes(length)
    return how, bytes(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=600)
    parser.add_argument("--seed", type=int, default=39)
    args = parser.parse_args()
    from astropy.table import Table

    rng = random.Random(args.seed)
    outcomes = {"read": 0, "refused in one line": 0, "finding": 0}
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        fits = folder / "seed.fits"
        Table.read(SEED_CATALOGUE, format="csv").write(fits)
        seeds = [(SEED_CATALOGUE.read_bytes(), ".csv"), (fits.read_bytes(), ".fits")]
        for k in range(args.runs):
            data, suffix = seeds[k % 2]
            how, data = damaged(data, rng)
            path = folder / f"copy{k}{suffix}"
            path.write_bytes(data)
            try:
                catalogue = read_catalogue(path)
                match_positions([151.7], [-8.35], catalogue.ra, catalogue.dec, 3.0)
                outcomes["read"] += 1
            except CatalogueError as exc:
                one_line = path.name in str(exc) and "\n" not in str(exc)
                outcomes["refused in one line" if one_line else "finding"] += 1
            except Exception:  # noqa: BLE001 - anything else is what this script looks for
                outcomes["finding"] += 1
                print(f"{path.name} ({how}):")
                traceback.print_exc(limit=4)
    print(", ".join(f"{name}: {number}" for name, number in outcomes.items()))


if __name__ == "__main__":
    main()

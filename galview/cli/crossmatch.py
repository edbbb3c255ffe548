"""``galview crossmatch``: the collection's cutouts matched with a catalogue of sky positions.

Each cutout with a position gets the nearest source of the catalogue (a CSV file or FITS table with RA
and Dec columns) within ``--radius``; the output table holds the matched cutouts (``--all``: every
cutout) with the separation and every column of the source they matched.
"""

from __future__ import annotations

from galview.cli.common import add_open_options, open_options
from galview.cli.parsing import number_in

OWN_COLUMNS = ("index", "id", "ra", "dec", "separation_arcsec", "catalogue_row")


def add_parsers(commands) -> None:
    """Register ``crossmatch`` on the main parser's ``commands``."""
    from galview.core.match_defaults import DEFAULT_RADIUS_ARCSEC, MAX_RADIUS_ARCSEC

    parser = commands.add_parser(
        "crossmatch",
        help="match the cutouts with a catalogue of sky positions (CSV or FITS table)",
        description="Give each cutout the nearest source of a catalogue (a CSV file or FITS table with RA and "
        "Dec columns: ra/dec, RAJ2000/DEJ2000…, in degrees or sexagesimal with RA in hours) within a radius, "
        "and write the matched cutouts with the separation and the source's columns (a column named like one "
        "of GalView's gets the prefix catalogue_). catalogue_row counts the catalogue's rows from 1.",
    )
    parser.add_argument("data", help="the cutout collection (file or folder); it needs sky positions")
    parser.add_argument("catalogue", help="the catalogue: .csv, .txt, .fits, .fit or .fits.gz")
    parser.add_argument(
        "--radius",
        type=number_in(0, MAX_RADIUS_ARCSEC, low_open=True),
        default=DEFAULT_RADIUS_ARCSEC,
        help="match radius in arcsec, at most 3600 (default: %(default)s)",
    )
    parser.add_argument(
        "--all", action="store_true", help="every cutout, matched or not (default: the matched)"
    )
    parser.add_argument("-o", "--output", required=True, help="CSV file to write")
    add_open_options(parser)
    parser.set_defaults(run=cmd_crossmatch)


def cmd_crossmatch(args) -> int:
    import numpy as np

    from galview.core.crossmatch import describe_match
    from galview.core.outputs import output_path
    from galview.io import open_collection
    from galview.io.catalogues import match_collection
    from galview.io.writers import write_csv

    output = output_path(args.output, (".csv",), "the cross-match")
    with open_collection(args.data, **open_options(args)) as collection:
        catalogue, match = match_collection(collection, args.catalogue, args.radius)
        ra, dec = (np.asarray(c, np.float64) for c in collection.readable_coords())
        chosen = np.arange(len(collection)) if args.all else np.flatnonzero(match.matched)
        ids = [collection.id_of(int(i)) for i in chosen]
    names = [f"catalogue_{name}" if name in OWN_COLUMNS else name for name in catalogue.columns]
    values = list(catalogue.columns.values())

    def rows():
        for position, i in enumerate(chosen):
            row = int(match.row[i])
            found = row >= 0
            cells = [
                int(i), ids[position], _number(ra[i], 7), _number(dec[i], 7),
                _number(match.separation_arcsec[i], 4), row + 1 if found else "",
            ]  # fmt: skip
            yield cells + [column[row] if found else "" for column in values]

    write_csv(output, [*OWN_COLUMNS, *names], rows())
    line = describe_match(match, len(catalogue), catalogue.name, catalogue.unreadable)
    print(f"{output}: {line}")
    return 0


def _number(value: float, decimals: int):
    """A rounded number for the table, or an empty cell where it is not finite (NaN: unknown)."""
    import math

    return "" if not math.isfinite(value) else round(float(value), decimals)

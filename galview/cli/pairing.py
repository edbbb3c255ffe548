"""``galview pair``: each cutout's counterpart in another collection of the same objects.

Writes a table (index, id, other_index, other_id, separation_arcsec) that pairs the cutouts of two
files: another survey's cutouts of the same candidates, deeper imaging, another band. ``galview view
DATA --beside OTHER`` shows the pairs side by side.
"""

from __future__ import annotations

from galview.cli.common import add_open_options, open_options
from galview.cli.parsing import number_in

COLUMNS = ("index", "id", "other_index", "other_id", "separation_arcsec")


def add_parsers(commands) -> None:
    """Register ``pair`` on the main parser's ``commands``."""
    from galview.core.match_defaults import DEFAULT_RADIUS_ARCSEC, MAX_RADIUS_ARCSEC, PAIR_BY

    parser = commands.add_parser(
        "pair",
        help="pair the cutouts with another collection of the same objects (another survey)",
        description="Find each cutout's counterpart in another collection of the same objects (another "
        "survey's cutouts, deeper imaging, another band) by id, by sky position or by order, and write the "
        "pairs as CSV. --by auto takes ids when most of the smaller file's ids are in the other, else sky positions when both "
        "have them, else order when neither gives ids and both hold as many cutouts. 'galview view DATA "
        "--beside OTHER' shows them side by side.",
    )
    parser.add_argument("data", help="the cutout collection (file or folder)")
    parser.add_argument("other", help="the other collection of the same objects")
    parser.add_argument(
        "--by", choices=PAIR_BY, default="auto", help="how to pair them (default: %(default)s)"
    )
    parser.add_argument(
        "--radius",
        type=number_in(0, MAX_RADIUS_ARCSEC, low_open=True),
        default=DEFAULT_RADIUS_ARCSEC,
        help="for pairs by sky position: the largest separation in arcsec, at most 3600 (default: %(default)s)",
    )
    parser.add_argument(
        "--all", action="store_true", help="every cutout, paired or not (default: the paired)"
    )
    parser.add_argument("-o", "--output", required=True, help="CSV file to write")
    add_open_options(parser)
    parser.set_defaults(run=cmd_pair)


def cmd_pair(args) -> int:
    import math
    from pathlib import Path

    import numpy as np

    from galview.core.outputs import output_path
    from galview.io import open_collection
    from galview.io.paired_collections import open_and_pair
    from galview.io.writers import write_csv

    output = output_path(args.output, (".csv",), "the pairs")
    with open_collection(args.data, **open_options(args)) as collection:
        other, pairing = open_and_pair(collection, args.other, args.by, args.radius)
        with other:
            chosen = np.arange(len(collection)) if args.all else np.flatnonzero(pairing.other_index >= 0)
            ids, other_ids = collection.ids, other.ids
            separation = pairing.separation_arcsec

            def rows():
                for i in chosen.tolist():
                    j = int(pairing.other_index[i])
                    far = (
                        ""
                        if separation is None or not math.isfinite(separation[i])
                        else round(float(separation[i]), 4)
                    )
                    yield [i, ids[i], j if j >= 0 else "", other_ids[j] if j >= 0 else "", far]

            write_csv(output, COLUMNS, rows())
    print(f"{output}: {pairing.summary(Path(str(other.source)).name)}")
    return 0

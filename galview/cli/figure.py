"""``galview mosaic``: a figure of cutouts (PNG), as File ▸ Save the grid as an image… draws it."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from galview.cli.common import add_open_options, open_options
from galview.cli.parsing import whole_number
from galview.core.display_names import INTERVALS, STRETCHES
from galview.core.display_names import MAX_FIGURE_TILES as MAX_TILES
from galview.core.errors import UserFacingError

FROM_HELP = (
    "a CSV table with an 'index' column, read in its order: what File ▸ Export the grid as shown, "
    "galview score, similar and labels export write; its probabilities ('prob' or the first 'p_' "
    "column) go into the captions"
)


def add_parsers(commands) -> None:
    """Register ``mosaic`` on the main parser's ``commands``."""
    mosaic = commands.add_parser(
        "mosaic",
        help="a figure (PNG) of chosen cutouts with their ids, labels and probabilities",
        description="Draw chosen cutouts in a grid, as the window shows them, each captioned with its id, "
        "its label (the label store's where there is one) and, from a table, its probability: a figure for "
        "a paper or a talk.",
    )
    mosaic.add_argument("data", help="the cutout collection (file or folder)")
    chosen = mosaic.add_mutually_exclusive_group(required=True)
    chosen.add_argument("--indices", type=int, nargs="+", metavar="I", help="these cutouts, in this order")
    chosen.add_argument("--from", dest="table", metavar="TABLE.csv", help=FROM_HELP)
    mosaic.add_argument(
        "-k", type=whole_number(1), default=48, help=f"at most this many, from the top (at most {MAX_TILES})"
    )
    mosaic.add_argument(
        "--columns", type=whole_number(1), help="cutouts per row (default: a near-square grid)"
    )
    mosaic.add_argument("--cell", type=whole_number(16), default=128, help="side of each cutout in pixels")
    mosaic.add_argument(
        "--stretch", choices=STRETCHES, help="display stretch (default: as the window opens it)"
    )
    mosaic.add_argument(
        "--interval", choices=INTERVALS, help="display interval (default: as the window opens it)"
    )
    mosaic.add_argument(
        "--beside",
        metavar="OTHER",
        help="another collection of the same objects (another survey): each cutout's counterpart beside it, "
        "paired as 'galview pair --by auto' pairs them",
    )
    mosaic.add_argument("-o", "--output", required=True, help="PNG file to write")
    add_open_options(mosaic)
    mosaic.set_defaults(run=cmd_mosaic)


def cmd_mosaic(args) -> int:
    from dataclasses import replace

    import numpy as np

    from galview.core.display import default_settings
    from galview.core.label_values import class_names_for, label_name
    from galview.core.mosaic import compose_mosaic, render_tiles, tile_captions, unreadable_tiles
    from galview.core.outputs import output_path
    from galview.io import open_collection
    from galview.io.label_choice import current_labels
    from galview.io.writers import write_png

    output = output_path(args.output, (".png",), "the figure")
    most = MAX_TILES // 2 if args.beside else MAX_TILES  # with --beside each cutout takes two tiles
    if args.k > most:
        raise UserFacingError(output, f"-k {args.k} is too many for one figure; at most {most}")
    with open_collection(args.data, **open_options(args)) as collection:
        if args.table:
            indices, probs, prob_name = read_table(Path(args.table), len(collection))
        else:
            indices, probs, prob_name = np.asarray(args.indices, dtype=np.int64), None, "p"
            if indices.min() < 0 or indices.max() >= len(collection):
                raise UserFacingError(
                    args.data, f"--indices must be 0..{len(collection) - 1} for its {len(collection)} cutouts"
                )
        indices, probs = indices[: args.k], None if probs is None else probs[: args.k]
        if not len(indices):
            raise UserFacingError(args.table, "holds no cutout")
        display = default_settings(collection.dtype, collection.shape[2])
        display = replace(
            display, stretch=args.stretch or display.stretch, interval=args.interval or display.interval
        )
        tiles, unreadable = render_tiles(collection, indices, display)
        labels = current_labels(collection).labels
        classes = class_names_for(collection, labels)
        names = [label_name(labels[i], classes) for i in indices]
        for position in unreadable:
            names[position] = "could not be read"
        if unreadable:
            print(f"warning: {unreadable_tiles(unreadable, indices, 'the figure')}", file=sys.stderr)
        captions = tile_captions([collection.id_of(int(i)) for i in indices], names, probs, prob_name)
        columns, paired = args.columns, ""
        if args.beside:
            tiles, captions, columns, paired = _beside(args, collection, indices, tiles, captions)
        figure = compose_mosaic(tiles, captions, columns, args.cell)
    write_png(figure, output)
    print(f"{output}: {len(indices)} cutouts, {figure.shape[1]} × {figure.shape[0]} pixels{paired}")
    return 0


def _beside(args, collection, indices, tiles, captions):
    """Each tile followed by its counterpart's in ``--beside``: (tiles, captions, columns, what to print)."""
    from dataclasses import replace

    from galview.core.display import default_settings
    from galview.core.mosaic import counterpart_tiles, mosaic_layout, side_by_side
    from galview.io.paired_collections import open_and_pair

    other, pairing = open_and_pair(collection, args.beside)
    with other:
        name = Path(str(other.source)).name
        display = default_settings(other.dtype, other.shape[2])
        display = replace(  # the same stretch and interval as the cutouts beside them
            display, stretch=args.stretch or display.stretch, interval=args.interval or display.interval
        )
        more, more_captions, unreadable = counterpart_tiles(other, pairing, indices, name, display)
    if unreadable:
        print(
            f"warning: {len(unreadable)} counterparts in {name} could not be read (dark tiles)",
            file=sys.stderr,
        )
    _rows, columns = mosaic_layout(len(indices), args.columns)
    shown = f"; beside each, its counterpart ({pairing.summary(name)})"
    return side_by_side(tiles, more), side_by_side(captions, more_captions), 2 * columns, shown


def read_table(path: Path, n: int):
    """The ``index`` column of a CSV table (in its order), its probabilities if it has any and their
    name in a caption: (M,) int64, (M,) float64 or None, and ``"P(LSBG)"`` (from ``p_LSBG``) or ``"p"``.

    Raises
    ------
    UserFacingError
        Naming the file: unreadable, no ``index`` column, an index that is not a cutout of the collection.
    """
    import numpy as np

    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            rows, columns = list(reader), list(reader.fieldnames or [])
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UserFacingError(path, f"cannot be read as a CSV table ({exc})") from None
    if "index" not in columns:
        raise UserFacingError(path, f"has no 'index' column; its columns: {', '.join(columns) or 'none'}")
    indices = []
    for line, row in enumerate(rows, start=2):
        text = (row.get("index") or "").strip()
        if not text.isdigit() or int(text) >= n:
            raise UserFacingError(path, f"line {line}: index {text!r} is not a cutout of a collection of {n}")
        indices.append(int(text))
    column = next((c for c in columns if c == "prob" or c.startswith("p_")), None)
    probs = None if column is None else np.array([_number(row.get(column)) for row in rows])
    name = f"P({column[2:]})" if column and column.startswith("p_") else "p"
    return np.asarray(indices, dtype=np.int64), probs, name


def _number(text) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return float("nan")

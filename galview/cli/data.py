"""``galview info``, ``find`` and ``simulate``: describe a collection, find a cutout in it, make a simulated one."""

from __future__ import annotations

import json

from galview.cli.common import add_open_options, open_options
from galview.cli.parsing import whole_number
from galview.core.words import count

SIMULATION_SUFFIXES = (".h5", ".hdf5")


def add_parsers(commands) -> None:
    """Register ``info``, ``find`` and ``simulate`` on the main parser's ``commands``."""
    info = commands.add_parser(
        "info",
        help="describe a cutout collection",
        description="Count, cutout shape (H, W, C), dtype, bands, labels and coordinates of a collection.",
    )
    info.add_argument("path", help="the cutout collection (file or folder)")
    info.add_argument("--json", action="store_true", help="print one JSON object")
    add_open_options(info)
    info.set_defaults(run=cmd_info)

    find = commands.add_parser(
        "find",
        help="find a cutout by index, id (or part of one), sky position or a word of its note",
        description="Find the cutout TEXT names, as the window's Cutout ▸ Go to… does: #12 is cutout 12; then "
        "an exact id; then a whole number is an index; then two angles, RA Dec in degrees (150.1 2.2) or "
        "sexagesimal with RA in hours (10:00:24 +02:12:00), or a sky viewer's link with ra= and dec=, give the "
        "nearest cutout with a position; then text inside exactly one id; last, text inside exactly one note "
        "of the label store. Prints its index, id, RA, Dec and how it was found, tab-separated.",
    )
    find.add_argument("path", help="the cutout collection (file or folder)")
    find.add_argument(
        "text", help="index (#12), id or part of one, position (quote it: '150.1 2.2') or a word of a note"
    )
    add_open_options(find)
    find.set_defaults(run=cmd_find)

    simulate = commands.add_parser(
        "simulate",
        help="simulate LSBG and artifact cutouts with known truth",
        description="Simulate DES- or HSC-like LSBG and artifact cutouts with GalSim into an HDF5 file "
        "(viewer colours, fluxes and a truth table).",
    )
    simulate.add_argument("--survey", choices=["des", "hsc"], default="des", help="survey to imitate")
    simulate.add_argument("--n", type=int, required=True, help="number of cutouts")
    simulate.add_argument("--seed", type=int, default=0, help="random seed (the same seed, the same file)")
    simulate.add_argument(
        "--lsbg-fraction", type=float, default=0.5, help="fraction of LSBGs (0.5: balanced)"
    )
    simulate.add_argument(
        "--no-jpeg", action="store_true", help="skip the JPEG round trip of the viewer colours"
    )
    simulate.add_argument(
        "--workers", type=whole_number(1), default=None, help="processes (default: every core)"
    )
    simulate.add_argument("-o", "--output", required=True, help="HDF5 file to write (.h5 or .hdf5)")
    simulate.set_defaults(run=cmd_simulate)


def cmd_info(args) -> int:
    from galview.io import open_collection

    with open_collection(args.path, **open_options(args)) as collection:
        summary = collection.describe()
        summary["n_coords"] = coords_count(collection)
        summary["label_store"] = label_store_summary(collection)
    if args.json:
        print(json.dumps(summary))
        return 0
    h, w, c = summary["shape"]
    print(f"path:    {args.path}")
    print(f"cutouts: {summary['n']}")
    print(f"shape:   {h} × {w} × {c} (H, W, C)")
    print(f"dtype:   {summary['dtype']}")
    print(f"bands:   {', '.join(summary['bands'])}")
    print(f"labels:  {'yes' if summary['has_labels'] else 'no'}")
    store = summary["label_store"]
    if store is not None:
        counts = ", ".join(f"{n} {name}" for name, n in store.get("counts", {}).items())
        notes = f"; {count(store['notes'], 'note')}" if store.get("notes") else ""
        text = store.get("problem") or (
            f"{count(store['set'], 'label')} set in GalView" + (f": {counts}" if counts else "") + notes
        )
        print(f"store:   {store['path']} ({text})")
    print(f"coords:  {summary['n_coords']} of {summary['n']}")
    return 0


def cmd_find(args) -> int:
    from galview.core.errors import UserFacingError
    from galview.core.finding import find_cutout
    from galview.io import open_collection

    with open_collection(args.path, **open_options(args)) as collection:
        coords = collection.coords or (None, None)
        ids = collection.ids if collection.has_ids else None
        try:
            found = find_cutout(args.text, len(collection), ids, *coords, notes=_notes(collection))
        except ValueError as exc:
            raise UserFacingError(args.path, str(exc)) from None
        ra, dec = (_degrees(None if c is None else c[found.index]) for c in coords)
        print(
            "\t".join([str(found.index), collection.id_of(found.index), ra, dec, found.describe(args.text)])
        )
    return 0


def _notes(collection) -> dict[int, str]:
    """The notes in the collection's label store (none when it has no store, or one that cannot be read:
    the other ways of finding a cutout still work)."""
    from galview.core.errors import UserFacingError
    from galview.io.label_store import has_label_store, open_label_store

    try:
        if not has_label_store(collection):
            return {}
        with open_label_store(collection) as store:
            return store.notes()
    except UserFacingError:
        return {}


def _degrees(value) -> str:
    """An angle in degrees to six decimals; empty when unknown."""
    return f"{float(value):.6f}" if value is not None and value == value else ""


def label_store_summary(collection) -> dict | None:
    """The collection's label store, if it has one: its path, the labels set in GalView per class and
    how many cutouts have a note (``problem`` instead when it cannot be read now: damaged, or locked by
    another program)."""
    import numpy as np

    from galview.core.errors import UserFacingError
    from galview.core.label_values import class_names_for, label_name
    from galview.io.label_paths import store_path_for
    from galview.io.label_store import has_label_store, open_label_store

    try:
        if not has_label_store(collection):
            return None
    except UserFacingError as exc:  # a store beside the data in a folder GalView cannot write to
        return {"path": str(exc.path), "problem": f"cannot be read now: {exc.problem}"}
    path = store_path_for(collection.source, make_folders=False)
    try:
        with open_label_store(collection, timeout=2.0) as store:
            user = np.asarray(store.current(), dtype=np.float64)
            noted = len(store.notes())
    except UserFacingError as exc:
        return {"path": str(path), "problem": f"cannot be read now: {exc.problem}"}
    values, numbers = np.unique(user[np.isfinite(user)], return_counts=True)
    names = class_names_for(collection, user)
    counts = {}  # classes by count, then unsure
    for value, number in sorted(zip(values, numbers, strict=True), key=lambda pair: (pair[0] < 0, -pair[1])):
        name = label_name(value, names)
        counts[f"labelled {name}" if name.isdigit() else name] = int(number)  # "58 labelled 1", not "58 1"
    return {"path": str(path), "set": int(numbers.sum()), "counts": counts, "notes": noted}


def coords_count(collection) -> int:
    """How many cutouts have sky coordinates (a finite RA and Dec)."""
    import numpy as np

    if collection.coords is None:
        return 0
    ra, dec = collection.coords
    return int((np.isfinite(ra) & np.isfinite(dec)).sum())


def cmd_simulate(args) -> int:
    from galview.core.errors import UserFacingError
    from galview.core.outputs import output_path
    from galview.core.progress import progress_printer

    if args.n <= 0:
        raise UserFacingError("--n", "must be a positive number of cutouts")
    if not 0.0 <= args.lsbg_fraction <= 1.0:
        raise UserFacingError("--lsbg-fraction", "must lie between 0 and 1")
    output = output_path(args.output, SIMULATION_SUFFIXES, "a simulated collection")
    from galview.sim.generate import write_simulation
    from galview.sim.surveys import SURVEYS

    with progress_printer(f"simulate {args.survey}") as progress:
        path = write_simulation(
            output,
            SURVEYS[args.survey],
            args.n,
            args.seed,
            lsbg_fraction=args.lsbg_fraction,
            jpeg=not args.no_jpeg,
            workers=args.workers,
            on_progress=progress,
        )
    print(path)
    return 0

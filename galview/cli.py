"""Command line: ``galview info | view | demo | simulate``. The composition root of the application."""

from __future__ import annotations

import argparse
import json
import sys

from galview import __version__
from galview.core.errors import CollectionError


def _add_open_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--layout", choices=["NHWC", "NCHW", "NHW", "CHW", "HW"], help="axis order of the stored array"
    )
    parser.add_argument("--dataset", help="name of the image array in an HDF5 or npz file")


def _open_options(args) -> dict:
    return {k: v for k, v in (("layout", args.layout), ("dataset", args.dataset)) if v}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="galview", description="Triage low-surface-brightness galaxy candidates."
    )
    parser.add_argument("--version", action="version", version=f"galview {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    info = commands.add_parser("info", help="describe a cutout collection")
    info.add_argument("path")
    info.add_argument("--json", action="store_true", help="print one JSON object")
    _add_open_options(info)

    view = commands.add_parser("view", help="open collections in the window")
    view.add_argument("paths", nargs="*")
    _add_open_options(view)
    _add_window_options(view)

    demo = commands.add_parser("demo", help="open the demo collection")
    _add_window_options(demo)

    simulate = commands.add_parser("simulate", help="simulate LSBG and artifact cutouts with known truth")
    simulate.add_argument("--survey", choices=["des", "hsc"], default="des")
    simulate.add_argument("--n", type=int, required=True, help="number of cutouts")
    simulate.add_argument("--seed", type=int, default=0)
    simulate.add_argument(
        "--lsbg-fraction", type=float, default=0.5, help="fraction of LSBGs (default 0.5: balanced)"
    )
    simulate.add_argument(
        "--no-jpeg", action="store_true", help="skip the JPEG round trip of the viewer colours"
    )
    simulate.add_argument("--workers", type=int, default=None, help="processes (default: every core)")
    simulate.add_argument("-o", "--output", required=True, help="HDF5 file to write")
    return parser


def _add_window_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--offscreen", action="store_true", help="render without a display (Qt offscreen)")
    parser.add_argument("--screenshot", metavar="FILE", help="save the main window as PNG and exit")


def cmd_info(args) -> int:
    from galview.io import open_collection

    with open_collection(args.path, **_open_options(args)) as collection:
        summary = collection.describe()
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
    print(f"coords:  {'yes' if summary['has_coords'] else 'no'}")
    return 0


def cmd_window(args, paths: list[str]) -> int:
    if args.offscreen:
        import os

        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from galview.qt.app import run_app

    options = _open_options(args) if hasattr(args, "layout") else {}
    return run_app(paths, open_options=options, screenshot=args.screenshot)


def cmd_demo(args) -> int:
    from galview.demo import ensure_demo_collection

    path = ensure_demo_collection(progress=lambda text: print(text, file=sys.stderr))
    return cmd_window(args, [str(path)])


def cmd_simulate(args) -> int:
    from galview.core.progress import ProgressBar
    from galview.sim.generate import write_simulation
    from galview.sim.surveys import SURVEYS

    if args.n <= 0:
        print("galview: error: --n must be a positive number of cutouts", file=sys.stderr)
        return 2
    if not 0.0 <= args.lsbg_fraction <= 1.0:
        print("galview: error: --lsbg-fraction must lie between 0 and 1", file=sys.stderr)
        return 2
    bar = ProgressBar(args.n, f"simulate {args.survey}")
    path = write_simulation(
        args.output,
        SURVEYS[args.survey],
        args.n,
        args.seed,
        lsbg_fraction=args.lsbg_fraction,
        jpeg=not args.no_jpeg,
        workers=args.workers,
        progress=bar.update,
    )
    print(path)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "info":
            return cmd_info(args)
        if args.command == "view":
            return cmd_window(args, args.paths)
        if args.command == "simulate":
            return cmd_simulate(args)
        return cmd_demo(args)
    except CollectionError as exc:
        print(f"galview: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

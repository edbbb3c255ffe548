"""``galview view`` and ``galview demo``: open the window."""

from __future__ import annotations

import argparse
import sys

from galview.cli.common import add_open_options, open_options


def add_parsers(commands) -> None:
    """Register ``view`` and ``demo`` on the main parser's ``commands``."""
    view = commands.add_parser("view", help="open collections in the window")
    view.add_argument("paths", nargs="*")
    view.add_argument(
        "--classes",
        help="names of the label values 0, 1, … comma-separated (default: the file's, else 0, 1)",
    )
    add_open_options(view)
    _add_window_options(view)
    view.set_defaults(run=lambda args: cmd_window(args, args.paths))

    demo = commands.add_parser("demo", help="open the demo collection")
    _add_window_options(demo)
    demo.set_defaults(run=cmd_demo)


def _add_window_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--offscreen", action="store_true", help="render without a display (Qt offscreen)")
    parser.add_argument("--screenshot", metavar="FILE", help="save the main window as PNG and exit")


def cmd_window(args, paths: list[str]) -> int:
    if args.offscreen:
        import os

        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from galview.qt.app import run_app

    classes = getattr(args, "classes", None)
    return run_app(paths, open_options=open_options(args), screenshot=args.screenshot, class_names=classes)


def cmd_demo(args) -> int:
    from galview.demo import ensure_demo_collection

    path = ensure_demo_collection(progress=lambda text: print(text, file=sys.stderr))
    return cmd_window(args, [str(path)])

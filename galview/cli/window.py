"""``galview view`` and ``galview demo``: open the window.

The paths, the options and the screenshot file are checked before Qt (or TensorFlow, which the
window loads for its model) is imported, so a typo is answered at once.
"""

from __future__ import annotations

import argparse
import sys

from galview.cli.common import add_open_options, open_options

SCREENSHOT_SUFFIXES = (".png",)


def add_parsers(commands) -> None:
    """Register ``view`` and ``demo`` on the main parser's ``commands``."""
    view = commands.add_parser(
        "view", help="open collections in the window", description="Open cutout collections in the window."
    )
    view.add_argument("paths", nargs="*", metavar="PATH", help="cutout collections (files or folders)")
    view.add_argument(
        "--classes",
        help="names of the label values 0, 1, … comma-separated (default: the file's, else 0, 1)",
    )
    view.add_argument(
        "--beside",
        metavar="OTHER",
        help="another collection of the same objects (another survey, deeper imaging): each cutout's "
        "counterpart is shown beside it, paired by id, sky position or order as the files allow",
    )
    add_open_options(view)
    _add_window_options(view)
    view.set_defaults(run=lambda args: cmd_window(args, args.paths))

    demo = commands.add_parser(
        "demo",
        help="open the demo collection",
        description="Open 600 simulated DES-like cutouts (generated on first use, then cached).",
    )
    _add_window_options(demo)
    demo.set_defaults(run=cmd_demo)


def _add_window_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--offscreen", action="store_true", help="render without a display (Qt offscreen)")
    parser.add_argument(
        "--screenshot", metavar="FILE", help="save the main window as PNG once it is drawn, and exit"
    )


def check_paths(args, paths: list[str]) -> None:
    """Open and describe each collection once (then close it): a missing or unreadable file, or class
    names that cannot name its labels (``--classes``), is a one-line error before the window starts."""
    from galview.io import open_collection

    classes = getattr(args, "classes", None)
    for path in paths:
        with open_collection(path, **open_options(args)) as collection:
            collection.describe()
            if classes is not None:
                collection.set_class_names(classes)


def cmd_window(args, paths: list[str]) -> int:
    if args.screenshot:
        from galview.core.outputs import output_path

        output_path(args.screenshot, SCREENSHOT_SUFFIXES, "a screenshot")
    check_paths(args, paths)
    beside = getattr(args, "beside", None)
    if beside is not None:
        _check_beside(beside, paths, open_options(args))
    if args.offscreen:
        import os

        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from galview.qt.app import run_app
    from galview.qt.messages import install_message_filter

    install_message_filter(verbose=args.verbose)
    classes = getattr(args, "classes", None)
    return run_app(
        paths, open_options=open_options(args), screenshot=args.screenshot, class_names=classes, beside=beside
    )


def _check_beside(beside: str, paths: list[str], options: dict) -> None:
    """The ``--beside`` file opens and pairs with the first path (one-line error otherwise)."""
    from galview.core.errors import UserFacingError
    from galview.io import open_collection
    from galview.io.paired_collections import open_and_pair

    if len(paths) != 1:
        raise UserFacingError(
            "--beside", f"shows another collection beside one: give one PATH, not {len(paths)}"
        )
    with open_collection(paths[0], **options) as collection:
        other, _pairing = open_and_pair(collection, beside)
        other.close()


def cmd_demo(args) -> int:
    if args.screenshot:
        from galview.core.outputs import output_path

        output_path(args.screenshot, SCREENSHOT_SUFFIXES, "a screenshot")
    from galview.demo import ensure_demo_collection

    path = ensure_demo_collection(progress=lambda text: print(text, file=sys.stderr))
    return cmd_window(args, [str(path)])

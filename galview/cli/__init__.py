"""Command line: ``galview info | view | demo | simulate | train | score | explain | labels``.

The composition root: each command lives in its own module of this package, which registers its
parser (``add_parsers``) and sets ``run``, the function that carries it out. Command modules share
helpers through :mod:`galview.cli.common` and never import from this package.
"""

from __future__ import annotations

import argparse
import sys

from galview import __version__
from galview.cli import data, explain, labels, scoring, training, window
from galview.core.errors import UserFacingError

COMMAND_MODULES = (data, window, training, scoring, explain, labels)


def build_parser() -> argparse.ArgumentParser:
    """The ``galview`` parser with every command registered."""
    parser = argparse.ArgumentParser(
        prog="galview", description="Triage low-surface-brightness galaxy candidates."
    )
    parser.add_argument("--version", action="version", version=f"galview {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    for module in COMMAND_MODULES:
        module.add_parsers(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except UserFacingError as exc:
        print(f"galview: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

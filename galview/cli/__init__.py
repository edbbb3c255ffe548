"""Command line: ``galview [--verbose] info | view | demo | simulate | train | finetune | compare | models | score | …``.

The composition root: each command lives in its own module of this package, which registers its
parser (``add_parsers``) and sets ``run``, the function that carries it out. Command modules share
helpers through :mod:`galview.cli.common` and never import from this package. :func:`main` sets up
logging (:mod:`galview.core.logs`) before any command runs.
"""

from __future__ import annotations

import logging
import os
import select
import stat
import sys

from galview import __version__
from galview.cli import (
    adapt,
    cluster,
    compare,
    crossmatch,
    data,
    explain,
    figure,
    finetune,
    labels,
    measure,
    models,
    pairing,
    scoring,
    similarity,
    training,
    window,
)
from galview.cli.parsing import GalviewParser
from galview.core.errors import DamagedStore, UserFacingError
from galview.core.logs import FILE_ONLY, quiet_libraries, setup_logging

logger = logging.getLogger(__name__)

SALVAGE_HINT = (
    "'galview labels salvage DATA [--store STORE]' recovers its readable labels into a new store "
    "and keeps the damaged file"
)

COMMAND_MODULES = (
    data,
    window,
    training,
    finetune,
    adapt,
    compare,
    models,
    scoring,
    explain,
    figure,
    similarity,
    crossmatch,
    pairing,
    measure,
    cluster,
    labels,
)


def build_parser() -> GalviewParser:
    """The ``galview`` parser with every command registered."""
    parser = GalviewParser(
        prog="galview",
        description="Triage low-surface-brightness galaxy candidates. 'galview COMMAND --help' describes "
        "each command and its options.",
    )
    parser.add_argument("--version", action="version", version=f"galview {__version__}")
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="debug messages on stderr (the log file gets them too), and the log lines of TensorFlow and Qt",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.add_parsers(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    Logging is set up first (:func:`galview.core.logs.setup_logging`), and TensorFlow's own log lines
    are silenced unless ``--verbose`` (:func:`galview.core.logs.quiet_libraries`; before any command
    imports it). Each command checks its inputs and outputs before it loads Keras. A
    :class:`UserFacingError` is
    printed as one line ``galview: error: ...`` (exit status 2) and logged; any other exception is
    logged with its traceback (stderr and the log file) and gives exit status 1.
    """
    args = build_parser().parse_args(argv)
    log_file = setup_logging(verbose=args.verbose)
    quiet_libraries(verbose=args.verbose)
    logger.info("galview %s: %s", __version__, " ".join(sys.argv[1:] if argv is None else map(str, argv)))
    logger.debug("options: %s", {key: value for key, value in vars(args).items() if key != "run"})
    try:
        return args.run(args)
    except UserFacingError as exc:
        logger.error("%s", exc, extra=FILE_ONLY)
        hint = isinstance(exc, DamagedStore) and getattr(args, "labels_command", None) != "salvage"
        print(f"galview: error: {exc}" + (f"; {SALVAGE_HINT}" if hint else ""), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        logger.info("interrupted")
        return 130
    except Exception as exc:
        if isinstance(exc, BrokenPipeError) and _stdout_is_broken():
            # the reader of the output went away (``galview info FILE | head -3``): stop quietly, as Unix tools do
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 128 + 13  # killed by SIGPIPE, as a shell reports it
        logger.exception(
            "unexpected error in 'galview %s' (this report is also in %s)",
            args.command,
            log_file or "no log file",
        )
        return 1


def _stdout_is_broken() -> bool:
    """Whether standard output is a pipe whose reader has gone (not another pipe a command used)."""
    try:
        fd = sys.stdout.fileno()
        mode = os.fstat(fd).st_mode
        if not stat.S_ISFIFO(mode) and not stat.S_ISSOCK(mode):
            return False
    except (OSError, ValueError):  # standard output closed altogether
        return True
    try:
        poller = select.poll()
    except AttributeError:  # no poll (Windows): a pipe as standard output is the likely one
        return True
    poller.register(fd, select.POLLOUT)
    return any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))


if __name__ == "__main__":
    sys.exit(main())

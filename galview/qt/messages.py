"""Qt's own messages on the command line: the harmless ones are dropped unless ``--verbose``.

Qt's offscreen platform (``galview view --offscreen``) warns "This plugin does not support
propagateSizeHints()" each time a window is shown; it says nothing the user can act on. Installed
by the command line (:mod:`galview.cli.window`) before the window starts; the tests keep Qt's
default handler (they fail on Qt warnings).
"""

from __future__ import annotations

import sys

from PyQt6.QtCore import QtMsgType, qInstallMessageHandler

#: Messages that say nothing the user can act on (matched by their start).
HARMLESS = ("This plugin does not support propagateSizeHints()",)

_installed = None  # the handler Qt holds; kept alive here


def is_harmless(message: str) -> bool:
    """True for a Qt message from :data:`HARMLESS`."""
    return message.startswith(HARMLESS)


def install_message_filter(verbose: bool = False) -> None:
    """Print Qt's messages on stderr as Qt would, leaving out :data:`HARMLESS` ones unless ``verbose``."""
    global _installed

    def handler(kind, _context, message: str) -> None:
        if not verbose and kind != QtMsgType.QtFatalMsg and is_harmless(message):
            return
        print(message, file=sys.stderr, flush=True)

    _installed = handler
    qInstallMessageHandler(handler)

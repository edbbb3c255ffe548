"""The argument parser ``galview`` uses: errors name the subcommand and suggest what was meant.

argparse on its own reports an unknown option of a subcommand (``galview score --batchsize 3``) with
the *top-level* usage, and a mistyped choice with no hint. :class:`GalviewParser` reports it with
the usage of the subcommand the user typed, and adds the closest option, command or choice
(``did you mean --batch-size?``). :class:`HelpFormatter` shows each option's default.
"""

from __future__ import annotations

import argparse
import difflib
import re

_PARSER_ATTRIBUTE = "_galview_parser"  # the innermost (sub)parser that read the command line
_INVALID_CHOICE = re.compile(r"invalid choice: '(?P<given>[^']*)' \(choose from (?P<choices>.*)\)$")


class HelpFormatter(argparse.HelpFormatter):
    """Adds ``(default: X)`` to an option's help where it has a default worth showing."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        shown = not (default is None or default is False or default == argparse.SUPPRESS)
        shown = shown and not isinstance(default, list)
        said = "%(default)" in text or re.search(r"\bdefault\b", text)  # "(default 40)", "default: the …"
        if shown and not said and action.option_strings:
            text += " (default: %(default)s)"
        return text


class GalviewParser(argparse.ArgumentParser):
    """An :class:`argparse.ArgumentParser` whose errors come from the subcommand, with suggestions."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def parse_known_args(self, args=None, namespace=None):
        namespace = namespace if namespace is not None else argparse.Namespace()
        setattr(namespace, _PARSER_ATTRIBUTE, self)  # a subparser runs later and overwrites this
        return super().parse_known_args(args, namespace)

    def parse_args(self, args=None, namespace=None):
        parsed, extras = self.parse_known_args(args, namespace)
        parser = getattr(parsed, _PARSER_ATTRIBUTE, self)
        delattr(parsed, _PARSER_ATTRIBUTE)
        if extras:
            parser.error(parser.unrecognized(extras))
        return parsed

    def unrecognized(self, extras: list[str]) -> str:
        """``unrecognized arguments: --batchsize 3 (did you mean --batch-size?)``."""
        options = [option for action in self._actions for option in action.option_strings]
        hints = []
        for extra in extras:
            if extra.startswith("-"):
                hints += difflib.get_close_matches(extra.split("=", 1)[0], options, n=1, cutoff=0.6)
        text = f"unrecognized arguments: {' '.join(extras)}"
        return text + (f" (did you mean {' or '.join(dict.fromkeys(hints))}?)" if hints else "")

    def error(self, message: str):
        match = _INVALID_CHOICE.search(message)
        if match:
            choices = re.findall(r"'([^']*)'", match["choices"])
            close = difflib.get_close_matches(match["given"], choices, n=1, cutoff=0.5)
            if close:
                message += f"; did you mean '{close[0]}'?"
        super().error(message)


def whole_number(minimum: int):
    """An argparse ``type``: a whole number of at least ``minimum`` (``--epochs 0`` is refused, not read
    as "the default")."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} is less than {minimum}")
        return value

    return parse


def number_in(low: float, high: float = float("inf"), *, low_open: bool = False, high_open: bool = False):
    """An argparse ``type``: a number between ``low`` and ``high`` (either end excluded when open)."""
    left, right = "(" if low_open else "[", ")" if high_open else "]"
    interval = f"{left}{low:g}, {high:g}{right}" if high != float("inf") else f"{left}{low:g}, ∞)"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        below = value <= low if low_open else value < low
        above = value >= high if high_open else value > high
        if below or above or value != value:  # NaN is in no interval
            raise argparse.ArgumentTypeError(f"{text} is not in {interval}")
        return value

    return parse

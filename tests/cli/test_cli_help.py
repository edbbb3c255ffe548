"""Every command's --help: each option's default said once."""

from __future__ import annotations

import argparse
import re

from galview.cli import build_parser
from galview.cli.parsing import HelpFormatter


def _parsers(parser: argparse.ArgumentParser, name: str = "galview"):
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub, subparser in action.choices.items():
                yield from _parsers(subparser, f"{name} {sub}")


def test_no_option_states_its_default_twice():
    """'--epochs (default 40) (default: 40)': the formatter added a default the help already gave."""
    formatter = HelpFormatter("galview")
    twice = []
    for name, parser in _parsers(build_parser()):
        for action in parser._actions:
            if action.option_strings and action.help not in (None, argparse.SUPPRESS):
                text = formatter._expand_help(action)
                if len(re.findall(r"\bdefault\b", text)) > 1:
                    twice.append(f"{name} {action.option_strings[-1]}: {text}")
    assert not twice, "\n".join(twice)


def test_an_option_whose_help_does_not_give_its_default_gets_it():
    text = dict(_parsers(build_parser()))["galview train-encoder"].format_help()
    assert re.search(r"--seed SEED\s+seed of the weights, order and views \(default: 0\)", text)

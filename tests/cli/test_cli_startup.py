"""A fast, quiet command line: errors that need no model arrive before TensorFlow (or Qt) is
imported; TensorFlow's and Qt's own log lines are silenced unless --verbose; a typo in an option
gets the subcommand's usage and a suggestion; every option has help."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys

import pytest

from galview.cli import build_parser, main
from galview.cli.parsing import HelpFormatter

# Runs galview's main() and then reports which heavy packages the command had imported.
WRAPPER = (
    "import sys\n"
    "from galview.cli import main\n"
    "try:\n"
    "    rc = main(sys.argv[1:])\n"
    "except SystemExit as exc:\n"
    "    rc = exc.code\n"
    "heavy = {'tensorflow', 'keras', 'PyQt6', 'galsim', 'numpy'}\n"
    "print(' '.join(sorted({m.split('.')[0] for m in sys.modules} & heavy)))\n"
    "sys.exit(rc)\n"
)


def run_wrapped(args, tmp_path, **env):
    environment = dict(os.environ, QT_QPA_PLATFORM="offscreen", **env)
    return subprocess.run(
        [sys.executable, "-c", WRAPPER, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
        env=environment,
    )


@pytest.fixture
def des(shared_data):
    return shared_data / "des_lsbg" / "des_lsbg_dev.npz"


CHEAP_ERRORS = {
    "view missing file": (["view", "nosuch.npz"], "nosuch.npz: no such file"),
    "view screenshot suffix": (["view", "DES", "--offscreen", "--screenshot", "s.jpg"], "as '.jpg'"),
    "score missing file": (["score", "nosuch.npz", "-o", "x.csv"], "nosuch.npz: no such file"),
    "score missing folder": (["score", "DES", "-o", "missing_dir/x.csv"], "missing_dir does not exist"),
    "score unknown suffix": (["score", "DES", "-o", "out.txt"], "as '.txt'"),
    "score missing model": (["score", "DES", "--model", "nosuch.keras", "-o", "x.csv"], "no such model"),
    "explain missing file": (["explain", "nosuch.npz", "--index", "0", "-o", "x.npy"], "no such file"),
    "explain index": (["explain", "DES", "--index", "500", "-o", "x.npy"], "index 500 is out of range"),
    "train missing file": (["train", "nosuch.npz", "-o", "model"], "nosuch.npz: no such file"),
    "train missing parent": (["train", "DES", "--parent", "nosuch", "-o", "model"], "no such model"),
    "suspects missing file": (["labels", "suspects", "nosuch.npz", "-o", "s.csv"], "no such file"),
    "simulate missing folder": (["simulate", "--n", "4", "-o", "missing/s.h5"], "missing does not exist"),
    "typo in an option": (["score", "DES", "-o", "x.csv", "--batchsize", "3"], "did you mean --batch-size?"),
    "similar missing reference": (
        ["similar", "DES", "--to-file", "nosuch.fits", "--space", "embedding"],
        "nosuch.fits: no such file",
    ),
    "similar missing model": (
        ["similar", "DES", "--to", "0", "--space", "embedding", "--model", "nosuch.keras"],
        "no such model",
    ),
}


@pytest.mark.parametrize("case", list(CHEAP_ERRORS))
def test_errors_that_need_no_model_come_before_tensorflow_and_qt(case, des, tmp_path):
    args, message = CHEAP_ERRORS[case]
    result = run_wrapped([des if a == "DES" else a for a in args], tmp_path)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert set(result.stdout.splitlines()[-1].split()) <= {"numpy"}  # no TensorFlow, Keras, Qt, GalSim
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing written, no folder made


def test_help_imports_neither_keras_nor_qt_nor_numpy(tmp_path):
    """The parser reads the architectures' recipes without loading Keras or the model cards."""
    result = run_wrapped(["train", "--help"], tmp_path)
    assert result.returncode == 0 and "deepshadows 100" in result.stdout
    assert result.stdout.splitlines()[-1] == ""


def test_scoring_prints_no_tensorflow_log_lines_and_one_summary(des, tmp_path):
    result = run_wrapped(["score", des, "-o", "s.csv"], tmp_path, GALVIEW_MODEL="")
    assert result.returncode == 0, result.stderr
    assert (
        result.stderr.strip()
        == "score  scoring  112/112 cutouts in " + result.stderr.split(" in ")[-1].strip()
    )
    assert result.stderr.count("\n") == 1
    for noise in ("absl", "cpu_feature_guard", "I0000", "oneDNN", "tensorflow"):
        assert noise not in result.stderr


def test_offscreen_window_prints_no_qt_plugin_warnings(des, tmp_path, isolated_home):
    result = run_wrapped(["view", des, "--offscreen", "--screenshot", "shot.png"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "shot.png").stat().st_size > 10_000
    assert "propagateSizeHints" not in result.stderr and result.stderr == ""


def test_qt_plugin_warnings_are_the_only_ones_dropped():
    pytest.importorskip("PyQt6")
    from galview.qt.messages import is_harmless

    assert is_harmless("This plugin does not support propagateSizeHints()")
    assert not is_harmless("QPainter::begin: Paint device returned engine == 0, type: 3")


def test_a_typo_in_a_subcommand_option_prints_that_subcommand_usage(capsys):
    with pytest.raises(SystemExit) as info:
        main(["labels", "set", "x.npz", "1", "2", "--clases", "a,b"])
    err = capsys.readouterr().err
    assert info.value.code == 2
    assert err.startswith("usage: galview labels set ")
    assert err.splitlines()[-1] == (
        "galview labels set: error: unrecognized arguments: --clases a,b (did you mean --classes?)"
    )


def test_a_typo_in_a_choice_or_command_gets_a_suggestion(capsys):
    for args, hint in (
        (["scroe", "x"], "did you mean 'score'?"),
        (["train", "x", "-o", "d", "--arch", "deepshadow"], "did you mean 'deepshadows'?"),
    ):
        with pytest.raises(SystemExit):
            main(args)
        assert capsys.readouterr().err.rstrip().endswith(hint)


def _parsers(parser, name="galview"):
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub_name, sub in action.choices.items():
                yield from _parsers(sub, f"{name} {sub_name}")


def test_every_subcommand_and_option_has_help_and_shows_its_default():
    parser = build_parser()
    missing = []
    for name, sub in _parsers(parser):
        if name != "galview":
            assert sub.description, name
        for action in sub._actions:
            if not isinstance(action, argparse._SubParsersAction) and not action.help:
                missing.append(f"{name} {'/'.join(action.option_strings) or action.dest}")
        text = sub.format_help()
        if name == "galview score":
            assert "--batch-size BATCH_SIZE\n" in text and "(default: 1024)" in text
    assert missing == []


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


def test_train_help_lists_architectures_and_the_published_recipes(capsys):
    from galview.ml.architectures import ARCHITECTURES

    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "{" + ",".join(ARCHITECTURES) + "}" in text and "(default: deepshadows)" in text
    assert "deepshadows 100, deepshadows-3class 100, deepmerge 500, uwa-shapes 1000, galaxyid 25" in text
    assert "deepshadows 64" in text and "deepshadows 0.1" in text and "deepshadows 10" in text


def test_undefined_metrics_say_why_instead_of_nan(capsys):
    from galview.cli.common import print_metrics

    nan = float("nan")
    print_metrics(
        {
            "accuracy": 0.455,
            "precision": nan,
            "recall": 0.0,
            "roc_auc": 0.933,
            "confusion": [[5, 0], [6, 0]],
            "ci95": {
                "accuracy": (0.182, 0.727),
                "precision": (nan, nan),
                "recall": (0.0, 0.0),
                "roc_auc": (nan, 1.0),
            },
        }
    )
    out = capsys.readouterr().out
    assert "nan" not in out
    assert "precision  undefined (no positive predictions)\n" in out
    assert (
        "accuracy   0.455  (95% CI 0.182–0.727)\n" in out and "roc_auc    0.933  (95% CI undefined)\n" in out
    )

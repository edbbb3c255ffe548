"""Numbers on the command line outside what they can mean, and folders named by the environment that cannot be
made, are refused in one line, before any work.

Zero used to read as "the recipe's default" (``--epochs 0`` trained for the recipe's epochs), and some
values ended in a traceback (``--jitter -1``, ``--val-split 1.5``, ``labels suspects --folds 1``).
"""

from __future__ import annotations

import numpy as np
import pytest

from galview.cli import main

REFUSED = [
    (["train", "{data}", "--epochs", "0"], "argument --epochs: 0 is less than 1"),
    (["train", "{data}", "--batch-size", "0"], "argument --batch-size: 0 is less than 1"),
    (["train", "{data}", "--patience", "-1"], "argument --patience: -1 is less than 0"),
    (["train", "{data}", "--learning-rate", "0"], "argument --learning-rate: 0 is not in (0, ∞)"),
    (["train", "{data}", "--learning-rate", "nan"], "argument --learning-rate: nan is not in (0, ∞)"),
    (["train", "{data}", "--jitter", "-1"], "argument --jitter: -1 is not in [0, ∞)"),
    (["train", "{data}", "--context-swap", "2"], "argument --context-swap: 2 is not in [0, 1]"),
    (["train", "{data}", "--val-split", "1.5"], "argument --val-split: 1.5 is not in [0, 1)"),
    (["train", "{data}", "--test-split", "x"], "argument --test-split: 'x' is not a number"),
    (
        ["train", "{data}", "--val-split", "0.6", "--test-split", "0.6"],
        "--val-split 0.6 + --test-split 0.6: hold out every cutout; leave some to train on",
    ),
    (["finetune", "{data}", "--epochs", "0"], "argument --epochs: 0 is less than 1"),
    (["finetune", "{data}", "--folds", "0"], "argument --folds: 0 is less than 2"),
    (["labels", "suspects", "{data}", "--folds", "1"], "argument --folds: 1 is less than 2"),
    (["explain", "{data}", "--sheet", "--per-group", "0"], "argument --per-group: 0 is less than 1"),
    (
        ["explain", "{data}", "--sheet", "--per-group", "2.5"],
        "argument --per-group: '2.5' is not a whole number",
    ),
    (["simulate", "--n", "5", "--workers", "0"], "argument --workers: 0 is less than 1"),
]


@pytest.mark.parametrize(("argv", "said"), REFUSED, ids=[" ".join(a[:1] + a[2:]) for a, _ in REFUSED])
def test_a_number_out_of_range_is_refused_in_one_line(tmp_path, capsys, argv, said):
    data = tmp_path / "data.npz"
    out = tmp_path / "out"
    argv = [a.replace("{data}", str(data)) for a in argv] + ["-o", str(out)]
    with pytest.raises(SystemExit) as stop:  # argparse's own refusals end the parser
        code = main(argv)
        raise SystemExit(code)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert said in err and "Traceback" not in err, err
    assert not out.exists() and not data.exists()  # refused before anything was read or written


def test_splits_that_leave_nothing_to_train_on_are_refused(tmp_path, capsys):
    """Two labels of each class, half for validation and 45% for the test: none left to train on."""
    data = tmp_path / "four.npz"
    rng = np.random.default_rng(0)
    np.savez(data, images=rng.integers(0, 255, (4, 64, 64, 3), dtype=np.uint8), labels=np.array([0, 0, 1, 1]))
    argv = ["train", str(data), "--val-split", "0.5", "--test-split", "0.45", "-o", str(tmp_path / "m")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert (
        "no labelled cutout is left to train on after holding out 2 for validation and 2 for the test" in err
    )
    assert not (tmp_path / "m").exists()


def test_a_home_or_store_folder_that_cannot_be_made_is_said_in_one_line(tmp_path, capsys, monkeypatch):
    """GALVIEW_HOME or GALVIEW_LABEL_STORES naming a file: a one-line error, not a traceback."""
    data = tmp_path / "two.npz"
    np.savez(data, images=np.zeros((2, 8, 8), np.float32), labels=np.array([0, 1]))
    a_file = tmp_path / "a_file"
    a_file.write_text("not a folder")
    monkeypatch.setenv("GALVIEW_LABEL_STORES", str(a_file))
    assert main(["labels", "set", str(data), "1", "0"]) == 2
    err = capsys.readouterr().err
    assert "the folder GALVIEW_LABEL_STORES names cannot be made" in err and "Traceback" not in err
    monkeypatch.setenv("GALVIEW_HOME", str(a_file))
    assert main(["demo", "--offscreen"]) == 2
    err = capsys.readouterr().err
    assert "no log file" in err and "logging to stderr only" in err  # the log goes to stderr only
    assert (
        err.splitlines()[-1].startswith("galview: error: ") and "set GALVIEW_HOME to a writable folder" in err
    )
    assert "Traceback" not in err

"""Every command that writes follows one rule, checked before any work: the parent folder exists
(nothing is created otherwise), the suffix decides the format, an unknown suffix is refused.
CSV files end their lines with LF; a model folder is accepted wherever a model file is."""

from __future__ import annotations

import csv
import shutil

import pytest

from galview.assets import models_dir
from galview.cli import main

SHIPPED = "deepshadows_des_sim"


@pytest.fixture
def des(shared_data, tmp_path):
    target = tmp_path / "des.npz"
    shutil.copy(shared_data / "des_lsbg" / "des_lsbg_dev.npz", target)
    return target


@pytest.fixture
def model_folder(tmp_path):
    """The shipped model as 'galview train -o DIR' lays it out: DIR/model.keras + DIR/model.json."""
    folder = tmp_path / "trained"
    folder.mkdir()
    shutil.copy(models_dir() / f"{SHIPPED}.keras", folder / "model.keras")
    shutil.copy(models_dir() / f"{SHIPPED}.json", folder / "model.json")
    return folder


def writing_commands(des, out):
    """Each command that writes, writing ``out`` + its own suffix."""
    return {
        "score": ["score", des, "-o", f"{out}.csv"],
        "simulate": ["simulate", "--n", "4", "-o", f"{out}.h5"],
        "explain": ["explain", des, "--index", "0", "-o", f"{out}.npy"],
        "labels export": ["labels", "export", des, "-o", f"{out}.csv"],
        "labels suspects": ["labels", "suspects", des, "-o", f"{out}.csv"],
        "train": ["train", des, "-o", out],
        "view": ["view", des, "--offscreen", "--screenshot", f"{out}.png"],
        "demo": ["demo", "--offscreen", "--screenshot", f"{out}.png"],
    }


COMMANDS = list(writing_commands("D", "O"))


def _run(capsys, args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def _files(folder):
    """Every file and folder under ``folder`` but GalView's own log (and the folders holding it)."""
    return sorted(
        str(p.relative_to(folder)) for p in folder.rglob("*") if "logs" not in p.parts and p.name != "data"
    )


@pytest.mark.parametrize("command", COMMANDS)
def test_a_missing_folder_is_one_line_and_nothing_is_created(command, des, tmp_path, capsys, isolated_home):
    before, home = _files(tmp_path), _files(isolated_home)
    args = writing_commands(des, tmp_path / "nonexistent" / "dir" / "out")[command]
    code, out, err = _run(capsys, args)
    assert (code, out) == (2, ""), err
    assert err.count("\n") == 1 and err.startswith("galview: error: ") and "does not exist" in err
    assert _files(tmp_path) == before and _files(isolated_home) == home  # no folder, no demo generated


@pytest.mark.parametrize("command", [c for c in COMMANDS if c != "train"])
def test_an_unknown_suffix_is_refused(command, des, tmp_path, capsys):
    args = [str(a) for a in writing_commands(des, tmp_path / "out")[command]]
    args[args.index(next(a for a in args if a.startswith(str(tmp_path / "out"))))] = str(tmp_path / "out.txt")
    code, out, err = _run(capsys, args)
    assert (code, out) == (2, "") and "out.txt: cannot write" in err and "as '.txt'; expected ." in err
    assert not (tmp_path / "out.txt").exists()


def test_train_refuses_a_file_as_its_folder(des, tmp_path, capsys):
    (tmp_path / "taken").write_text("mine")
    code, _, err = _run(capsys, ["train", des, "-o", tmp_path / "taken"])
    assert code == 2 and "taken: is a file; expected a folder for the model" in err
    assert (tmp_path / "taken").read_text() == "mine"


def test_score_csv_has_lf_line_endings_and_a_model_folder_is_accepted(des, model_folder, tmp_path, capsys):
    out = tmp_path / "scores.csv"
    code, printed, err = _run(capsys, ["score", des, "--model", model_folder, "-o", out])
    assert code == 0, err
    assert printed == f"{out}\n"
    data = out.read_bytes()
    assert b"\r" not in data and data.count(b"\n") == 113
    with open(out, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["index", "id", "prob", "predicted"] and len(rows) == 112


def test_explain_and_suspects_accept_a_model_folder(des, model_folder, tmp_path, capsys):
    code, _, err = _run(
        capsys, ["explain", des, "--index", "3", "--model", model_folder, "-o", tmp_path / "m.npy"]
    )
    assert code == 0, err
    code, _, err = _run(
        capsys, ["labels", "suspects", des, "--model", model_folder, "-o", tmp_path / "s.csv", "--folds", "2"]
    )
    assert code == 0, err
    assert b"\r" not in (tmp_path / "s.csv").read_bytes()


def test_a_folder_without_a_model_is_one_line(des, tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    code, out, err = _run(capsys, ["score", des, "--model", empty, "-o", tmp_path / "s.csv"])
    assert (code, out) == (2, "")
    assert (
        err
        == f"galview: error: {empty}: folder holds no model.keras; expected a model file or a folder with model.keras\n"
    )
    assert not (tmp_path / "s.csv").exists()


def test_train_parent_accepts_a_model_folder(des, model_folder, tmp_path, capsys):
    out = tmp_path / "tuned"
    args = ["train", des, "--parent", model_folder, "-o", out, "--epochs", "1", "--test-split", "0.2"]
    code, printed, err = _run(capsys, args)
    assert code == 0, err
    assert (out / "model.keras").is_file() and (out / "model.json").is_file()
    assert printed.splitlines()[-1] == str(out / "model.keras")
    assert "nan" not in printed

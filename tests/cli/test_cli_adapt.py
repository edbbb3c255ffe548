"""``galview adapt``: a model adapted to a collection without labels, written as a new model version."""

from __future__ import annotations

import json

import numpy as np
import pytest

from galview.cli import main


@pytest.fixture(autouse=True)
def shipped_model(monkeypatch):
    """The shipped model is the default here (the test home points GALVIEW_MODEL nowhere)."""
    monkeypatch.delenv("GALVIEW_MODEL")


def test_adapt_writes_a_version_the_other_commands_can_use(shared_data, tmp_path, capsys):
    real = shared_data / "des_lsbg" / "des_lsbg_dev.npz"
    assert main(["adapt", str(real), "-o", str(tmp_path / "adapted")]) == 0
    out = capsys.readouterr().out.strip()
    assert out == str(tmp_path / "adapted" / "model.keras")
    card = json.loads((tmp_path / "adapted" / "model.json").read_text())
    assert card["training"]["cutouts"] == 112 and card["training"]["source"].endswith("des_lsbg_dev.npz")
    assert main(["score", str(real), "--model", out, "-o", str(tmp_path / "scores.csv")]) == 0
    assert len((tmp_path / "scores.csv").read_text().splitlines()) == 113


def test_adapt_refuses_a_small_collection_and_a_full_folder_in_one_line(tmp_path, capsys):
    small = tmp_path / "small.npz"
    np.savez(small, images=np.zeros((10, 64, 64, 3), np.uint8))
    assert main(["adapt", str(small), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "has 10 cutouts" in err and "needs at least 64" in err
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    assert main(["adapt", str(small), "-o", str(tmp_path / "full")]) == 2
    assert "folder is not empty" in capsys.readouterr().err


def test_adapt_names_a_cutout_that_could_not_be_read(tmp_path, capsys):
    from tests.ml.tiny_models import blob_pngs, save_tiny_model

    folder, _ = blob_pngs(tmp_path / "pngs", damaged=7, n=80)
    save_tiny_model(tmp_path / "tiny.keras")
    args = ["adapt", str(folder), "--model", str(tmp_path / "tiny.keras"), "-o", str(tmp_path / "out")]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "warning: 1 cutout could not be read and was left out of the statistics (cutout 7: " in err
    assert "c007.png" in err
    card = json.loads((tmp_path / "out" / "model.json").read_text())
    assert card["training"]["cutouts"] == 79

"""``galview compare``: two models on one collection, what changes class and which one the labels side with."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from galview.cli import main
from galview.ml import architectures
from tests.ml.tiny_models import TINY_SPEC, blobs, save_tiny_model


@pytest.fixture
def two_models(tmp_path, monkeypatch):
    monkeypatch.setitem(architectures.ARCHITECTURES, "tiny", TINY_SPEC)
    save_tiny_model(tmp_path / "a.keras", seed=0)
    loaded = save_tiny_model(tmp_path / "b.keras", seed=1)
    return tmp_path, blobs(tmp_path / "blobs.npz"), loaded


def test_compare_reports_the_changes_and_both_models_against_the_labels(two_models, capsys):
    tmp_path, data, _ = two_models
    out_csv = tmp_path / "changes.csv"
    args = ["compare", str(data), "--model", str(tmp_path / "a.keras"), "--with", str(tmp_path / "b.keras")]
    assert main([*args, "-o", str(out_csv)]) == 0
    out = capsys.readouterr().out
    rows = list(csv.DictReader(out_csv.open()))
    assert b"\r" not in out_csv.read_bytes()  # CSV files have LF line endings (README)
    assert len(rows) == 40 and [int(r["rank"]) for r in rows] == list(range(1, 41))
    flips = [int(r["changes_class"]) for r in rows]
    assert sum(flips) > 0 and flips == sorted(flips, reverse=True)  # the cutouts that change class come first
    assert f"{sum(flips)} of 40 cutouts change class" in out
    labels = np.array([1 if r["label"] == "LSBG" else 0 for r in rows])
    assert {r["label"] for r in rows} == {"LSBG", "artifact"}
    right = [
        int(((np.array([float(r[c]) for r in rows]) >= 0.5) == labels).sum()) for c in ("p_first", "p_second")
    ]
    assert f"Your 40 labels: {right[0]} agree with a (" in out and f", {right[1]} agree with b (" in out
    assert "learnt from" not in out  # neither model learnt from these labels
    assert out.strip().splitlines()[-1] == str(out_csv)


def test_compare_refuses_one_model_twice_and_models_of_other_classes(two_models, capsys):
    tmp_path, data, loaded = two_models
    same = ["compare", str(data), "--model", str(tmp_path / "a.keras"), "--with", str(tmp_path / "a.keras")]
    assert main(same) == 2
    assert "expected two different models" in capsys.readouterr().err
    import dataclasses

    from galview.ml.loading import save_model

    save_model(
        loaded.model, dataclasses.replace(loaded.card, class_names=("star", "galaxy")), tmp_path / "c.keras"
    )
    other = ["compare", str(data), "--model", str(tmp_path / "a.keras"), "--with", str(tmp_path / "c.keras")]
    assert main(other) == 2
    err = capsys.readouterr().err
    assert "c.keras" in err and "expected the first model's classes (artifact, LSBG)" in err


def test_compare_leaves_out_a_damaged_image_and_says_so(two_models, capsys):
    from tests.ml.tiny_models import blob_pngs

    tmp_path, _, _ = two_models
    folder, _ = blob_pngs(tmp_path / "pngs", damaged=6)
    args = ["compare", str(folder), "--model", str(tmp_path / "a.keras"), "--with", str(tmp_path / "b.keras")]
    assert main([*args, "-o", str(tmp_path / "changes.csv")]) == 0
    out, err = capsys.readouterr()
    assert "warning: 1 cutout could not be read and was left out of the comparison (cutout 6: " in err
    assert " of 39 cutouts change class" in out
    rows = {int(r["index"]): r for r in csv.DictReader((tmp_path / "changes.csv").open())}
    assert len(rows) == 40 and rows[6]["p_first"] == "" and rows[5]["p_first"] != ""

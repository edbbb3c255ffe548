"""``galview similar``: the top K on the terminal, every row in a CSV, one-line refusals of bad input."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from galview.cli import main


def test_similar_on_the_rings_folder(shared_data, tmp_path, capsys):
    rings = shared_data / "gz_decals_rings"
    out = tmp_path / "similar.csv"
    assert main(["similar", str(rings), "--to", "2", "--top", "5", "-o", str(out)]) == 0
    printed = capsys.readouterr()
    lines = printed.out.splitlines()
    assert lines[0] == "most similar to cutout 2 (J003937.09-032825.0) — pixel (sky subtracted)"
    assert lines[1].split() == ["rank", "index", "id", "similarity", "orientation"]
    assert lines[2].split() == ["1", "2", "J003937.09-032825.0", "1.000000", "identity"] and len(lines) == 7
    assert "100/100 cutouts" in printed.err and f"wrote {out}" in printed.err
    with open(out, newline="") as handle:
        top = list(csv.DictReader(handle))
    assert [int(r["index"]) for r in top] == [int(line.split()[1]) for line in lines[2:]]  # -k 5: 5 rows
    assert main(["similar", str(rings), "--reference", "#2", "-o", str(out)]) == 0  # the contract
    assert capsys.readouterr().out.splitlines()[:7] == lines  # 10 printed, the same first 5
    with open(out, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 100 and sorted(int(r["index"]) for r in rows) == list(range(100))  # no -k: all
    assert [r["rank"] for r in rows[:3]] == ["1", "2", "3"] and rows[0]["orientation"] == "identity"
    scores = [float(r["similarity"]) for r in rows]
    assert scores == sorted(scores, reverse=True)
    assert b"\r" not in out.read_bytes()  # CSV files have LF line endings (README)

    leda = shared_data / "leda074886" / "leda074886_50px.fits"
    assert main(["similar", str(rings), "--reference", str(leda), "--mask-centre", "4", "-k", "3"]) == 0
    printed = capsys.readouterr()
    assert "reference leda074886_50px: resampled 50×50 → 424×424" in printed.err
    assert "reference leda074886_50px: centre masked: radius 4 px (52 of 50×50 pixels)" in printed.err
    assert "cutouts" not in printed.err  # the features kept by the first run were reused
    assert printed.out.startswith("most similar to leda074886_50px") and len(printed.out.splitlines()) == 5


@pytest.fixture
def small(tmp_path):
    path = tmp_path / "small.npy"
    np.save(path, np.random.default_rng(0).integers(0, 255, (6, 12, 12, 3), dtype=np.uint8))
    return path


def _refused(capsys, argv, *fragments):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("galview: error: "), err
    for fragment in fragments:
        assert fragment in err[0], err[0]
    assert "Traceback" not in err[0]


def test_bad_input_is_one_line_naming_what_was_wrong(small, tmp_path, capsys):
    data = str(small)
    _refused(capsys, ["similar", data, "--to", "6"], data, "has no cutout 6", "0..5")
    _refused(capsys, ["similar", data], "no reference given")
    _refused(capsys, ["similar", data, "--to", "0", "-o", str(tmp_path / "x.txt")], "x.txt", "expected .csv")
    _refused(capsys, ["similar", data, "--to", "0", "--crop", "1"], "--crop 1")
    _refused(capsys, ["similar", data, "--to", "0", "--top", "0"], "--top 0")
    _refused(capsys, ["similar", data, "--reference", "#one"], "--reference #one", "expected #I")
    _refused(capsys, ["similar", data, "--reference", "#9"], "has no cutout 9", "--reference #I")
    _refused(capsys, ["similar", data, "--reference", str(tmp_path / "none.fits")], "none.fits")
    corrupt = tmp_path / "corrupt.fits"
    corrupt.write_bytes(b"SIMPLE  = garbage" * 10)
    _refused(capsys, ["similar", data, "--to-file", str(corrupt)], str(corrupt))
    nan = tmp_path / "nan.npy"
    np.save(nan, np.where(np.eye(8) > 0, 1.0, np.nan).astype(np.float32))
    _refused(capsys, ["similar", data, "--to-file", str(nan)], str(nan), "only 8 of 64 pixels are finite")
    flat = tmp_path / "flat.npy"
    np.save(flat, np.ones(10, np.float32))
    _refused(capsys, ["similar", data, "--to-file", str(flat)], str(flat), "expected one image")


def test_several_references_morphology_and_no_orientations(small, capsys):
    data = str(small)
    argv = ["similar", data, "--to", "1", "--to", "4", "--combine", "max", "--no-orientations", "--top", "2"]
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split() == ["rank", "index", "id", "similarity", "orientation", "reference"]
    assert {line.split()[1] for line in lines[2:]} == {"1", "4"} and "identity" not in lines[2]
    assert main(["similar", data, "--to", "0", "--space", "morphology", "--top", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("most similar to cutout 0 (0) — morphology") and out[2].split()[:2] == ["1", "0"]
    assert main(["similar", data, "--to", "0", "--colour", "--crop", "8", "--top", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("most similar to cutout 0 (0) — pixel (colour, sky subtracted, central 8 px)")
    assert out[2].split()[:2] == ["1", "0"]  # the reference itself first


def test_the_embedding_space_brings_other_cutouts_to_the_model_and_says_how(shared_data, capsys):
    """The 424-px ring images and the 64-px shipped model: resized without asking (the issue's
    contract), said on stderr with the caution; --no-invariance is --no-orientations."""
    from galview.assets import models_dir

    rings, model = str(shared_data / "gz_decals_rings"), str(models_dir() / "deepshadows_des_sim.keras")
    argv = ["similar", rings, "--reference", "#2", "--space", "embedding", "--model", model, "-k", "3"]
    assert main([*argv, "--no-invariance"]) == 0
    printed = capsys.readouterr()
    assert (
        "embedding: the cutouts brought to the model's input: Resize each cutout from 424×424 to 64×64"
        in printed.err
    )
    assert "resizing fits these cutouts to its pixels, not to its field" in printed.err
    lines = printed.out.splitlines()
    assert lines[2].split()[:2] == ["1", "2"] and len(lines) == 5
    assert all(len(line.split()) == 4 for line in lines[2:])  # no orientation was tried: none is named


def test_train_encoder_then_rank_in_the_self_supervised_space(tmp_path, capsys):
    rng = np.random.default_rng(0)
    data = tmp_path / "small.npz"
    np.savez(data, images=rng.integers(0, 255, (24, 16, 16, 3), dtype=np.uint8))
    encoder = tmp_path / "encoder"
    assert main(["train-encoder", str(data), "-o", str(encoder), "--epochs", "1", "--batch-size", "8"]) == 0
    assert (encoder / "encoder.keras").is_file() and "encoder written" in capsys.readouterr().out
    assert main(["train-encoder", str(data), "-o", str(encoder), "--epochs", "1"]) == 2  # never overwritten
    assert "already exists and is not empty" in capsys.readouterr().err
    np.save(tmp_path / "one.npy", rng.integers(0, 255, (1, 16, 16, 3), dtype=np.uint8))
    assert (
        main(["train-encoder", str(tmp_path / "one.npy"), "-o", str(tmp_path / "enc1")]) == 2
    )  # no traceback
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "has 1 cutout; training an encoder needs at least 2" in err
    argv = ["similar", str(data), "--to", "4", "--space", "self-supervised", "--top", "3"]
    assert main(argv) == 2 and "needs --encoder" in capsys.readouterr().err
    assert main([*argv, "--encoder", str(encoder)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("most similar to cutout 4") and "self-supervised" in out[0]
    assert out[2].split()[:2] == ["1", "4"]


def test_train_encoder_names_a_cutout_it_could_not_read(tmp_path, capsys):
    from tests.ml.tiny_models import blob_pngs

    folder, _labels = blob_pngs(tmp_path / "pngs", damaged=3, n=16)
    argv = ["train-encoder", str(folder), "-o", str(tmp_path / "enc"), "--epochs", "1", "--batch-size", "8"]
    assert main(argv) == 0
    printed = capsys.readouterr()
    assert "warning: 1 cutout could not be read and was left out of the training (cutout 3: " in printed.err
    assert "c003.png" in printed.err and "encoder written" in printed.out


def test_a_cutout_that_cannot_be_read_is_named_not_silently_missing(tmp_path, capsys):
    """A folder with one damaged image: the ranking has one row fewer, and stderr says which and
    why — the first time, and again when the kept features are reused."""
    from tests.ml.tiny_models import blob_pngs

    folder, _labels = blob_pngs(tmp_path / "pngs", damaged=5, n=12)
    for run in ("computed", "kept"):
        out = tmp_path / f"{run}.csv"
        assert (
            main(
                ["similar", "--reference", "#0", str(folder), "--space", "pixel", "-k", "20", "-o", str(out)]
            )
            == 0
        )
        err = capsys.readouterr().err
        assert "c005" in err and ("not ranked" in err or "left out of the ranking" in err), err
        with open(out, newline="") as handle:
            indices = [int(row["index"]) for row in csv.DictReader(handle)]
        assert len(indices) == 11 and 5 not in indices

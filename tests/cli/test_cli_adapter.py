"""``galview score`` and ``explain`` on survey FITS (issue 11): the physical adapter is applied and said in
one line; ``--no-adapt`` refuses saying what would fit; a plain ``--resize`` of fluxes is refused."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from galview.cli import main

SHIPPED = str(Path(__file__).resolve().parents[2] / "models" / "deepshadows_des_sim.keras")  # this checkout's
LINE = (
    "adapter: 256×256 g,r,z nanomaggies at 0.200″/px → 64×64 viewer colours at 0.468″/px "
    "(crop 30.0″, flux-conserving resample to 0.263″/px, Legacy-Survey colours, turned north up, east left); "
    "flux unit assumed nanomaggies (no BUNIT;"
)


def test_score_adapts_survey_fits_and_says_how(shared_data, tmp_path, capsys):
    out = tmp_path / "scores.csv"
    assert main(["score", str(shared_data / "legacy_dwarfs"), "--model", SHIPPED, "-o", str(out)]) == 0
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("adapter:")]
    assert len(lines) == 1 and lines[0].startswith(LINE), lines
    with open(out, newline="") as handle:
        probs = np.array([float(row["prob"]) for row in csv.DictReader(handle)])
    assert len(probs) == 12 and np.ptp(probs) > 0.3  # not 0.2468–0.2481 as through a resize


def test_no_adapt_refuses_and_says_what_would_fit(shared_data, tmp_path, capsys):
    out = tmp_path / "scores.csv"
    args = ["score", str(shared_data / "legacy_dwarfs"), "--model", SHIPPED, "-o", str(out), "--no-adapt"]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("galview: error:")
    assert "not adapted (--no-adapt). What would fit: the physical adapter, 256×256 g,r,z nanomaggies" in err
    assert not out.exists()


def test_a_plain_resize_of_fluxes_is_refused(shared_data, tmp_path, capsys):
    out = tmp_path / "scores.csv"
    args = ["score", str(shared_data / "legacy_dwarfs"), "--model", SHIPPED, "-o", str(out), "--resize"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "a plain adapter would feed float fluxes to a model trained on viewer colours" in err
    assert "drop --resize/--bands/--greyscale and GalView applies it (256×256 g,r,z" in err
    assert not out.exists()


def test_explain_adapts_and_maps_come_back_at_cutout_size(shared_data, tmp_path, capsys):
    out = tmp_path / "map.npy"
    args = ["explain", str(shared_data / "legacy_dwarfs"), "--model", SHIPPED, "--index", "3", "-o", str(out)]
    assert main(args) == 0
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("adapter:")]
    assert len(lines) == 1 and lines[0].startswith(LINE), lines
    heat = np.load(out)
    assert heat.shape == (256, 256) and heat.max() == np.float32(1.0) and heat[:20].max() == 0
    assert main(args[:-2] + ["--no-adapt", "-o", str(tmp_path / "refused.npy")]) == 2
    assert "--no-adapt" in capsys.readouterr().err and not (tmp_path / "refused.npy").exists()

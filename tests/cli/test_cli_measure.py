"""``galview measure``: Sérsic photometry of the real Legacy Survey dwarfs, and what it refuses."""

from __future__ import annotations

import csv

from galview.cli import main


def run(capsys, *args) -> tuple[int, str, str]:
    code = main(["measure", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_dwarfs_photometry_is_written_with_the_lsbg_cuts(shared_data, tmp_path, capsys):
    out = tmp_path / "photometry.csv"
    folder = shared_data / "legacy_dwarfs"
    code, printed, err = run(
        capsys, folder, "--zeropoint", "22.5", "--indices", "0", "3", "--band", "r", "-o", out
    )
    assert (code, err) == (0, "")
    assert printed.startswith(f"{out}: 2 of 2 cutouts fitted in the r band (zero point 22.5; 2 reliable); ")
    with open(out, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["id"] for r in rows] == ["ngc3115_dwarf_00", "ngc3115_dwarf_09"] and rows[0]["band"] == "r"
    for row in rows:
        assert (
            float(row["mean_mu_eff"]) > float(row["mu0"]) - 0.5
        )  # a diffuse profile: about as faint inside r_eff
        assert row["low_surface_brightness"] in ("0", "1") and 0.2 <= float(row["sersic_n"]) <= 8


def test_what_cannot_be_measured_is_refused_in_one_line(shared_data, tmp_path, capsys):
    out = tmp_path / "x.csv"
    code, _printed, err = run(capsys, shared_data / "legacy_dwarfs", "-o", out)
    assert code == 2 and "--zeropoint" in err and err.count("\n") == 1
    code, _printed, err = run(capsys, shared_data / "des_lsbg" / "des_lsbg_dev.npz", "-o", out)
    assert code == 2 and "display colours, not fluxes" in err
    code, _printed, err = run(
        capsys, shared_data / "legacy_dwarfs", "--zeropoint", "22.5", "--indices", "12", "-o", out
    )
    assert code == 2 and "--indices must be 0..11" in err
    assert not out.exists()

"""``galview measure``: Sérsic photometry of the real Legacy Survey dwarfs, and what it refuses."""

from __future__ import annotations

import csv

import numpy as np
import pytest

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
        # every band through the r fit's shape, and each colour bluer band first
        assert float(row["mag_r"]) == pytest.approx(float(row["mag"]), abs=0.02)
        assert float(row["g_r"]) == pytest.approx(float(row["mag_g"]) - float(row["mag_r"]), abs=2e-4)
        assert float(row["r_z"]) == pytest.approx(float(row["mag_r"]) - float(row["mag_z"]), abs=2e-4)
        assert 0 < float(row["g_z_err"]) < 0.5 and row["population"] == ""  # no i band: no DES Y3 split
        # each of the fit's numbers with its error from the noise, beside it
        assert 0 < float(row["mag_err"]) < 0.3 and 0 < float(row["r_eff_arcsec_err"]) < float(
            row["r_eff_arcsec"]
        )
        assert all(float(row[f"{name}_err"]) > 0 for name in ("mu0", "mu_eff", "mean_mu_eff", "sersic_n"))
    assert list(rows[0])[-3:] == ["r_z", "r_z_err", "population"]


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


def test_a_figure_of_the_fits_shows_data_model_and_residual(shared_data, tmp_path, capsys):
    from PIL import Image

    from galview.core.fit_figure import MAX_FITS
    from galview.core.mosaic import PAD

    figure = tmp_path / "fits.png"
    code, printed, err = run(
        capsys, shared_data / "legacy_dwarfs", "--zeropoint", "22.5", "--indices", "3", "5",
        "-o", tmp_path / "p.csv", "--figure", figure,
    )  # fmt: skip
    assert (code, err) == (0, "") and printed.startswith(f"{figure}: data, model and residual of each fit\n")
    image = np.asarray(Image.open(figure).convert("RGB")).astype(int)
    assert image.shape[1] == PAD + 6 * (128 + PAD)  # two fits of three panels in one row
    tiles = [image[PAD : PAD + 128, PAD + k * (128 + PAD) : PAD + k * (128 + PAD) + 128, 0] for k in range(6)]
    data, model, residual = tiles[:3]
    assert (
        data.std() > model.std() and model.max() - model.min() > 30
    )  # the model is a galaxy, not a flat tile
    assert abs(np.median(residual) - 128) < 12  # noise about zero: mid-grey
    bright_data, bright_model = tiles[3:5]  # the second, dwarf 15 (S/N 157): its model where it is
    assert np.corrcoef(bright_data.ravel(), bright_model.ravel())[0, 1] > 0.5
    assert f"at most the first {MAX_FITS} cutouts" in " ".join(main_help("measure").split())
    code, _printed, err = run(
        capsys,
        shared_data / "legacy_dwarfs",
        "--zeropoint",
        "22.5",
        "-o",
        tmp_path / "q.csv",
        "--figure",
        tmp_path / "f.jpg",
    )
    assert code == 2 and "the figure of the fits" in err and not (tmp_path / "q.csv").exists()


def main_help(command: str) -> str:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        main([command, "--help"])
    return out.getvalue()


def test_the_measurements_are_kept_for_the_window(shared_data, tmp_path, capsys):
    from galview.core.collection import fingerprint
    from galview.io import open_collection
    from galview.io.photometry_files import load_photometry

    folder = shared_data / "legacy_dwarfs"
    with open_collection(folder) as dwarfs:
        key = fingerprint(dwarfs)
    assert load_photometry(key, 12) is None
    run(capsys, folder, "--zeropoint", "22.5", "--indices", "0", "3", "-o", tmp_path / "a.csv")
    run(capsys, folder, "--zeropoint", "22.5", "--indices", "5", "-o", tmp_path / "b.csv")
    kept = load_photometry(key, 12)
    assert set(kept.fits) == {0, 3, 5} and kept.calibration.zeropoint == 22.5  # added, same calibration
    with open(tmp_path / "a.csv", newline="") as handle:
        first = next(csv.DictReader(handle))
    assert kept.fits[0].mag == pytest.approx(float(first["mag"]), abs=1e-4)
    code, _printed, err = run(capsys, folder, "--zeropoint", "24", "--indices", "1", "-o", tmp_path / "c.csv")
    assert (code, err) == (0, "") and set(load_photometry(key, 12).fits) == {1}  # another zero point: anew


def test_the_psf_is_fitted_through_when_given(shared_data, tmp_path, capsys):
    out = tmp_path / "psf.csv"
    args = (shared_data / "legacy_dwarfs", "--zeropoint", "22.5", "--indices", "9", "-o", out)  # r_eff 2.3″
    code, printed, err = run(capsys, *args, "--psf-fwhm", "1.3")
    assert (code, err) == (0, "") and "(zero point 22.5, fitted through a PSF of 1.3″ FWHM; " in printed
    with open(out, newline="") as handle:
        through = next(csv.DictReader(handle))
    run(capsys, *args)
    with open(out, newline="") as handle:
        left_in = next(csv.DictReader(handle))
    assert (through["psf_fwhm"], left_in["psf_fwhm"]) == ("1.3", "0.0")
    # the PSF makes a small galaxy rounder and flatter-topped: fitted through it, less round, more peaked
    assert float(through["axis_ratio"]) < float(left_in["axis_ratio"]) - 0.03
    assert float(through["sersic_n"]) > float(left_in["sersic_n"]) + 0.05
    with pytest.raises(SystemExit) as stopped:
        run(capsys, *args, "--psf-fwhm", "-1")
    assert stopped.value.code == 2 and "--psf-fwhm: -1 is not in [0, 60]" in capsys.readouterr().err


def test_progress_of_many_cutouts_is_one_finished_line_even_when_a_process_is_lost(
    tmp_path, capsys, monkeypatch
):
    """The command's progress comes from the printer every command uses: a summary line when it stops,
    so that an error is said on a line of its own (it was written onto the progress before)."""
    import galview.io.measuring as measuring
    from galview.sim.generate import write_simulation
    from galview.sim.surveys import SURVEYS

    path = write_simulation(tmp_path / "sim.h5", SURVEYS["des"], 60, seed=3, workers=1)
    code, _printed, err = run(capsys, path, "--workers", "1", "-o", tmp_path / "a.csv")
    assert code == 0 and err.startswith("measure  fitting Sérsic profiles  60/60 cutouts in ")

    def lost(*_args, **_options):
        yield 16, [(i, "stand-in") for i in range(16)]
        raise measuring.UserFacingError(path, "a fitting process ended before its cutouts were fitted")

    monkeypatch.setattr(measuring, "_measured_parts", lost)
    code, _printed, err = run(capsys, path, "-o", tmp_path / "b.csv")
    assert code == 2
    assert err.splitlines()[0].startswith("measure  fitting Sérsic profiles  16/60 cutouts in ")
    assert err.splitlines()[1].startswith(f"galview: error: {path}: a fitting process ended")

"""Hostile arguments and odd inputs at the command line (issue 11, sections 2 and 6): one-line errors
``galview: error: …`` with exit status 2, and ``galview info`` counting cutouts with coordinates."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from galview.cli import main
from galview.ml import loading
from tests.hostile import cases_files


def _one_line_error(capsys, *fragments) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("galview: error: "), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def no_keras(monkeypatch):
    """Argument errors are found without a model: loading one fails the test."""
    monkeypatch.setattr(loading, "load_model", lambda *a, **k: pytest.fail("the model was loaded"))


# -- score arguments ----------------------------------------------------------------------------------


@pytest.mark.parametrize("size", ["0", "-5"])
def test_score_batch_size_not_positive_is_refused_before_the_model_loads(tmp_path, capsys, no_keras, size):
    folder = cases_files._png_folder(tmp_path, 2)
    assert main(["score", str(folder), "-o", str(tmp_path / "s.csv"), "--batch-size", size]) == 2
    _one_line_error(capsys, f"--batch-size {size}: expected a positive whole number of cutouts per batch")
    assert not (tmp_path / "s.csv").exists()


@pytest.mark.parametrize(
    ("bands", "fragment"),
    [
        ("foo", "the collection has no band 'foo'"),
        ("0,1,7", "the collection has no band '7'"),
        (",", "the collection has an empty entry"),
        ("", "the collection has an empty entry"),
        ("-1", "the collection has no band '-1'"),
    ],
)
def test_score_bands_the_collection_lacks_are_a_clean_error(tmp_path, capsys, monkeypatch, bands, fragment):
    monkeypatch.setattr(loading, "load_model", lambda *a, **k: object())
    folder = cases_files._png_folder(tmp_path, 2)
    assert main(["score", str(folder), "-o", str(tmp_path / "s.csv"), "--bands", bands]) == 2
    _one_line_error(
        capsys, f"--bands {bands}: {fragment}", "expected band names among R, G, B or indices 0–2"
    )


def test_band_names_and_indices_are_both_accepted():
    from galview.cli.common import band_indices

    assert band_indices("z, g,1", ("g", "r", "z")) == [2, 0, 1]


# -- info: coordinates ------------------------------------------------------------------------------------


def test_info_counts_cutouts_with_coordinates(tmp_path, capsys):
    path = tmp_path / "few.npz"
    ra = np.full(5, np.nan)
    ra[[1, 3]] = [10.0, 20.0]
    np.savez(path, images=np.ones((5, 8, 8, 3), np.uint8), ra=ra, dec=np.zeros(5))
    assert main(["info", str(path)]) == 0
    assert "coords:  2 of 5" in capsys.readouterr().out
    assert main(["info", str(path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["n_coords"] == 2 and summary["has_coords"] is True


def test_info_without_coordinates_says_none_of_n(tmp_path, capsys):
    folder = cases_files._png_folder(tmp_path, 3)
    assert main(["info", str(folder)]) == 0
    assert "coords:  0 of 3" in capsys.readouterr().out


def test_info_reads_ra_dec_keywords_of_a_real_fits_file(shared_data, capsys):
    path = shared_data / "leda074886" / "leda074886_50px.fits"
    assert main(["info", str(path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["has_coords"] and summary["n_coords"] == 1


def test_info_of_a_fits_folder_with_mostly_nan_table_coords(tmp_path, capsys):
    folder = cases_files._fits_folder_nan_coords(tmp_path)
    assert main(["info", str(folder)]) == 0
    assert "coords:  1 of 4" in capsys.readouterr().out


# -- odd inputs reach the user as one line ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (cases_files._fits_missing_naxis2, "NAXIS2"),
        (cases_files._fits_bad_bitpix, "BITPIX = 7"),
        (cases_files._png_bomb_single, "decompression bomb"),
        (cases_files._png_one_other_size, "obj03.png: is 64×48×3 uint8"),
        (cases_files._png_labels_huge_label, "row 2 has the label '1e19'"),
    ],
)
def test_info_on_hostile_input_is_one_line(tmp_path, capsys, make, fragment):
    path = make(tmp_path)
    assert main(["info", str(path)]) == 2
    _one_line_error(capsys, fragment)


def test_labels_set_on_a_254_character_file_name(tmp_path, capsys):
    path = cases_files._png_long_name(tmp_path)
    assert main(["labels", "set", str(path), "0", "1"]) == 0
    assert capsys.readouterr().out.strip() == "ok 0 1"


def test_labels_set_on_a_damaged_store_is_one_line(tmp_path, capsys):
    folder = cases_files._damaged_store(tmp_path, "UPDATE labels SET label = 'LSBG' WHERE idx = 1")
    store = tmp_path / "damaged.sqlite"
    assert main(["labels", "set", str(folder), "0", "1", "--store", str(store)]) == 2
    _one_line_error(capsys, f"{store}: is damaged", "it was left untouched")


def test_error_about_a_non_utf8_file_name_is_one_line_and_logged(tmp_path, isolated_home):
    path = cases_files._raw_path(tmp_path, b"bad\xff.png")
    path.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    result = subprocess.run(
        [sys.executable, "-m", "galview", "info", os.fsencode(path)],
        capture_output=True,
        env=env,
        timeout=120,
    )
    err = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 2 and "Traceback" not in err and "Logging error" not in err, err
    assert err.strip().splitlines() == [
        f"galview: error: {tmp_path}/bad\\udcff.png: " + err.split(".png: ")[1].strip()
    ]
    log = (isolated_home / "data" / "logs" / "galview.log").read_text(encoding="utf-8")
    assert "bad\\udcff.png: is not a readable PNG/JPEG image" in log


# -- the window on odd but valid files (found by benchmarks/bench_hostile.py) --------------------------


def _view(path: Path, home: Path, model: bool) -> subprocess.CompletedProcess:
    from galview.assets import DEFAULT_MODEL, models_dir

    env = dict(os.environ, GALVIEW_HOME=str(home), QT_QPA_PLATFORM="offscreen")
    env["GALVIEW_MODEL"] = str(models_dir() / DEFAULT_MODEL if model else home / "no-model.keras")
    command = [sys.executable, "-m", "galview", "view", os.fsdecode(path), "--offscreen"]
    return subprocess.run(
        [*command, "--screenshot", str(home / "shot.png")], env=env, capture_output=True, timeout=240
    )


def test_window_with_a_model_on_a_virtual_hdf5_dataset_exits_cleanly(tmp_path):
    """HDF5 crashed at exit (SIGSEGV releasing a virtual dataset's property list after its file closed)."""
    import h5py

    from tests.hostile.arrays_hdf5 import _vds_same_file

    path = tmp_path / "virtual.h5"
    with h5py.File(path, "w") as handle:
        _vds_same_file(handle, tmp_path)
    run = _view(path, tmp_path, model=True)
    assert run.returncode == 0, run.stderr.decode(errors="replace")[-2000:]
    assert (tmp_path / "shot.png").stat().st_size > 0


def test_window_opens_a_file_whose_name_is_not_utf8(tmp_path):
    """The remembered class names are keyed by the file name's bytes (encoding it as UTF-8 aborted Qt)."""
    from tests.hostile.arrays_npz import _non_utf8_name

    run = _view(_non_utf8_name(tmp_path), tmp_path, model=False)
    assert run.returncode == 0, run.stderr.decode(errors="replace")[-2000:]

"""The command-line contract: info (text and JSON), error exit codes, screenshots of view and demo."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from galview.cli import main


def test_info_json_on_real_des(shared_data, capsys):
    assert main(["info", str(shared_data / "des_lsbg" / "des_lsbg_dev.npz"), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary == {
        "n": 112,
        "shape": [64, 64, 3],
        "dtype": "uint8",
        "bands": ["R", "G", "B"],
        "has_labels": True,
        "has_coords": True,
        "n_coords": 6,  # 106 of the 112 RA values are NaN
        "label_store": None,  # no labels set in GalView
    }


def test_info_text_on_fits_folder(shared_data, capsys):
    assert main(["info", str(shared_data / "legacy_dwarfs")]) == 0
    out = capsys.readouterr().out
    assert "cutouts: 12" in out
    assert "256 × 256 × 3" in out
    assert "bands:   g, r, z" in out
    assert "coords:  12 of 12" in out


def test_info_names_the_label_store_and_what_was_labelled_in_galview(tmp_path, capsys):
    from galview.core.label_values import UNSURE
    from galview.io import open_collection
    from galview.io.label_store import open_label_store

    path = tmp_path / "cutouts.npy"
    np.save(path, np.ones((6, 8, 8), dtype=np.float32))
    assert main(["info", str(path)]) == 0
    assert "store:" not in capsys.readouterr().out
    with open_collection(path) as collection, open_label_store(collection) as store:
        store.set_many([(0, 1), (1, 1), (2, 0), (3, UNSURE)])
    assert main(["info", str(path)]) == 0
    line = [text for text in capsys.readouterr().out.splitlines() if text.startswith("store:")]
    assert line[0].endswith("(4 labels set in GalView: 2 labelled 1, 1 labelled 0, 1 unsure)")
    assert main(["info", str(path), "--json"]) == 0
    store = json.loads(capsys.readouterr().out)["label_store"]
    assert store["set"] == 4 and store["counts"] == {"labelled 1": 2, "labelled 0": 1, "unsure": 1}
    with open_collection(path) as collection, open_label_store(collection) as store:
        store.set_note(5, "bright star halo")
    assert main(["info", str(path)]) == 0
    line = [text for text in capsys.readouterr().out.splitlines() if text.startswith("store:")]
    assert line[0].endswith("(4 labels set in GalView: 2 labelled 1, 1 labelled 0, 1 unsure; 1 note)")


def test_info_layout_override(tmp_path, capsys):
    path = tmp_path / "cf.npy"
    np.save(path, np.zeros((5, 2, 20, 20), dtype=np.float32) + 1)
    assert main(["info", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["shape"] == [20, 20, 2]
    assert main(["info", str(path), "--json", "--layout", "NHWC"]) == 0
    assert json.loads(capsys.readouterr().out)["shape"] == [2, 20, 20]


@pytest.mark.parametrize("content", [b"", b"not a known format", b"\x93NUMPY\x01\x00garbage"])
def test_info_bad_input_is_one_line_and_non_zero(tmp_path, content):
    path = tmp_path / "bad.npy"
    path.write_bytes(content)
    result = subprocess.run(
        [sys.executable, "-m", "galview", "info", str(path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("galview: error:") and "bad.npy" in lines[0]
    assert "Traceback" not in result.stderr


def test_missing_path_exits_non_zero(tmp_path, capsys):
    assert main(["info", str(tmp_path / "nowhere.h5")]) == 2
    assert "no such file" in capsys.readouterr().err


def _screenshot(args, tmp_path, env_home):
    shot = tmp_path / "shot.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", GALVIEW_HOME=str(env_home))
    result = subprocess.run(
        [sys.executable, "-m", "galview", *args, "--offscreen", "--screenshot", str(shot)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    return result, shot


def _distinct_colours(png) -> int:
    from PIL import Image

    pixels = np.asarray(Image.open(png).convert("RGB")).reshape(-1, 3)
    return len(np.unique(pixels[:: max(1, len(pixels) // 20000)], axis=0))


def test_view_screenshot_of_real_cutouts(shared_data, tmp_path, isolated_home):
    result, shot = _screenshot(
        ["view", str(shared_data / "des_lsbg" / "des_lsbg_dev.npz")], tmp_path, isolated_home
    )
    assert result.returncode == 0, result.stderr
    assert shot.stat().st_size > 10_000
    assert _distinct_colours(shot) > 500  # thumbnails drawn, not an empty window


def test_demo_generates_cached_collection_and_screenshots(tmp_path, isolated_home):
    result, shot = _screenshot(["demo"], tmp_path, isolated_home)
    assert result.returncode == 0, result.stderr
    assert "Generating the demo collection" in result.stderr
    cached = list((isolated_home / "data").glob("*.h5"))
    assert len(cached) == 1
    assert _distinct_colours(shot) > 500
    result, _ = _screenshot(["demo"], tmp_path, isolated_home)
    assert result.returncode == 0 and "Generating" not in result.stderr


def test_view_bad_file_exits_non_zero_with_message(tmp_path, isolated_home):
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 20)
    result, shot = _screenshot(["view", str(bad)], tmp_path, isolated_home)
    assert result.returncode == 2
    assert "bad.h5" in result.stderr and "HDF5" in result.stderr
    assert not shot.exists()


@pytest.mark.parametrize("model", ["none", "shipped"])
def test_window_that_fails_to_open_writes_no_screenshot(tmp_path, isolated_home, model):
    """The window itself (not only the command line, which checks first) saves no picture of an empty
    window when a collection fails to open; with a model loading meanwhile, its job's end reaches the
    window before it is taken down (it raised "wrapped C/C++ object of type JobThread has been deleted")."""
    bad, shot = tmp_path / "bad.h5", tmp_path / "shot.png"
    bad.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 20)
    code = (
        "import sys\n"
        "from galview.qt.app import run_app\n"
        "sys.exit(run_app(sys.argv[1:2], screenshot=sys.argv[2]))\n"
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", GALVIEW_HOME=str(isolated_home))
    if model == "shipped":
        env.pop("GALVIEW_MODEL")
    result = subprocess.run(
        [sys.executable, "-c", code, str(bad), str(shot)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 2, result.stderr
    assert "galview: error:" in result.stderr and "bad.h5" in result.stderr
    assert "Traceback" not in result.stderr and "unexpected error" not in result.stderr, result.stderr
    assert not shot.exists()


def test_view_refuses_class_names_before_the_window_starts(tmp_path, capsys):
    data = tmp_path / "two.npz"
    np.savez(data, images=np.zeros((2, 8, 8), np.float32), labels=np.array([0, 1]))
    for given in ("only", "a,a", ","):
        assert main(["view", str(data), "--classes", given, "--offscreen"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "class names must be two or more distinct names" in err, err


def test_simulate_command_writes_collection(tmp_path, capsys):
    out = tmp_path / "s.h5"
    assert (
        main(["simulate", "--survey", "hsc", "--n", "12", "--seed", "4", "--workers", "1", "-o", str(out)])
        == 0
    )
    assert main(["info", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["n"] == 12 and summary["has_labels"] is True and summary["dtype"] == "uint8"


def test_simulate_rejects_bad_arguments(tmp_path, capsys):
    assert main(["simulate", "--n", "0", "-o", str(tmp_path / "x.h5")]) == 2
    assert main(["simulate", "--n", "5", "--lsbg-fraction", "2", "-o", str(tmp_path / "x.h5")]) == 2
    assert not (tmp_path / "x.h5").exists()


def test_output_to_a_pipe_whose_reader_has_gone_ends_quietly(tmp_path):
    """``galview info FILE | head -1``: the reader closes first; no traceback, the shell's SIGPIPE status."""
    path = tmp_path / "cutouts.npy"
    np.save(path, np.zeros((3, 8, 8), np.float32))
    read_end, write_end = os.pipe()
    os.close(read_end)  # every write to the pipe now fails with EPIPE
    try:
        result = subprocess.run(
            [sys.executable, "-m", "galview", "info", str(path)],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert result.returncode == 141, result.stderr
    assert result.stderr == ""

"""``galview pair`` and ``galview view --beside``: the real Legacy Survey dwarfs and another file of them."""

from __future__ import annotations

import csv

import numpy as np

from galview.cli import main
from galview.io import open_collection


def run(capsys, *args) -> tuple[int, str, str]:
    code = main([*map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def other_file(shared_data, path, order, **extra):
    """The dwarfs in another file: shuffled, one band at quarter resolution, positions 0.3″ off."""
    with open_collection(shared_data / "legacy_dwarfs") as dwarfs:
        ra, dec = (np.asarray(c, float) for c in dwarfs.readable_coords())
        images = np.stack([dwarfs.get(int(i))[::4, ::4, :1] for i in order])
        ids = dwarfs.ids[order]
    np.savez(path, images=images, ra=ra[order], dec=dec[order] + 0.3 / 3600, **extra)
    return path, ids


def test_pairs_by_position_are_written_with_their_separation(shared_data, tmp_path, capsys):
    order = np.array([3, 0, 11, 5, 7])
    other, _ids = other_file(shared_data, tmp_path / "deeper.npz", order)
    out = tmp_path / "pairs.csv"
    code, printed, err = run(capsys, "pair", shared_data / "legacy_dwarfs", other, "-o", out)
    assert (code, err) == (0, "")
    assert (
        printed
        == f"{out}: 5 of 12 cutouts have a counterpart in deeper.npz, paired by sky position within 3″\n"
    )
    with open(out, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(int(r["index"]), int(r["other_index"])) for r in rows] == sorted(
        zip(order.tolist(), range(5), strict=True)
    )
    assert all(abs(float(r["separation_arcsec"]) - 0.3) < 1e-3 for r in rows)
    assert rows[0]["id"] == "ngc3115_dwarf_00" and rows[0]["other_id"] == "1"  # that file has no ids


def test_pairs_by_id_and_with_all_the_unpaired_too(shared_data, tmp_path, capsys):
    order = np.array([2, 9, 4])
    other, ids = other_file(shared_data, tmp_path / "same_ids.npz", order, ids=None)
    np.savez(tmp_path / "same_ids.npz", images=np.zeros((3, 8, 8, 1), np.uint8), ids=ids)  # ids, no positions
    out = tmp_path / "pairs.csv"
    code, printed, _err = run(capsys, "pair", shared_data / "legacy_dwarfs", other, "--all", "-o", out)
    assert code == 0 and printed.endswith(
        "3 of 12 cutouts have a counterpart in same_ids.npz, paired by id\n"
    )
    with open(out, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 12 and rows[9]["other_index"] == "1" and rows[9]["separation_arcsec"] == ""
    assert rows[0]["other_index"] == rows[0]["other_id"] == ""


def test_what_cannot_be_paired_is_refused_in_one_line(shared_data, tmp_path, capsys):
    other, _ids = other_file(shared_data, tmp_path / "deeper.npz", np.arange(4))
    folder = shared_data / "legacy_dwarfs"
    code, _out, err = run(capsys, "pair", folder, other, "--by", "id", "-o", tmp_path / "x.csv")
    assert code == 2 and f"deeper.npz: cannot be paired with {folder}: both files must give ids" in err
    assert not (tmp_path / "x.csv").exists()
    code, _out, err = run(capsys, "view", folder, folder, "--beside", other, "--offscreen")
    assert (
        code == 2
        and err == "galview: error: --beside: shows another collection beside one: give one PATH, not 2\n"
    )
    code, _out, err = run(capsys, "view", folder, "--beside", tmp_path / "missing.npz", "--offscreen")
    assert code == 2 and "missing.npz" in err and err.count("\n") == 1

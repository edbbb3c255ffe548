"""``galview mosaic``: a figure of chosen cutouts, from indices or from a table another command wrote."""

from __future__ import annotations

import shutil

import numpy as np
from PIL import Image

from galview.cli import main
from galview.core.display import default_settings, render
from galview.core.mosaic import PAD
from galview.io import open_collection


def run(capsys, *args) -> tuple[int, str, str]:
    code = main(["mosaic", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def _tile(figure: np.ndarray, position: int, columns: int, cell: int, tile_h: int) -> np.ndarray:
    top, left = PAD + (position // columns) * (tile_h + PAD), PAD + (position % columns) * (cell + PAD)
    return figure[top : top + cell, left : left + cell]


def test_a_figure_from_a_table_keeps_its_order(shared_data, tmp_path, capsys):
    data = tmp_path / "des.npz"
    shutil.copy(shared_data / "des_lsbg" / "des_lsbg_dev.npz", data)
    table = tmp_path / "chosen.csv"
    table.write_text("rank,index,id,p_LSBG\n1,7,7,0.91\n2,3,3,\n3,50,50,0.2\n")
    from galview.cli.figure import read_table

    indices, probs, name = read_table(table, 112)
    assert indices.tolist() == [7, 3, 50] and name == "P(LSBG)"  # captions say what the number is
    np.testing.assert_array_equal(probs, [0.91, np.nan, 0.2])
    out = tmp_path / "fig.png"
    code, printed, _ = run(capsys, data, "--from", table, "--columns", 2, "--cell", 64, "-o", out)
    assert code == 0 and printed.startswith(f"{out}: 3 cutouts")
    figure = np.asarray(Image.open(out).convert("RGB"))
    with open_collection(data) as collection:
        display = default_settings(collection.dtype, collection.shape[2])
        tile_h = (figure.shape[0] - PAD) // 2 - PAD
        assert figure.shape[1] == PAD + 2 * (64 + PAD)
        for position, index in enumerate((7, 3, 50)):
            expected = render(collection.get(index), display, collection.bands, collection.dtype)
            tile = _tile(figure, position, 2, 64, tile_h)
            shown = tile[:: 64 // expected.shape[0], :: 64 // expected.shape[1]]  # nearest-neighbour scaling
            np.testing.assert_array_equal(shown, expected)


def test_indices_and_what_is_refused(shared_data, tmp_path, capsys):
    data = tmp_path / "des.npz"
    shutil.copy(shared_data / "des_lsbg" / "des_lsbg_dev.npz", data)
    out = tmp_path / "fig.png"
    assert run(capsys, data, "--indices", 0, 1, 2, 3, 4, "-k", 4, "-o", out)[1].startswith(
        f"{out}: 4 cutouts"
    )
    assert Image.open(out).size == (PAD + 2 * (128 + PAD), Image.open(out).size[1])  # 4: two columns
    bad = tmp_path / "bad.csv"
    for text, problem in (
        ("id,label\n3,1\n", "has no 'index' column; its columns: id, label"),
        ("index\n3\n112\n", "line 3: index '112' is not a cutout of a collection of 112"),
        ("index\n-1\n", "line 2: index '-1' is not a cutout"),
        ("index\n", "holds no cutout"),
    ):
        bad.write_text(text)
        code, printed, err = run(capsys, data, "--from", bad, "-o", tmp_path / "x.png")
        assert (code, printed) == (2, "") and problem in err, err
    code, _, err = run(capsys, data, "--indices", 0, 112, "-o", tmp_path / "x.png")
    assert code == 2 and "--indices must be 0..111" in err
    code, _, err = run(capsys, data, "--indices", 0, "-o", tmp_path / "x.jpg")
    assert code == 2 and "expected .png" in err
    code, _, err = run(capsys, data, "--indices", 0, "-k", 401, "-o", tmp_path / "x.png")
    assert code == 2 and "at most 400" in err
    assert not (tmp_path / "x.png").exists() and not (tmp_path / "x.jpg").exists()


def test_a_cutout_that_cannot_be_read_is_a_dark_tile_and_said(tmp_path, capsys):
    from tests.ml.tiny_models import blob_pngs

    folder, _ = blob_pngs(tmp_path / "pngs", damaged=1, n=6)
    out = tmp_path / "fig.png"
    code, printed, err = run(capsys, folder, "--indices", 0, 1, 2, "--cell", 32, "-o", out)
    assert code == 0 and printed.startswith(f"{out}: 3 cutouts")
    assert err.startswith("warning: 1 cutout could not be read and is a dark tile in the figure (cutout 1: ")
    figure = np.asarray(Image.open(out).convert("RGB"))
    tile_h = figure.shape[0] - 2 * PAD  # one row of three
    assert (_tile(figure, 1, 3, 32, tile_h) == 40).all()
    assert not (_tile(figure, 0, 3, 32, tile_h) == 40).all()


def test_beside_puts_each_cutouts_counterpart_in_another_file_next_to_it(shared_data, tmp_path, capsys):
    """The real Legacy Survey dwarfs, each beside its quarter-resolution g-band copy in another file."""
    folder = shared_data / "legacy_dwarfs"
    with open_collection(folder) as dwarfs:
        ra, dec = (np.asarray(c, float) for c in dwarfs.readable_coords())
        order = np.array([4, 1, 0])  # cutout 2 has no counterpart
        images = np.stack([dwarfs.get(int(i))[::4, ::4, :1] for i in order])
    other = tmp_path / "deeper.npz"
    np.savez(other, images=images, ra=ra[order], dec=dec[order])
    out = tmp_path / "pairs.png"
    code, printed, err = run(
        capsys, folder, "--indices", "0", "2", "--beside", other, "--cell", "64", "-o", out
    )
    assert (code, err) == (0, "")
    assert printed.endswith(
        "(3 of 12 cutouts have a counterpart in deeper.npz, paired by sky position within 3″)\n"
    )
    figure = np.asarray(Image.open(out).convert("RGB"))
    assert figure.shape[1] == PAD + 4 * (64 + PAD)  # two cutouts in a row, each with its counterpart
    with open_collection(other) as deeper:
        expected = render(deeper.get(2), default_settings(deeper.dtype, 1), deeper.bands, deeper.dtype)
    tile_h = 64 + 2 * 15 + PAD
    np.testing.assert_array_equal(_tile(figure, 1, 4, 64, tile_h), expected)  # 64 px: drawn 1:1
    assert (_tile(figure, 3, 4, 64, tile_h) == 40).all()  # cutout 2: none within 3″, a dark tile
    code, _printed, err = run(capsys, folder, "--indices", "0", "--beside", other, "-k", "201", "-o", out)
    assert code == 2 and "at most 200" in err

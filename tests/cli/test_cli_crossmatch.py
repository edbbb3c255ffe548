"""``galview crossmatch``: the real Legacy Survey FITS cutouts matched with their real catalogue."""

from __future__ import annotations

import csv

import pytest

from galview.cli import main


def run(capsys, *args) -> tuple[int, str, str]:
    code = main(["crossmatch", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_twelve_cutouts_get_their_catalogue_rows(shared_data, tmp_path, capsys):
    folder = shared_data / "legacy_dwarfs"
    out = tmp_path / "matched.csv"
    code, printed, err = run(capsys, folder, folder / "candidates.csv", "--radius", "1", "-o", out)
    assert (code, err) == (0, "")
    assert (
        printed == f"{out}: 12 of 12 cutouts have a source of candidates.csv within 1″ (12 of its 24 rows)\n"
    )
    with open(out, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0])[:8] == [
        "index",
        "id",
        "ra",
        "dec",
        "separation_arcsec",
        "catalogue_row",
        "id_1",
        "catalogue_ra",
    ]
    assert len(rows) == 12 and all(float(r["separation_arcsec"]) < 0.01 for r in rows)
    first = rows[0]
    assert first["id"] == "ngc3115_dwarf_00" and first["id_1"] == "1" and first["mu_g_imfit"] == "28.382"
    assert first["catalogue_row"] == "1"  # counted from 1, as the file's rows


def test_unmatched_cutouts_with_all_and_what_is_refused(shared_data, tmp_path, capsys):
    folder = shared_data / "legacy_dwarfs"
    catalogue = tmp_path / "two.csv"
    catalogue.write_text("name,ra,dec\nA,151.70481,-8.35146\nB,10,10\n")
    out = tmp_path / "all.csv"
    assert run(capsys, folder, catalogue, "--all", "-o", out)[0] == 0
    with open(out, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert (
        len(rows) == 12 and [r["name"] for r in rows].count("A") == 1 and rows[1]["separation_arcsec"] == ""
    )
    with pytest.raises(SystemExit) as refused:  # argparse refuses it before anything is opened
        run(capsys, folder, catalogue, "--radius", "5000", "-o", out)
    assert refused.value.code == 2 and "--radius: 5000 is not in (0, 3600]" in capsys.readouterr().err
    code, printed, err = run(
        capsys, shared_data / "des_lsbg" / "des_lsbg_dev.npz", tmp_path / "none.csv", "-o", out
    )
    assert code == 2 and printed == "" and "none.csv: does not exist" in err


def test_a_catalogues_label_column_comes_in_through_labels_import(shared_data, tmp_path, capsys, monkeypatch):
    """crossmatch writes the cutouts' index and id beside the catalogue's columns, so a catalogue with a
    label column is imported by position in two commands."""
    import shutil

    from galview.io import open_collection
    from galview.io.label_store import open_label_store

    monkeypatch.delenv("GALVIEW_LABEL_STORES", raising=False)
    folder = tmp_path / "dwarfs"
    shutil.copytree(shared_data / "legacy_dwarfs", folder)
    catalogue = tmp_path / "classified.csv"
    with open(shared_data / "legacy_dwarfs" / "candidates.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    with open(catalogue, "w", newline="") as handle:
        handle.write("name,ra,dec,label\n")
        handle.writelines(f"D{r['id_1']},{r['ra']},{r['dec']},{int(r['nucleated'])}\n" for r in rows)
    matched = tmp_path / "matched.csv"
    assert run(capsys, folder, catalogue, "-o", matched)[0] == 0
    assert main(["labels", "import", str(folder), str(matched)]) == 0
    assert capsys.readouterr().out == "imported 12 labels\n"
    with open(matched, newline="") as handle:
        expected = {int(r["index"]): int(r["label"]) for r in csv.DictReader(handle)}
    with open_collection(folder) as collection, open_label_store(collection) as store:
        labels = store.current()
    assert {i: int(labels[i]) for i in expected} == expected

"""``galview find``: a cutout by index, id or part of one, or the nearest to a sky position."""

from __future__ import annotations

from galview.cli import main


def run(capsys, *args) -> tuple[int, str, str]:
    code = main(["find", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_find_in_a_folder_of_real_legacy_survey_fits(shared_data, capsys):
    folder = shared_data / "legacy_dwarfs"
    code, out, err = run(capsys, folder, "#3")
    assert code == 0 and err == ""
    index, cid, ra, dec, how = out.rstrip("\n").split("\t")
    assert (index, how) == ("3", "cutout 3 (by its index)")
    code, out, _ = run(capsys, folder, f"{float(ra) + 2 / 3600} {dec}")  # 2″ east of it, at Dec −7.9°
    assert out.split("\t")[:2] == ["3", cid] and out.rstrip().endswith("2.0″ away)")
    code, out, _ = run(capsys, folder, cid.upper())
    assert out.split("\t")[0] == "3" and out.rstrip().endswith("(by its id)")
    code, out, err = run(capsys, folder, "ngc3115")
    assert code == 2 and out == "" and "ids contain 'ngc3115'" in err and "type more of one" in err
    code, out, err = run(capsys, folder, "#12")
    assert code == 2 and "'12' is not a cutout index; the collection has 12 (0–11)" in err


def test_find_reads_the_notes_in_the_label_store(shared_data, tmp_path, capsys, monkeypatch):
    import shutil

    monkeypatch.delenv("GALVIEW_LABEL_STORES", raising=False)
    data = tmp_path / "des.npz"
    shutil.copy(shared_data / "des_lsbg" / "des_lsbg_dev.npz", data)
    code, _, err = run(capsys, data, "nucleus")
    assert code == 2 and "or in a note" in err  # no store: nothing written, nothing found
    assert not list(tmp_path.glob("*.sqlite"))
    assert main(["labels", "note", str(data), "17", "LSBG with a nucleus?"]) == 0
    capsys.readouterr()
    code, out, _ = run(capsys, data, "NUCLEUS")
    assert code == 0 and out.split("\t")[0] == "17"
    assert out.rstrip().endswith("(the one note that holds 'NUCLEUS')")

"""The one rule for what commands write: the parent folder exists, the suffix decides the format."""

from __future__ import annotations

import os

import pytest

from galview.core.errors import UserFacingError
from galview.core.outputs import output_folder, output_path


def test_a_file_in_an_existing_folder_with_a_known_suffix_is_accepted(tmp_path):
    assert output_path(tmp_path / "s.CSV", (".csv", ".h5"), "scores") == tmp_path / "s.CSV"
    assert output_folder(tmp_path / "model", "the model") == tmp_path / "model"
    assert output_folder(tmp_path, "the model") == tmp_path  # an existing folder is written into
    assert list(tmp_path.iterdir()) == []  # nothing created


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("out.txt", "out.txt: cannot write scores as '.txt'; expected .csv or .h5"),
        ("out", "out: cannot write scores as no suffix; expected .csv or .h5"),
        ("missing/x.csv", "does not exist; create it first"),
        ("missing/dir/x.csv", f"folder {os.path.join('missing', 'dir')} does not exist"),
    ],
)
def test_unknown_suffix_or_missing_folder_is_refused_and_nothing_is_created(
    tmp_path, monkeypatch, name, message
):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserFacingError) as info:
        output_path(name, (".csv", ".h5"), "scores")
    assert message in str(info.value) and "\n" not in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_folders_and_files_in_the_wrong_place_are_refused(tmp_path):
    (tmp_path / "a.csv").mkdir()
    (tmp_path / "file").write_text("x")
    with pytest.raises(UserFacingError, match="is a folder; expected a file for the scores"):
        output_path(tmp_path / "a.csv", (".csv",), "scores")
    with pytest.raises(UserFacingError, match="is a file; expected a folder for the model"):
        output_folder(tmp_path / "file", "the model")
    with pytest.raises(UserFacingError, match="is not a folder"):
        output_path(tmp_path / "file" / "x.csv", (".csv",), "scores")
    with pytest.raises(UserFacingError, match="does not exist"):
        output_folder(tmp_path / "missing" / "model", "the model")

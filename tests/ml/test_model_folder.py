"""A model folder (what ``galview train -o DIR`` writes) opens wherever a model file does: the command
line, and the window's model jobs, which go through :func:`galview.ml.loading.load_model`."""

from __future__ import annotations

import shutil

import pytest

from galview.assets import models_dir
from galview.ml.errors import ModelError
from galview.ml.jobs import open_model
from galview.ml.loading import load_model, model_file


def test_a_folder_resolves_to_its_model_keras(tmp_path):
    assert model_file(tmp_path) == tmp_path  # no model.keras: the folder itself, refused on loading
    (tmp_path / "model.keras").write_bytes(b"")
    assert model_file(tmp_path) == tmp_path / "model.keras"
    assert model_file(tmp_path / "model.keras") == tmp_path / "model.keras"


def test_load_model_and_the_window_job_open_a_model_folder(tmp_path):
    folder = tmp_path / "trained"
    folder.mkdir()
    shutil.copy(models_dir() / "deepshadows_des_sim.keras", folder / "model.keras")
    shutil.copy(models_dir() / "deepshadows_des_sim.json", folder / "model.json")
    loaded = load_model(folder)
    assert loaded.path == folder / "model.keras" and not loaded.card.inferred  # the card beside it
    assert open_model(folder).card.id == loaded.card.id
    with pytest.raises(ModelError, match="not a file"):
        load_model(tmp_path)

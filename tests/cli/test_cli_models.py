"""``galview models list | delete``: the shipped models and the retrained versions, headless (issue 12)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from galview.cli import main
from galview.ml.versions import list_versions, new_version_dir, versions_dir, write_version


@pytest.fixture
def version(tmp_path):
    """One retrained version in GalView's (isolated) data folder, its card recording a before/after."""
    pytest.importorskip("keras")
    from dataclasses import replace

    from tests.ml.tiny_models import save_tiny_model

    loaded = save_tiny_model(tmp_path / "parent.keras")
    difference = {"accuracy_before": 0.70, "accuracy_after": 0.75, "n": 112, "ci95": [-0.01, 0.1]}
    card = replace(loaded.card, metrics={"difference": difference}, training={"mode": "probe"})
    return write_version(
        loaded.model, card, new_version_dir("parent.keras"), labels=(np.arange(4), np.arange(4) % 2)
    )


def test_list_names_the_shipped_model_and_every_version_with_what_it_measured(version, capsys):
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("default (used without --model): ")
    assert "shipped   deepshadows_des_sim" in out
    assert f"version   {version.parent.name} — probe — " in out
    assert "accuracy 0.75 vs 0.70 before, 112 labels" in out and str(version) in out
    assert main(["models", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [v["path"] for v in listed["versions"]] == [str(version)]


def test_delete_removes_a_version_by_its_listed_name_and_refuses_anything_else(version, capsys):
    assert main(["models", "delete", "no-such-version"]) == 2
    assert "no such model version" in capsys.readouterr().err
    elsewhere = version.parent.parent.parent / "elsewhere"  # a model folder outside the versions folder
    elsewhere.mkdir()
    (elsewhere / "model.keras").write_bytes(b"not GalView's to delete")
    assert main(["models", "delete", str(elsewhere / "model.keras")]) == 2
    assert "GalView deletes only its own versions" in capsys.readouterr().err and elsewhere.is_dir()
    assert main(["models", "delete", version.parent.name]) == 0
    assert f"deleted {version.parent}" in capsys.readouterr().out
    assert list_versions() == [] and not version.parent.exists() and versions_dir().is_dir()


def test_use_makes_a_version_the_default_until_shipped_is_chosen_again(version, capsys, monkeypatch):
    from galview.assets import default_model_path, shipped_default_path

    monkeypatch.delenv("GALVIEW_MODEL", raising=False)
    assert default_model_path() == shipped_default_path()
    assert main(["models", "use", version.parent.name]) == 0
    assert default_model_path() == version.resolve()
    assert f"default model: {version.resolve()}" in capsys.readouterr().out
    assert main(["models", "list"]) == 0
    assert f"{version.resolve()}  (chosen with 'galview models use')" in capsys.readouterr().out
    assert main(["models", "delete", version.parent.name]) == 2  # the default is not deleted
    assert "is the default model" in capsys.readouterr().err and version.is_file()
    assert main(["models", "use", "no-such-version"]) == 2
    assert default_model_path() == version.resolve()  # a failed choice changes nothing
    not_a_model = version.parent.parent / "notes.keras"
    not_a_model.write_text("not a model")
    assert main(["models", "use", str(not_a_model)]) == 2  # it would break every command
    assert "not a Keras 3 .keras archive" in capsys.readouterr().err
    assert default_model_path() == version.resolve()
    assert main(["models", "use", "shipped"]) == 0
    assert default_model_path() == shipped_default_path()
    assert main(["models", "delete", version.parent.name]) == 0


def test_a_chosen_model_that_is_gone_falls_back_to_the_shipped_one(version, monkeypatch, caplog):
    import shutil

    from galview.assets import choose_model, default_model_path, shipped_default_path

    monkeypatch.delenv("GALVIEW_MODEL", raising=False)
    choose_model(version)
    shutil.rmtree(version.parent)  # removed behind GalView's back
    assert default_model_path() == shipped_default_path()
    assert "is gone; using the shipped one" in caplog.text
    monkeypatch.setenv("GALVIEW_MODEL", "/elsewhere/model.keras")  # the environment still overrides
    assert default_model_path().as_posix() == "/elsewhere/model.keras"

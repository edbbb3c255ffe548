"""galview.assets in the environment under test: the shipped model, its card and the resources."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from galview.assets import default_model_path, resource_path, shipped_models


def test_default_model_has_its_card(monkeypatch):
    monkeypatch.delenv("GALVIEW_MODEL")
    model = default_model_path()
    assert model.name == "deepshadows_des_sim.keras" and model.is_file()
    card = json.loads(model.with_suffix(".json").read_text())
    assert card and model in shipped_models()


def test_galview_model_overrides_the_default(monkeypatch, tmp_path):
    monkeypatch.setenv("GALVIEW_MODEL", str(tmp_path / "mine.keras"))
    assert default_model_path() == tmp_path / "mine.keras"


@pytest.mark.parametrize("name", ["galview.svg", "galview.png", "galview.desktop", "dark.qss"])
def test_resources_are_shipped(name):
    path = resource_path(name)
    assert isinstance(path, Path) and path.is_file() and path.stat().st_size > 0


def test_missing_resource_is_named():
    with pytest.raises(FileNotFoundError, match="nothing.qss"):
        resource_path("nothing.qss")


def test_desktop_entry_runs_galview():
    entry = resource_path("galview.desktop").read_text()
    assert "[Desktop Entry]" in entry and "Exec=galview view %F" in entry and "Icon=galview" in entry

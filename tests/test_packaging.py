"""The installed package carries its model and resources and finds them with importlib.resources.

The wheel is built from a copy of the checkout and unpacked (a pure-Python wheel's install); the editable
install goes to a target folder. Each is then imported by a Python started with ``-S`` (no site-packages,
no ``PYTHONPATH``), so nothing but the install under test can supply ``galview.models`` and
``galview.resources``. Without the package-dir mapping in pyproject.toml these tests fail.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUILD_INPUTS = ("galview", "models", "resources", "pyproject.toml", "README.md")
MODEL_FILES = ("deepshadows_des_sim.keras", "deepshadows_des_sim.json")
RESOURCES = ("galview.svg", "galview.png", "galview.desktop", "dark.qss")

# What galview.assets finds, printed as JSON by an isolated interpreter.
PROBE = """
import json, site, sys
site.addsitedir(sys.argv[1])
from importlib.resources import files
from galview.assets import default_model_path, resource_path, shipped_models
print(json.dumps({
    "models": str(files("galview.models")),
    "resources": str(files("galview.resources")),
    "default_model": str(default_model_path()),
    "shipped": [str(p) for p in shipped_models()],
    "resource_files": [str(resource_path(name)) for name in sys.argv[2:]],
}))
"""


@pytest.fixture(scope="module")
def source_copy(tmp_path_factory) -> Path:
    """The checkout's build inputs, copied (a build writes build/ and *.egg-info beside them)."""
    dest = tmp_path_factory.mktemp("checkout")
    for name in BUILD_INPUTS:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, dest / name)
    return dest


def _pip(*args: str, cwd: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pip", *args, "--no-deps", "--no-build-isolation", "-q"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def wheel(source_copy, tmp_path_factory) -> Path:
    """``pip wheel --no-deps --no-build-isolation`` of the copied checkout."""
    out = tmp_path_factory.mktemp("wheel")
    _pip("wheel", "-w", str(out), str(source_copy), cwd=out)
    (built,) = out.glob("galview-*.whl")
    return built


def _probe(site_dir: Path, cwd: Path) -> dict:
    """Run :data:`PROBE` with ``site_dir`` as the only place GalView can come from."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "GALVIEW_MODEL")}
    result = subprocess.run(
        [sys.executable, "-S", "-c", PROBE, str(site_dir), *RESOURCES],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_wheel_holds_model_card_and_resources(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in MODEL_FILES:
        assert f"galview/models/{name}" in names
    for name in RESOURCES:
        assert f"galview/resources/{name}" in names
    assert not any(name.startswith(("models/", "resources/")) for name in names)


def test_wheel_holds_every_module_of_the_checkout(wheel):
    """The package list in pyproject.toml is explicit: a new subpackage must not be left out."""
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "galview").rglob("*.py")}
    assert modules and not modules - names, sorted(modules - names)


def test_installed_wheel_finds_model_and_resources(wheel, tmp_path):
    site_dir = tmp_path / "site-packages"
    zipfile.ZipFile(wheel).extractall(site_dir)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    found = _probe(site_dir, cwd=elsewhere)
    package = site_dir / "galview"
    assert found["models"] == str(package / "models")
    assert found["resources"] == str(package / "resources")
    assert found["default_model"] == str(package / "models" / MODEL_FILES[0])
    assert found["shipped"] == [found["default_model"]]
    assert found["resource_files"] == [str(package / "resources" / name) for name in RESOURCES]
    assert all(Path(p).is_file() for p in found["resource_files"] + found["shipped"])


def test_editable_install_finds_the_checkout_folders(source_copy, tmp_path):
    target = tmp_path / "editable"
    _pip("install", "-e", str(source_copy), "--target", str(target), cwd=tmp_path)
    found = _probe(target, cwd=tmp_path)
    assert found["models"] == str(source_copy / "models")
    assert found["resources"] == str(source_copy / "resources")
    assert found["default_model"] == str(source_copy / "models" / MODEL_FILES[0])
    assert found["resource_files"] == [str(source_copy / "resources" / name) for name in RESOURCES]

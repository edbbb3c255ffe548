"""Shared fixtures: real data locations and an isolated GalView home for every test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory, monkeypatch):
    """Point config, cache and data directories at a temporary folder, never the user's home."""
    home = tmp_path_factory.mktemp("galview_home")
    monkeypatch.setenv("GALVIEW_HOME", str(home))
    # Label stores never land beside the data (../shared/data must stay untouched); tests of the
    # default location remove this variable and work on copies in tmp_path.
    monkeypatch.setenv("GALVIEW_LABEL_STORES", str(home / "label_stores"))
    # No shipped model unless a test asks for one: loading TensorFlow in every window test is slow.
    monkeypatch.setenv("GALVIEW_MODEL", str(home / "no-model.keras"))
    yield home
    from galview.core.logs import reset_logging

    reset_logging()  # a command's log file and stderr handler do not outlive its test


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real survey cutouts in ../shared/data (see its README); no test may write there."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"real test data not found at {SHARED_DATA}")
    before = _listing(SHARED_DATA)
    yield SHARED_DATA
    added = sorted(set(_listing(SHARED_DATA)) - set(before))
    assert not added, f"tests wrote into the shared data folder: {added}"


def _listing(folder: Path) -> list[str]:
    return [str(p.relative_to(folder)) for p in folder.rglob("*")]

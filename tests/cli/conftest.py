"""Fixtures shared by the command-line tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


@pytest.fixture
def named_des(shared_data, tmp_path, monkeypatch) -> Path:
    """A copy of the real DES cutouts (112, labels 0/1) that names its classes (artifact, LSBG); label
    stores are created beside it."""
    monkeypatch.delenv("GALVIEW_LABEL_STORES", raising=False)
    target = tmp_path / "des_lsbg_dev.npz"
    with np.load(shared_data / "des_lsbg" / "des_lsbg_dev.npz", allow_pickle=False) as real:
        arrays = {key: real[key] for key in real.files}
    np.savez(target, **arrays, class_names=np.array(["artifact", "LSBG"]))
    return target

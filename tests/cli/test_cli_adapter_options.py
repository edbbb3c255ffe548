"""Every command that runs a model on a collection takes ``--resize`` / ``--bands`` / ``--greyscale``,
which the refusal names: cutouts twice a tiny model's size are refused, then adapted."""

from __future__ import annotations

import numpy as np
import pytest

from galview.cli import main
from galview.ml import architectures
from tests.ml.tiny_models import TINY_SPEC, blobs, save_tiny_model


@pytest.fixture
def large(tmp_path, monkeypatch):
    """A 16×16 tiny model and 40 labelled cutouts of 32×32."""
    monkeypatch.setitem(architectures.ARCHITECTURES, "tiny", TINY_SPEC)
    save_tiny_model(tmp_path / "a.keras")
    save_tiny_model(tmp_path / "b.keras", seed=1)
    with np.load(blobs(tmp_path / "blobs.npz")) as arrays:
        images, labels = arrays["images"], arrays["labels"]
    data = tmp_path / "large.npz"
    np.savez(data, images=images.repeat(2, axis=1).repeat(2, axis=2), labels=labels)
    return tmp_path, str(data)


@pytest.mark.parametrize(
    "command",
    [
        ["explain", "{data}", "--model", "{a}", "--index", "3", "-o", "{out}.npy"],
        ["explain", "{data}", "--model", "{a}", "--sheet", "--per-group", "1", "-o", "{out}.png"],
        ["compare", "{data}", "--model", "{a}", "--with", "{b}", "--labels-from-file"],
        ["labels", "suspects", "{data}", "--model", "{a}", "--folds", "2", "-o", "{out}.csv"],
    ],
    ids=["explain", "explain-sheet", "compare", "suspects"],
)
def test_the_refusal_names_the_option_and_the_option_adapts(large, capsys, command):
    tmp_path, data = large
    fill = {
        "data": data,
        "a": str(tmp_path / "a.keras"),
        "b": str(tmp_path / "b.keras"),
        "out": str(tmp_path / "o"),
    }
    argv = [part.format(**fill) for part in command]
    assert main(argv) == 2
    assert "choose an adapter: resize (--resize)" in capsys.readouterr().err
    assert main([*argv, "--bands", "X"]) == 2  # a wrong band name is refused before the model loads
    assert "--bands X: the collection has no band 'X'" in capsys.readouterr().err
    assert main([*argv, "--resize"]) == 0
    captured = capsys.readouterr()
    assert "adapter: {'from': {'shape': [32, 32, 3]}, 'resize': [16, 16]}" in captured.err

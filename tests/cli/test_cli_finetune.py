"""``galview finetune`` end to end on a tiny model folder: human labels from the store (or the file),
the recipe and why, the cross-validated before/after and verdict, then ``galview score`` uses it;
mistakes are caught before Keras loads."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from galview.cli import main
from galview.core.label_values import UNSURE
from galview.core.training_labels import model_user
from galview.io import open_collection
from galview.io.label_store import open_label_store
from galview.ml import architectures
from tests.cli.test_cli_startup import run_wrapped
from tests.ml.tiny_models import TINY_SPEC, blob_pngs, blobs, file_hash, save_tiny_model

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.filterwarnings("ignore:Even though the `tf.config.experimental_run:UserWarning")


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    import tensorflow as tf

    monkeypatch.setitem(architectures.ARCHITECTURES, "tiny", TINY_SPEC)
    tf.config.run_functions_eagerly(True)  # tiny models: faster than tracing each fit's graph
    (tmp_path / "parent").mkdir()
    save_tiny_model(tmp_path / "parent" / "model.keras")
    data = blobs(tmp_path / "blobs.npz")
    yield tmp_path, data
    tf.config.run_functions_eagerly(False)


def test_finetune_uses_the_stores_human_labels_and_score_uses_the_result(workspace, capsys):
    tmp_path, data = workspace
    parent_hash = file_hash(tmp_path / "parent" / "model.keras")
    with open_label_store(open_collection(data)) as store:
        store.set([0, 1], UNSURE, user="ana")
        store.set([2], 0, user=model_user("m1"))
    args = ["finetune", str(data), "--model", str(tmp_path / "parent"), "--mode", "head", "--epochs", "1"]
    assert main([*args, "--folds", "2", "-o", str(tmp_path / "new")]) == 0
    out = capsys.readouterr().out
    assert "labels: 37 human labels: " in out and "2 unsure, 1 set by a model left out" in out
    assert "recipe: head: 1 epoch, Adam 1e-05" in out and "why:    40" not in out and "as asked" in out
    for line in ("before     accuracy ", "after      accuracy ", "difference ", "verdict    "):
        assert line in out
    assert re.search(r"; (1 cutout|\d+ cutouts) right only after, \d+ only before", out)
    assert "95% CI" in out and "device     CPU (TensorFlow)" in out
    assert out.strip().splitlines()[-1] == str(tmp_path / "new")
    assert file_hash(tmp_path / "parent" / "model.keras") == parent_hash
    assert main(["score", str(data), "--model", str(tmp_path / "new"), "-o", str(tmp_path / "s.csv")]) == 0
    assert len((tmp_path / "s.csv").read_text().splitlines()) == 41


def test_labels_from_file_and_the_default_mode(workspace, capsys):
    tmp_path, data = workspace
    with open_label_store(open_collection(data)) as store:
        store.set([0, 1, 2], UNSURE, user="ana")
    args = ["finetune", str(data), "--model", str(tmp_path / "parent"), "--labels-from-file", "--folds", "2"]
    assert main([*args, "--epochs", "1", "-o", str(tmp_path / "new")]) == 0
    out = capsys.readouterr().out
    assert "labels: 40 human labels: 20 " in out and "(the file's labels)" in out
    assert "40 labels, probe by default: logistic regression on the frozen penultimate features" in out
    assert (tmp_path / "new" / "model.json").is_file()


def test_a_labelled_image_that_cannot_be_read_is_left_out_with_a_warning(workspace, capsys):
    tmp_path, _ = workspace
    folder, labels = blob_pngs(tmp_path / "pngs", damaged=3)
    with open_label_store(open_collection(folder)) as store:
        store.set_many([(i, int(v)) for i, v in enumerate(labels)], user="ana")
    args = ["finetune", str(folder), "--model", str(tmp_path / "parent"), "--folds", "2"]
    assert main([*args, "-o", str(tmp_path / "new")]) == 0
    out, err = capsys.readouterr()
    assert "labels: 40 human labels" in out and "verdict    " in out and "on 39 labels" in out
    assert "warning: 1 cutout could not be read and was left out of the training (cutout 3: " in err
    assert "c003.png" in err


@pytest.mark.parametrize(
    "case, expected",
    [
        ("not empty", "folder is not empty"),
        ("missing model", "no such model"),
        (
            "too few",
            "class '1' has 3 labels; 5-fold cross-validation needs at least 5 (label more, or use --folds 3)",
        ),
    ],
)
def test_mistakes_are_caught_before_keras_loads(tmp_path, case, expected):
    data = tmp_path / "few.npz"
    images = np.zeros((10, 16, 16, 3), np.uint8)
    np.savez(data, images=images, labels=np.array([0] * 7 + [1] * 3))
    model = tmp_path / "nosuch.keras"
    if case != "missing model":
        (tmp_path / "m").mkdir()
        (tmp_path / "m" / "model.keras").write_bytes(b"PK")  # checked only when loaded, after these errors
        model = tmp_path / "m"
    out = tmp_path / "out"
    if case == "not empty":
        out.mkdir()
        (out / "x").write_text("mine")
    done = run_wrapped(["finetune", data, "--model", model, "-o", out], tmp_path, PYTHONPATH=str(REPO))
    assert done.returncode == 2 and expected in done.stderr, done.stderr
    assert "keras" not in done.stdout and "tensorflow" not in done.stdout


def test_finetune_with_an_adapter_and_other_named_classes(workspace, capsys):
    """Cutouts twice the model's size, labels of classes the collection names: ``--resize`` adapts
    them (the new model keeps the adapter, so ``score`` needs no option) and the new model takes the
    collection's class names, said before training."""
    tmp_path, data = workspace
    with np.load(data) as arrays:
        images, labels = arrays["images"], arrays["labels"]
    large = tmp_path / "large.npz"
    np.savez(large, images=images.repeat(2, axis=1).repeat(2, axis=2), labels=labels,
             class_names=np.array(["corner", "centre"]))  # fmt: skip
    args = ["finetune", str(large), "--model", str(tmp_path / "parent"), "--labels-from-file", "--folds", "2"]
    assert main([*args, "-o", str(tmp_path / "refused")]) == 2  # 32×32 cutouts, a 16×16 model
    assert "choose an adapter: resize" in capsys.readouterr().err
    assert main([*args, "--resize", "-o", str(tmp_path / "new")]) == 0
    captured = capsys.readouterr()
    assert "labels: 40 human labels: 20 corner, 20 centre" in captured.out
    assert (
        "classes: corner, centre, the collection's (the starting model tells artifact, LSBG apart"
        in captured.out
    )
    assert "adapter: {'from': {'shape': [32, 32, 3]}, 'resize': [16, 16]}" in captured.err
    assert "(by guessing the most common class: the starting model tells other classes apart)" in captured.out
    assert main(["score", str(large), "--model", str(tmp_path / "new"), "-o", str(tmp_path / "s.csv")]) == 0
    assert len((tmp_path / "s.csv").read_text().splitlines()) == 41

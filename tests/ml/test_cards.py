"""Model cards: round trip through JSON, validation with ModelError, data fingerprints."""

from __future__ import annotations

import json
from datetime import datetime

import h5py
import keras
import numpy as np
import pytest

import galview
from galview.ml.architectures import get_architecture
from galview.ml.cards import InputSpec, ModelCard, card_path, fingerprint, load_card, save_card
from galview.ml.errors import ModelError


def _card(**fields) -> ModelCard:
    return get_architecture("deepshadows").card(**fields)


def test_card_sits_beside_the_model(tmp_path):
    assert card_path(tmp_path / "models" / "foo.keras") == tmp_path / "models" / "foo.json"
    assert card_path("foo.h5").name == "foo.json"


def test_defaults_come_from_the_architecture():
    card = _card()
    assert card.architecture == "deepshadows" and card.task == "binary"
    assert card.class_names == ("artifact", "LSBG")
    assert card.class_names[card.positive_class] == "LSBG"
    assert card.n_outputs == 1
    assert card.input == InputSpec((64, 64, 3), ("R", "G", "B"), "uint8", "divide255", None)
    assert card.explain_layer == "conv3"
    assert card.backend == keras.backend.backend() and card.keras_version == keras.__version__
    assert card.galview_version == galview.__version__
    assert datetime.fromisoformat(card.created).tzinfo is not None
    assert get_architecture("galaxyid").card().n_outputs == 37
    with pytest.raises(ModelError, match="unknown architecture"):
        get_architecture("nope").card()


def test_round_trip_through_json(tmp_path):
    adapter = {"from": {"shape": [256, 256, 3]}, "resize": [64, 64]}
    card = _card(
        input=InputSpec((64, 64, 3), ("R", "G", "B"), "uint8", "divide255", adapter),
        metrics={"accuracy": np.float64(0.92), "ci95": {"accuracy": (0.91, 0.93)}, "auc": float("nan")},
        training={"recipe": {"epochs": 100}, "epochs_run": 12, "seed": 3, "n_train": np.int64(30000)},
        data_fingerprint="sha256:abc",
        parent="0123456789ab",
    )
    path = save_card(card, tmp_path / "m.json")
    assert not list(tmp_path.glob("*.partial"))
    raw = json.loads(path.read_text())
    assert raw["schema"] == "galview-model-card/1"
    assert raw["metrics"]["auc"] is None  # NaN is not JSON: stored as null
    loaded = load_card(path)
    assert loaded.input == card.input
    assert loaded.class_names == card.class_names and loaded.positive_class == 1
    assert loaded.metrics == {"accuracy": 0.92, "ci95": {"accuracy": [0.91, 0.93]}, "auc": None}
    assert loaded.training["n_train"] == 30000
    for key in ("id", "created", "parent", "data_fingerprint", "backend", "keras_version", "explain_layer"):
        assert getattr(loaded, key) == getattr(card, key)
    assert loaded.to_dict() == raw


def _write(tmp_path, data, name="card.json"):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def _fails(path, *fragments):
    with pytest.raises(ModelError) as info:
        load_card(path)
    message = str(info.value)
    assert message.startswith(f"{path}: "), message
    for fragment in fragments:
        assert fragment in message, message


def test_bad_cards_raise_model_error_naming_the_file(tmp_path):
    good = _card().to_dict()
    _fails(tmp_path / "absent.json", "not found")
    _fails(_write(tmp_path, "{not json", "broken.json"), "not valid JSON")
    _fails(_write(tmp_path, json.dumps(good)[:40], "truncated.json"), "not valid JSON")
    _fails(_write(tmp_path, [1, 2], "list.json"), "JSON object")
    missing = {k: v for k, v in good.items() if k not in ("task", "input")}
    _fails(_write(tmp_path, missing, "missing.json"), "lacks required keys", "task", "input")
    _fails(_write(tmp_path, {**good, "task": "regression"}, "task.json"), "task must be")
    _fails(_write(tmp_path, {**good, "class_names": ["a", "b", "c"]}, "classes.json"), "2 class names")
    _fails(_write(tmp_path, {**good, "positive_class": 2}, "positive.json"), "positive_class")
    bad_shape = {**good, "input": {**good["input"], "shape": [64, 64]}}
    _fails(_write(tmp_path, bad_shape, "shape.json"), "three positive integers")
    bad_scale = {**good, "input": {**good["input"], "scale": "zscale"}}
    _fails(_write(tmp_path, bad_scale, "scale.json"), "scale")
    bad_dtype = {**good, "input": {**good["input"], "dtype": "int16"}}
    _fails(_write(tmp_path, bad_dtype, "dtype.json"), "dtype")
    bad_bands = {**good, "input": {**good["input"], "bands": ["g", "r"]}}
    _fails(_write(tmp_path, bad_bands, "bands.json"), "2 band names for 3 channels")


def test_invalid_cards_are_never_written(tmp_path):
    float64 = _card(input=InputSpec((64, 64, 3), dtype="float64"))
    with pytest.raises(ModelError, match="dtype"):
        save_card(float64, tmp_path / "bad.json")
    with pytest.raises(ModelError, match="task"):
        save_card(_card(task="regression"), tmp_path / "bad.json")
    assert not list(tmp_path.iterdir())


def test_minimal_card_gets_defaults(tmp_path):
    data = {
        "architecture": "custom",
        "task": "multiclass",
        "class_names": ["a", "b", "c"],
        "input": {"shape": [32, 32, 1]},
        "explain_layer": None,
    }
    card = load_card(_write(tmp_path, data))
    assert card.input == InputSpec((32, 32, 1))
    assert card.n_outputs == 3 and card.positive_class is None and card.metrics == {}


def test_fingerprint_sees_labels_pixels_and_shapes(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (10, 8, 8, 3), dtype=np.uint8)
    labels = rng.integers(0, 2, 10)
    base = fingerprint(images, labels)
    assert base.startswith("sha256:") and len(base) == 7 + 64
    assert fingerprint(images.copy(), labels.copy()) == base
    assert fingerprint(images, labels.astype(np.int32)) == base  # same labels, other int width
    flipped = labels.copy()
    flipped[3] ^= 1
    assert fingerprint(images, flipped) != base
    changed = images.copy()
    changed[0, 4, 4, 1] ^= 1
    assert fingerprint(changed, labels) != base
    assert fingerprint(images[:9], labels[:9]) != base
    assert fingerprint(images.astype(np.float32), labels) != base
    with h5py.File(tmp_path / "c.h5", "w") as handle:
        handle["images"] = images
    with h5py.File(tmp_path / "c.h5", "r") as handle:
        assert fingerprint(handle["images"], labels) == base

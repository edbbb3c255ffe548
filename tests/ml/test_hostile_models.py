"""Hostile model files and cards (issue 11, section 6): one-line ModelErrors, checked before Keras reads."""

from __future__ import annotations

import json
import warnings
import zipfile

import keras
import numpy as np
import pytest

from galview.core import budget as limits
from galview.ml.architectures import build_model, get_architecture
from galview.ml.cards import InputSpec, ModelCard, card_path, load_card
from galview.ml.errors import ModelError
from galview.ml.loading import import_legacy_h5, load_model, save_model

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")

SHAPE = (16, 16, 2)


@pytest.fixture(scope="module")
def tiny():
    keras.utils.set_random_seed(0)
    model = build_model("deepmerge", SHAPE)
    card = get_architecture("deepmerge").card(input=InputSpec(SHAPE, ("F814W", "F160W")))
    return model, card


def _fails(call, path, *fragments) -> str:
    with pytest.raises(ModelError) as info:
        call()
    message = str(info.value)
    assert type(info.value) is ModelError
    assert message.startswith(f"{path}: ") and "\n" not in message, message
    for fragment in fragments:
        assert fragment in message, message
    return message


def _card_file(tmp_path, tiny, edit) -> object:
    data = tiny[1].to_dict()
    edit(data)
    path = tmp_path / "card.json"
    path.write_text(json.dumps(data) if isinstance(data, dict) else data)
    return path


# -- cards --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("class_names", "ab", 'class_names must be a list of strings, got "ab"'),
        ("class_names", ["a", 2], "class_names must be a list of strings"),
        ("description", [1], "description must be a string, got [1]"),
        ("inferred", "yes", "inferred must be true or false"),
        ("metrics", [0.9], "metrics must be an object"),
        ("positive_class", "1", "positive_class must be a whole number or null"),
        ("positive_class", True, "positive_class must be a whole number or null"),
        ("positive_class", 1.0, "positive_class must be a whole number or null, got 1.0"),
        ("parent", 7, "parent must be a string or null"),
        ("explain_layer", 3, "explain_layer must be a string or null"),
    ],
)
def test_card_field_of_the_wrong_type_is_a_clean_error(tmp_path, tiny, key, value, fragment):
    path = _card_file(tmp_path, tiny, lambda data: data.__setitem__(key, value))
    _fails(lambda: load_card(path), path, fragment)


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("bands", 3, "input bands must be a list of strings or null, got 3"),
        ("bands", "RGB", "input bands must be a list of strings or null"),
        ("dtype", 5, "input dtype must be a string, got 5"),
        ("scale", ["none"], "input scale must be a string"),
    ],
)
def test_input_field_of_the_wrong_type_is_a_clean_error(tmp_path, tiny, key, value, fragment):
    path = _card_file(tmp_path, tiny, lambda data: data["input"].__setitem__(key, value))
    _fails(lambda: load_card(path), path, fragment)


def test_card_with_a_4301_digit_number_is_a_clean_error(tmp_path, tiny):
    text = json.dumps(tiny[1].to_dict()).replace('"positive_class": 1', '"positive_class": ' + "7" * 4301)
    path = tmp_path / "card.json"
    path.write_text(text)
    _fails(lambda: load_card(path), path, "not valid JSON", "4300 digits")


def test_deeply_nested_card_is_a_clean_error(tmp_path):
    path = tmp_path / "card.json"
    path.write_text("[" * 200_000 + "]" * 200_000)
    _fails(lambda: load_card(path), path, "not valid JSON")


def test_card_larger_than_the_budget_is_refused_before_reading(tmp_path, tiny, monkeypatch):
    path = _card_file(tmp_path, tiny, lambda data: data.__setitem__("description", "x" * 5000))
    monkeypatch.setattr(limits, "MAX_MODEL_CONFIG_BYTES", 4096)
    _fails(lambda: load_card(path), path, "model card is 5.4 kB", "at most 4.0 kB")


def test_card_written_by_galview_still_loads(tmp_path, tiny):
    path = tmp_path / "card.json"
    path.write_text(json.dumps(tiny[1].to_dict()))
    assert load_card(path).to_dict() == tiny[1].to_dict()
    assert ModelCard.from_dict(tiny[1].to_dict()).class_names == tiny[1].class_names


# -- archives ------------------------------------------------------------------------------------------


def test_keras_archive_with_a_huge_config_is_refused_before_keras_reads_it(tmp_path, tiny, monkeypatch):
    model, card = tiny
    path = tmp_path / "m.keras"
    save_model(model, card, path)
    with zipfile.ZipFile(path) as archive:
        size = archive.getinfo("config.json").file_size
    monkeypatch.setattr(limits, "MAX_MODEL_CONFIG_BYTES", size - 1)
    monkeypatch.setattr(keras.saving, "load_model", lambda *a, **k: pytest.fail("Keras read the archive"))
    _fails(lambda: load_model(path), path, "its config.json is", "once unzipped", "at most")


@pytest.mark.slow  # making the 1.5 GB member takes ~15 s; the test above covers the check quickly
def test_real_config_bomb_is_refused_from_the_zip_directory(tmp_path):
    """A config.json of 1.5 GB (zipped to a few MB) is refused in well under a second."""
    import time

    from tests.hostile.cases_files import _model_huge_config

    _model_huge_config(tmp_path)
    path = tmp_path / "model.keras"
    start = time.monotonic()
    _fails(lambda: load_model(path), path, "its config.json is 1.5 GB once unzipped", "at most 16 MB")
    assert time.monotonic() - start < 5


# -- weights -------------------------------------------------------------------------------------------


def _with_nan(model):
    broken = keras.models.clone_model(model)
    weights = [w.copy() for w in model.get_weights()]
    weights[-2][0, 0] = np.nan
    weights[0][...] = np.inf
    broken.set_weights(weights)
    return broken


def test_model_with_nan_weights_is_refused_when_it_loads(tmp_path, tiny):
    model, card = tiny
    path = tmp_path / "nan.keras"
    save_model(_with_nan(model), card, path)
    message = _fails(
        lambda: load_model(path), path, "weights that are NaN or infinite in", "expected a trained model"
    )
    assert card_path(path).is_file()
    assert "conv" in message


def test_legacy_h5_with_nan_weights_is_refused(tmp_path, tiny):
    model, _ = tiny
    path = tmp_path / "nan.h5"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _with_nan(model).save(path)
    _fails(lambda: import_legacy_h5(path), path, "NaN or infinite")


def test_model_with_finite_weights_loads(tmp_path, tiny):
    model, card = tiny
    path = tmp_path / "ok.keras"
    save_model(model, card, path)
    assert load_model(path).card.to_dict() == card.to_dict()

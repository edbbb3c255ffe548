"""Opening models: .keras with cards, legacy .h5, JSON + weights; every failure is a ModelError."""

from __future__ import annotations

import dataclasses
import json
import warnings

import h5py
import keras
import numpy as np
import pytest

from galview.ml.architectures import build_model, get_architecture
from galview.ml.cards import InputSpec, card_path, save_card
from galview.ml.errors import ModelError
from galview.ml.loading import (
    LoadedModel,
    import_json_weights,
    import_legacy_h5,
    infer_card,
    last_conv_layer,
    load_model,
    save_model,
)

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")

SHAPE = (16, 16, 2)
X = np.random.default_rng(0).random((3, *SHAPE), dtype=np.float32)


@pytest.fixture(scope="module")
def tiny():
    """A real DeepMerge at 16×16×2 (17k parameters) and its card."""
    keras.utils.set_random_seed(0)
    model = build_model("deepmerge", SHAPE)
    card = get_architecture("deepmerge").card(input=InputSpec(SHAPE, ("F814W", "F160W")))
    return model, card


def _predict(model):
    return model.predict(X, verbose=0)


def _fails(call, path, *fragments):
    with pytest.raises(ModelError) as info:
        call()
    message = str(info.value)
    assert type(info.value) is ModelError
    assert message.startswith(f"{path}: "), message
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_save_and_load_keras_with_card(tiny, tmp_path):
    model, card = tiny
    path = tmp_path / "models" / "merge.keras"
    path.parent.mkdir()
    saved = save_model(model, card, path)
    assert card_path(path).is_file() and not list(path.parent.glob("*partial*"))
    loaded = load_model(path)
    assert isinstance(loaded, LoadedModel) and loaded.path == path
    np.testing.assert_allclose(_predict(loaded.model), _predict(model), rtol=1e-5, atol=1e-6)
    assert loaded.card.to_dict() == card.to_dict()
    assert loaded.card.explain_layer == "conv3" and not loaded.card.inferred
    assert len(loaded.version) == 12
    assert loaded.version == load_model(path).version == saved.version


def test_version_follows_weights_and_card(tiny, tmp_path):
    model, card = tiny
    path = tmp_path / "m.keras"
    first = save_model(model, card, path).version
    save_card(dataclasses.replace(card, class_names=("quiet", "merging")), card_path(path))
    relabelled = load_model(path).version
    assert relabelled != first
    other = build_model("deepmerge", SHAPE)
    assert save_model(other, card, path).version not in (first, relabelled)


def test_missing_card_is_inferred(tiny, tmp_path):
    model, _ = tiny
    path = tmp_path / "bare.keras"
    model.save(path)
    loaded = load_model(path)
    card = loaded.card
    assert card.inferred and card.task == "binary" and card.architecture == "deepmerge"
    assert card.class_names == ("non-merger", "merger")  # recognised by its name
    assert card.input.shape == SHAPE and card.explain_layer == "conv3"


def test_infer_card_guesses_the_task_from_the_head():
    gz = infer_card(build_model("galaxyid", (16, 16, 1)))
    assert (gz.task, gz.n_outputs, gz.explain_layer) == ("multilabel", 37, "conv4")
    uwa = infer_card(build_model("uwa-shapes", (16, 16, 1)))
    assert (uwa.task, uwa.class_names) == ("multiclass", ("oval", "rectangular", "obround"))
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(2, 3, name="only_conv")(inputs)
    outputs = keras.layers.Dense(4, activation="softmax")(keras.layers.Flatten()(x))
    custom = infer_card(keras.Model(inputs, outputs, name="mystery"))
    assert (custom.architecture, custom.task, custom.class_names[3]) == ("mystery", "multiclass", "class 3")
    assert custom.explain_layer == last_conv_layer(keras.Model(inputs, outputs)) == "only_conv"
    dense_only = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    with pytest.raises(ModelError, match="one image input"):
        infer_card(dense_only)


def test_card_that_does_not_fit_is_refused(tiny, tmp_path):
    model, card = tiny
    wrong = dataclasses.replace(card, input=InputSpec((32, 32, 2)))
    _fails(lambda: save_model(model, wrong, tmp_path / "w.keras"), tmp_path / "w.keras", "32×32×2", "16×16×2")
    bad_dtype = dataclasses.replace(card, input=InputSpec(SHAPE, dtype="float64"))
    _fails(lambda: save_model(model, bad_dtype, tmp_path / "d.keras"), tmp_path / "d.json", "dtype")
    assert not list(tmp_path.iterdir())  # nothing half-written
    path = tmp_path / "m.keras"
    save_model(model, card, path)
    save_card(dataclasses.replace(card, explain_layer="dense1"), card_path(path))
    _fails(lambda: load_model(path), card_path(path), "explain_layer 'dense1'")
    save_card(dataclasses.replace(card, explain_layer="nope"), card_path(path))
    _fails(lambda: load_model(path), card_path(path), "not a layer")
    three = get_architecture("deepshadows-3class").card(input=InputSpec(SHAPE))
    save_card(three, card_path(path))
    _fails(lambda: load_model(path), card_path(path), "3 outputs", "has 1")


def _save_legacy_h5(model, path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.save(path)


def test_import_legacy_h5(tiny, tmp_path):
    model, _ = tiny
    path = tmp_path / "old.h5"
    _save_legacy_h5(model, path)
    for loaded in (import_legacy_h5(path), load_model(path)):
        np.testing.assert_allclose(_predict(loaded.model), _predict(model), rtol=1e-5, atol=1e-6)
        assert loaded.card.inferred and loaded.card.input.shape == SHAPE and loaded.files == (path,)


def test_import_keras3_json_and_weights(tiny, tmp_path):
    model, card = tiny
    (tmp_path / "model.json").write_text(model.to_json())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.save_weights(tmp_path / "model.weights.h5")
    loaded = import_json_weights(tmp_path / "model.json", tmp_path / "model.weights.h5", card=card)
    np.testing.assert_allclose(_predict(loaded.model), _predict(model), rtol=1e-5, atol=1e-6)
    assert loaded.card is card and len(loaded.files) == 2


def _keras2_layer(class_name, name, **config):
    return {
        "class_name": class_name,
        "config": {"name": name, "trainable": True, "dtype": "float32", **config},
    }


def _keras2_json(extra_layers=()):
    """The JSON Keras 2.4 wrote for a small thesis-style Sequential (no 'module' keys)."""
    init = {"class_name": "GlorotUniform", "config": {"seed": None}}
    zeros = {"class_name": "Zeros", "config": {}}
    weights = {"kernel_initializer": init, "bias_initializer": zeros, "use_bias": True}
    layers = [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 16, 16, 1], "dtype": "float32", "name": "in"}},
        *extra_layers,
        _keras2_layer("Conv2D", "conv2d", filters=4, kernel_size=[3, 3], strides=[1, 1], padding="valid",
                      data_format="channels_last", activation="relu", **weights),
        _keras2_layer("MaxPooling2D", "max_pooling2d", pool_size=[2, 2], strides=[2, 2], padding="valid"),
        _keras2_layer("Dropout", "dropout", rate=0.25),
        _keras2_layer("Flatten", "flatten", data_format="channels_last"),
        _keras2_layer("Dense", "dense", units=3, activation="softmax", **weights),
    ]  # fmt: skip
    config = {"class_name": "Sequential", "config": {"name": "sequential", "layers": layers}}
    return json.dumps({**config, "keras_version": "2.4.0", "backend": "tensorflow"})


def _write_keras2_weights(model, path):
    """``model.save_weights('model.h5')`` as Keras 2 laid it out: one group per layer."""
    with h5py.File(path, "w") as handle:
        handle.attrs["layer_names"] = np.array([layer.name.encode() for layer in model.layers])
        handle.attrs["keras_version"] = b"2.4.0"
        for layer in model.layers:
            group = handle.create_group(layer.name)
            names = [f"{layer.name}/{w.name}:0" for w in layer.weights]
            group.attrs["weight_names"] = np.array([n.encode() for n in names])
            for name, weight in zip(names, layer.weights, strict=True):
                group.create_dataset(name, data=keras.ops.convert_to_numpy(weight))


def test_import_keras2_json_and_h5_weights(tmp_path):
    keras.utils.set_random_seed(1)
    reference = keras.Sequential(
        [
            keras.Input((16, 16, 1)),
            keras.layers.Conv2D(4, 3, activation="relu", name="conv2d"),
            keras.layers.MaxPooling2D(2, name="max_pooling2d"),
            keras.layers.Dropout(0.25, name="dropout"),
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dense(3, activation="softmax", name="dense"),
        ]
    )
    (tmp_path / "model.json").write_text(_keras2_json())
    _write_keras2_weights(reference, tmp_path / "model.h5")
    loaded = import_json_weights(tmp_path / "model.json", tmp_path / "model.h5")
    x = np.random.default_rng(2).random((2, 16, 16, 1), dtype=np.float32)
    np.testing.assert_allclose(loaded.model.predict(x, verbose=0), reference.predict(x, verbose=0), rtol=1e-5)
    assert loaded.card.task == "multiclass" and loaded.card.explain_layer == "conv2d"


def test_lambda_layers_are_refused(tmp_path):
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Lambda(lambda t: t * 2.0, name="double")(inputs)
    x = keras.layers.Conv2D(2, 3, name="conv")(x)
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(keras.layers.Flatten()(x)))
    model.save(tmp_path / "lam.keras")
    _fails(lambda: load_model(tmp_path / "lam.keras"), tmp_path / "lam.keras", "Lambda")
    _save_legacy_h5(model, tmp_path / "lam.h5")
    _fails(lambda: import_legacy_h5(tmp_path / "lam.h5"), tmp_path / "lam.h5", "Lambda")
    (tmp_path / "lam.json").write_text(model.to_json())
    _fails(
        lambda: import_json_weights(tmp_path / "lam.json", tmp_path / "lam.h5"),
        tmp_path / "lam.json",
        "Lambda",
    )
    # Keras 2 serialised the lambda's bytecode (marshal, base64); safe mode must refuse it too.
    code = "4wEAAAAAAAAAAAAAAAEAAAACAAAAUwAAAHMIAAAAfABkARQAUwApAk7pAgAAAKkAKQHaAXhyAgAAAHICAAAA"
    lam = _keras2_layer("Lambda", "lambda", function=[code, None, None], function_type="lambda",
                        module="__main__", output_shape=None, output_shape_type="raw", arguments={})  # fmt: skip
    (tmp_path / "k2lam.json").write_text(_keras2_json([lam]))
    _fails(
        lambda: import_json_weights(tmp_path / "k2lam.json", tmp_path / "lam.h5"),
        tmp_path / "k2lam.json",
        "Lambda",
    )


def test_bad_files_raise_model_error(tiny, tmp_path):
    model, card = tiny
    good = tmp_path / "good.keras"
    save_model(model, card, good)
    _fails(lambda: load_model(tmp_path / "absent.keras"), tmp_path / "absent.keras", "file not found")
    _fails(lambda: load_model(tmp_path), tmp_path, "not a file")
    (tmp_path / "notes.txt").write_text("hello")
    _fails(lambda: load_model(tmp_path / "notes.txt"), tmp_path / "notes.txt", "expected a Keras 3 .keras")
    (tmp_path / "noise.keras").write_bytes(np.random.default_rng(0).bytes(4096))
    _fails(lambda: load_model(tmp_path / "noise.keras"), tmp_path / "noise.keras", "not a zip file")
    data = good.read_bytes()
    (tmp_path / "half.keras").write_bytes(data[: len(data) // 2])
    _fails(lambda: load_model(tmp_path / "half.keras"), tmp_path / "half.keras", "truncated or corrupt")
    import zipfile

    with zipfile.ZipFile(tmp_path / "other.keras", "w") as archive:
        archive.writestr("readme.txt", "not a model")
    _fails(lambda: load_model(tmp_path / "other.keras"), tmp_path / "other.keras", "could not be read as")


def test_bad_legacy_and_json_files_raise_model_error(tiny, tmp_path):
    model, _ = tiny
    full = tmp_path / "full.h5"
    _save_legacy_h5(model, full)
    data = full.read_bytes()
    (tmp_path / "half.h5").write_bytes(data[: len(data) // 2])
    _fails(lambda: import_legacy_h5(tmp_path / "half.h5"), tmp_path / "half.h5", "truncated or corrupt")
    (tmp_path / "text.h5").write_text("not hdf5")
    _fails(lambda: import_legacy_h5(tmp_path / "text.h5"), tmp_path / "text.h5", "not an HDF5 file")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.save_weights(tmp_path / "only.weights.h5")
    _fails(
        lambda: import_legacy_h5(tmp_path / "only.weights.h5"),
        tmp_path / "only.weights.h5",
        "no model architecture",
    )
    arch = tmp_path / "model.json"
    arch.write_text(model.to_json())
    _fails(lambda: import_json_weights(tmp_path / "x.json", full), tmp_path / "x.json", "file not found")
    (tmp_path / "bad.json").write_text("{")
    _fails(lambda: import_json_weights(tmp_path / "bad.json", full), tmp_path / "bad.json", "not valid JSON")
    (tmp_path / "card.json").write_text(json.dumps({"task": "binary"}))
    _fails(
        lambda: import_json_weights(tmp_path / "card.json", full), tmp_path / "card.json", "not a Keras model"
    )
    _fails(lambda: import_json_weights(arch, tmp_path / "text.h5"), tmp_path / "text.h5", "not an HDF5")
    other = tmp_path / "other.weights.h5"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bigger = build_model("deepmerge", (24, 24, 2))
        bigger.save_weights(other)
    message = f"holds {bigger.count_params():,} weights but the model has {model.count_params():,}"
    _fails(lambda: import_json_weights(arch, other), other, message)
    np.testing.assert_allclose(_predict(import_json_weights(arch, full).model), _predict(model), rtol=1e-5)


def _convs(n):
    inputs = keras.Input((8, 8, 1))
    x = inputs
    for k in range(n):
        x = keras.layers.Conv2D(1, 3, padding="same", name=f"c{k}")(x)
    return keras.Model(inputs, keras.layers.Dense(1, name="d")(keras.layers.Flatten()(x)))


def test_weights_of_another_model_are_refused_even_where_keras_would_accept_them(tmp_path):
    """Keras silently ignores surplus layers in a .weights.h5 and only warns when it skips some."""
    (tmp_path / "two.json").write_text(_convs(2).to_json())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _convs(3).save_weights(tmp_path / "three.weights.h5")
        _convs(1).save_weights(tmp_path / "one.weights.h5")
        _convs(2).save_weights(tmp_path / "two.weights.h5")
        for name in ("three", "one"):
            path = tmp_path / f"{name}.weights.h5"
            _fails(
                lambda p=path: import_json_weights(tmp_path / "two.json", p),
                path,
                "weights but the model has",
            )
    assert import_json_weights(tmp_path / "two.json", tmp_path / "two.weights.h5").model.count_params() == 85


def test_weights_keras_reports_skipping_are_refused(tmp_path, monkeypatch):
    """Keras only *warns* when it leaves layers freshly initialised; GalView refuses such a load."""
    (tmp_path / "two.json").write_text(_convs(2).to_json())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _convs(2).save_weights(tmp_path / "two.weights.h5")

    def skipping_load(self, path, *args, **kwargs):
        warnings.warn(
            "Skipping nested container: layers will retain their freshly-initialized weights.",
            UserWarning,
            stacklevel=2,
        )

    monkeypatch.setattr(keras.Model, "load_weights", skipping_load)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the refusal must not depend on the caller's warning filters
        path = tmp_path / "two.weights.h5"
        _fails(lambda: import_json_weights(tmp_path / "two.json", path), path, "freshly-initialized")

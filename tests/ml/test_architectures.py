"""The seed architectures: published parameter counts, faithful layers, flat graphs, any input size."""

from __future__ import annotations

import subprocess
import sys

import keras
import numpy as np
import pytest

from galview.ml.architectures import ARCHITECTURES, GZ2_ANSWERS, build_model, deepshadows, get_architecture
from galview.ml.errors import ModelError

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")


def _layer_types(model):
    return [type(layer).__name__ for layer in model.layers]


def test_deepshadows_has_the_published_parameter_count_and_layers():
    model = deepshadows((64, 64, 3))
    assert model.count_params() == 4_220_385
    assert [layer.name for layer in model.layers] == [
        "cutout",
        *[f"{kind}{block}" for block in (1, 2, 3) for kind in ("conv", "bn", "pool", "dropout")],
        "flatten",
        "dense",
        "probability",
    ]
    assert float(model.get_layer("conv2").kernel_regularizer.l2) == pytest.approx(0.13)
    assert float(model.get_layer("dense").kernel_regularizer.l2) == pytest.approx(0.12)
    assert model.get_layer("dropout3").rate == pytest.approx(0.4)
    assert build_model("deepshadows").count_params() == 4_220_385
    three = build_model("deepshadows-3class")
    assert three.output_shape == (None, 3)
    assert three.get_layer("probability").activation.__name__ == "softmax"


def test_deepmerge_reproduces_the_notebook_summary():
    """174,801 parameters, 260 of them non-trainable: BatchNorm over the width axis (75, 37, 18)."""
    model = build_model("deepmerge")
    assert model.input_shape == (None, 75, 75, 2)
    assert model.count_params() == 174_801
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert trainable == 174_541
    assert [model.get_layer(f"bn{i}").gamma.shape[0] for i in (1, 2, 3)] == [75, 37, 18]
    assert [model.get_layer(f"conv{i}").kernel.shape[:2] for i in (1, 2, 3)] == [(5, 5), (3, 3), (3, 3)]
    assert [model.get_layer(f"dropout{i}").rate for i in (1, 2, 3)] == [0.5, 0.5, 0.5]
    for name, units in (("dense1", 64), ("dense2", 32)):
        layer = model.get_layer(name)
        assert layer.units == units
        assert layer.activation.__name__ == "softmax"  # as in the original notebook
        assert float(layer.kernel_regularizer.l2) == pytest.approx(1e-4)
    assert model.get_layer("probability").activation.__name__ == "sigmoid"


def test_uwa_and_galaxyid_layouts():
    uwa = build_model("uwa-shapes")
    assert uwa.count_params() == 4_352_899
    assert [uwa.get_layer(n).padding for n in ("conv1", "conv2")] == ["valid", "valid"]
    assert uwa.get_layer("dropout1").rate == 0.25 and uwa.get_layer("dropout2").rate == 0.5
    gz = build_model("galaxyid")
    assert gz.count_params() == 30_924_069
    assert [gz.get_layer(f"conv{i}").padding for i in (1, 2, 3, 4)] == ["same", "valid", "same", "same"]
    assert [gz.get_layer(f"conv{i}").filters for i in (1, 2, 3, 4)] == [64, 128, 256, 256]
    assert [gz.get_layer(f"dropout{i}").rate for i in (1, 2, 3)] == [0.5, 0.5, 0.25]
    assert gz.output_shape == (None, 37) and len(GZ2_ANSWERS) == 37 == len(set(GZ2_ANSWERS))
    assert gz.get_layer("probability").activation.__name__ == "sigmoid"


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_every_architecture_is_flat_and_explains_a_conv_layer(name):
    spec = ARCHITECTURES[name]
    model = build_model(name)
    assert model.input_shape == (None, *spec.default_input_shape)
    assert model.output_shape == (None, spec.default_n_outputs)
    assert not any(isinstance(layer, keras.Model) for layer in model.layers)
    names = [layer.name for layer in model.layers]
    assert len(names) == len(set(names))
    assert isinstance(model.get_layer(spec.explain_layer), keras.layers.Conv2D)
    last_conv = [layer.name for layer in model.layers if isinstance(layer, keras.layers.Conv2D)][-1]
    assert spec.explain_layer == last_conv
    assert spec.task in ("binary", "multiclass", "multilabel")
    assert spec.input_spec().shape == spec.default_input_shape


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_every_architecture_trains_one_epoch_at_another_size(name):
    spec = ARCHITECTURES[name]
    model = build_model(name, (16, 16, 3))
    n_out = spec.default_n_outputs
    rng = np.random.default_rng(0)
    x = rng.random((4, 16, 16, 3), dtype=np.float32)
    if spec.task == "multilabel":
        y = rng.random((4, n_out), dtype=np.float32)
    else:
        y = np.array([0, 1, 1, 0]) % max(n_out, 2)
    recipe = spec.recipe
    model.compile(optimizer=recipe.make_optimizer(), loss=recipe.loss, metrics=list(recipe.metrics))
    before = keras.ops.convert_to_numpy(model.get_layer(spec.explain_layer).kernel).copy()
    history = model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    after = keras.ops.convert_to_numpy(model.get_layer(spec.explain_layer).kernel)
    assert np.isfinite(history.history["loss"][0])
    assert not np.allclose(before, after)  # the optimiser really updated the network
    probs = model.predict(x, verbose=0)
    assert probs.shape == (4, n_out)
    assert np.all((probs >= 0) & (probs <= 1))
    if spec.task == "multiclass":
        np.testing.assert_allclose(probs.sum(axis=1), 1, rtol=1e-5)


def test_recipes_follow_the_papers():
    shadows, merge, gz = (get_architecture(n).recipe for n in ("deepshadows", "deepmerge", "galaxyid"))
    assert (shadows.optimizer, shadows.learning_rate, shadows.batch_size, shadows.epochs) == (
        "adadelta",
        0.1,
        64,
        100,
    )
    assert shadows.loss == "binary_crossentropy" and shadows.monitor == "val_loss"
    assert (merge.optimizer, merge.learning_rate, merge.batch_size, merge.patience) == ("adam", 1e-3, 128, 50)
    assert (gz.optimizer, gz.learning_rate, gz.batch_size, gz.patience, gz.metrics) == (
        "adam",
        1e-3,
        32,
        20,
        ("mse",),
    )
    optimizer = shadows.make_optimizer()
    assert isinstance(optimizer, keras.optimizers.Adadelta)
    assert float(keras.ops.convert_to_numpy(optimizer.learning_rate)) == pytest.approx(0.1)
    assert isinstance(merge.make_optimizer(), keras.optimizers.Adam)


def test_unknown_architecture_lists_the_known_ones():
    with pytest.raises(ModelError) as info:
        build_model("resnet")
    assert isinstance(info.value, ValueError)
    assert str(info.value).startswith("resnet: unknown architecture")
    for name in ARCHITECTURES:
        assert name in str(info.value)


def test_inputs_too_small_or_malformed_are_refused():
    with pytest.raises(ModelError, match="too small"):
        build_model("galaxyid", (8, 8, 1))
    with pytest.raises(ModelError, match="input_shape"):
        build_model("deepshadows", (64, 64))
    with pytest.raises(ModelError, match="n_outputs"):
        build_model("deepshadows", n_outputs=0)


def test_registry_modules_import_without_keras_or_astropy():
    """Reading the registry, cards, inputs and metrics must not pull in Keras, astropy, Qt..."""
    code = (
        "import sys\n"
        "import galview.ml.architectures, galview.ml.cards, galview.ml.inputs, galview.ml.metrics\n"
        "import galview.ml.loading, galview.ml.errors\n"
        "heavy = ['keras', 'tensorflow', 'astropy', 'scipy', 'PIL', 'sklearn', 'PyQt6']\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"

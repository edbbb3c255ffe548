"""Adapting a model's BatchNorm statistics to a collection without labels (AdaBN), as a new model version."""

from __future__ import annotations

import json

import numpy as np
import pytest

from galview.core.collection import ArrayCollection
from galview.core.jobs import Cancelled, CancelToken
from galview.ml.batchnorm_adapt import MIN_CUTOUTS, adapt_batchnorm, adapt_to_collection, batchnorm_layers
from galview.ml.errors import ModelError
from galview.ml.inputs import model_input
from galview.ml.loading import load_model
from tests.ml.tiny_models import SHAPE, save_tiny_model


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return save_tiny_model(tmp_path_factory.mktemp("tiny") / "tiny.keras")


def brighter(n=300, seed=1) -> ArrayCollection:
    """Cutouts unlike anything the untrained model's statistics (mean 0, variance 1) describe."""
    rng = np.random.default_rng(seed)
    images = np.clip(rng.normal(180, 30, (n, *SHAPE)), 0, 255).astype(np.uint8)
    return ArrayCollection("brighter", images, "NHWC")


def test_the_statistics_are_the_collections_and_the_learnt_weights_stay(tiny):
    import keras

    collection = brighter()
    before = [w.copy() for w in tiny.model.get_weights()]
    model, used = adapt_batchnorm(tiny, collection, sample=200)

    assert used == 200
    for kept, now in zip(before, tiny.model.get_weights(), strict=True):
        np.testing.assert_array_equal(kept, now)  # the parent is untouched
    bn = batchnorm_layers(model)[0]
    gamma, beta, mean, variance = bn.get_weights()
    np.testing.assert_array_equal(gamma, before[2])
    np.testing.assert_array_equal(beta, before[3])
    chosen = np.sort(np.random.default_rng(0).choice(len(collection), 200, replace=False))
    inputs = model_input(collection.get_batch(chosen), tiny.card.input)
    conv = keras.Model(model.inputs, bn.input).predict(inputs, verbose=0)
    np.testing.assert_allclose(mean, conv.mean(axis=(0, 1, 2)), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(variance, conv.var(axis=(0, 1, 2)), rtol=1e-3, atol=1e-6)
    conv_weights = model.get_layer("conv1").get_weights()
    np.testing.assert_array_equal(conv_weights[0], tiny.model.get_layer("conv1").get_weights()[0])


def test_a_cutout_that_cannot_be_read_is_left_out_of_the_statistics(tiny, tmp_path):
    import keras

    from galview.io import open_collection
    from tests.ml.tiny_models import blob_pngs

    folder, _ = blob_pngs(tmp_path / "pngs", damaged=7, n=80)
    with open_collection(folder) as collection:
        unreadable = {}
        model, used = adapt_batchnorm(tiny, collection, sample=80, on_unreadable=unreadable.__setitem__)
        assert used == 79 and list(unreadable) == [7] and "c007.png" in unreadable[7]
        inputs = model_input(collection.get_batch(np.delete(np.arange(80), 7)), tiny.card.input)
    bn = batchnorm_layers(model)[0]
    conv = keras.Model(model.inputs, bn.input).predict(inputs, verbose=0)
    np.testing.assert_allclose(bn.get_weights()[2], conv.mean(axis=(0, 1, 2)), rtol=1e-4, atol=1e-6)


def test_a_new_version_records_its_parent_and_collection_and_loads(tiny, tmp_path):
    path = adapt_to_collection(tiny, brighter(), tmp_path / "adapted", sample=100)
    card = json.loads(path.with_suffix(".json").read_text())
    assert card["parent"] == str(tiny.path) and card["training"]["parent_id"] == tiny.card.id
    assert card["training"]["source"] == "brighter" and card["training"]["cutouts"] == 100
    assert card["id"] != tiny.card.id and card["metrics"] == {}
    loaded = load_model(path)
    assert loaded.card.architecture == "tiny" and loaded.version != tiny.version
    from galview.ml.versions import ModelVersion, version_title

    title = version_title(ModelVersion(path, loaded.card, "adapted", loaded.card.created))
    assert "adapted to brighter (100 cutouts, no labels)" in title


def test_too_few_cutouts_or_no_batchnorm_is_refused(tiny, tmp_path):
    with pytest.raises(ModelError, match=f"needs at least {MIN_CUTOUTS}"):
        adapt_batchnorm(tiny, brighter(n=MIN_CUTOUTS - 1))
    import keras

    from galview.ml.loading import save_model

    inputs = keras.Input(shape=SHAPE)
    plain = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(keras.layers.Flatten()(inputs)))
    plain_loaded = save_model(
        plain, tiny.card.__class__(**{**tiny.card.__dict__, "explain_layer": None}), tmp_path / "p.keras"
    )
    with pytest.raises(ModelError, match="has no BatchNorm layer"):
        adapt_batchnorm(plain_loaded, brighter())


def test_a_cancelled_adaptation_writes_no_version(tiny, tmp_path):
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        adapt_to_collection(tiny, brighter(), tmp_path / "adapted", cancel=token)
    assert not (tmp_path / "adapted").exists()


def test_adapted_to_the_real_cutouts_the_shipped_models_first_layer_normalises_them(shared_data):
    """On the 112 real DES cutouts (no labels read): after adaptation the first BatchNorm layer's
    output over them has, per channel, the mean its learnt shift gives (beta): the real images are
    centred as the training survey's were."""
    import keras

    from galview.assets import shipped_default_path

    shipped = load_model(shipped_default_path())
    with np.load(shared_data / "des_lsbg" / "des_lsbg_dev.npz", allow_pickle=False) as real:
        images = real["images"]
    collection = ArrayCollection("real", images, "NHWC")
    inputs = model_input(images, shipped.card.input)

    def first_bn_output_mean(model):
        bn = batchnorm_layers(model)[0]
        return keras.Model(model.inputs, bn.output).predict(inputs, verbose=0).mean(axis=(0, 1, 2)), bn

    model, used = adapt_batchnorm(shipped, collection)
    assert used == len(images)
    adapted_mean, bn = first_bn_output_mean(model)
    shipped_mean, _ = first_bn_output_mean(shipped.model)
    beta = bn.get_weights()[1]
    assert np.abs(adapted_mean - beta).max() < 1e-3
    assert np.abs(shipped_mean - beta).max() > 10 * np.abs(adapted_mean - beta).max()  # it was off before

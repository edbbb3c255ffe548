"""Out-of-sample probabilities (linear head and k-fold CNN) and the suspected-label-errors queue."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from galview.core.confident import stratified_folds
from galview.core.jobs import Cancelled, CancelToken
from galview.io import open_collection
from galview.ml.cards import InputSpec, ModelCard
from galview.ml.crossval import head_probabilities
from galview.ml.loading import LoadedModel
from galview.ml.suspects import out_of_sample_probabilities, suspect_ranking, usable_labels
from galview.ml.training import TrainConfig

N = 48


@pytest.fixture(scope="module")
def blobs(tmp_path_factory):
    """16×16 uint8 cutouts: label 1 a central blob, label 0 a corner blob."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:16, 0:16]
    images = rng.normal(40, 6, (N, 16, 16, 3))
    truth = (np.arange(N) % 2).astype(np.int8)
    for i, label in enumerate(truth):
        cx, cy = (7.5, 7.5) if label else rng.choice([2.0, 13.0], 2)
        images[i] += 150 * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / 6.0)[..., None]
    path = tmp_path_factory.mktemp("suspects") / "blobs.npz"
    np.savez(path, images=np.clip(images, 0, 255).astype(np.uint8), labels=truth)
    return open_collection(path)


@pytest.fixture
def labels(blobs):
    """The file's labels with some unlabelled (NaN) and some unsure (-1)."""
    values = np.asarray(blobs.labels, dtype=np.float64)
    values[[3, 10, 17]] = np.nan
    values[[4, 21]] = -1
    return values


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A two-conv binary model built in code, with a card."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(4, 3, activation="relu", name="conv1")(inputs)
    x = keras.layers.Conv2D(4, 3, activation="relu", name="conv2")(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(8, activation="relu", name="embedding")(x)
    outputs = keras.layers.Dense(1, activation="sigmoid", name="probability")(x)
    card = ModelCard(
        architecture="tiny",
        task="binary",
        class_names=("artifact", "LSBG"),
        input=InputSpec(shape=(16, 16, 3), dtype="uint8", scale="divide255"),
        explain_layer="conv2",
    )
    path = tmp_path_factory.mktemp("tiny") / "tiny.keras"
    return LoadedModel(keras.Model(inputs, outputs), card, path, ())


def test_usable_labels_leave_out_unlabelled_and_unsure():
    np.testing.assert_array_equal(usable_labels([0, 1, np.nan, -1, 2]), [True, True, False, False, True])


def test_head_gives_probabilities_only_where_labelled_and_leaves_model_alone(blobs, labels, tiny):
    before = [w.copy() for w in tiny.model.get_weights()]
    seen = []
    probs = out_of_sample_probabilities(blobs, labels, loaded=tiny, folds=3, on_progress=seen.append)
    assert probs.shape == (N, 2)
    labelled = usable_labels(labels)
    assert np.isnan(probs[~labelled]).all() and np.isfinite(probs[labelled]).all()
    np.testing.assert_allclose(probs[labelled].sum(axis=1), 1)
    n_labelled = int(labelled.sum())
    # Two phases, each in its own unit: the labelled cutouts embedded, then the folds fitted.
    embedding = [p for p in seen if p.unit == "cutouts"]
    folds = [p for p in seen if p.unit == "folds"]
    assert seen == embedding + folds and embedding and folds
    assert embedding[-1].done == embedding[-1].total == n_labelled
    assert [p.done for p in folds] == [1, 2, 3] and folds[-1].total == 3
    assert [p.done for p in embedding] == sorted(p.done for p in embedding)
    for old, new in zip(before, tiny.model.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)


def test_head_ranking_covers_labelled_cutouts_only(blobs, labels, tiny):
    order, scores, flagged = suspect_ranking(blobs, labels, method="head", loaded=tiny, folds=2)
    labelled = np.flatnonzero(usable_labels(labels))
    np.testing.assert_array_equal(np.sort(order), labelled)
    assert np.isnan(scores[~usable_labels(labels)]).all() and not flagged[~usable_labels(labels)].any()
    assert (np.diff(flagged[order].astype(int)) <= 0).all()  # flagged ones first


def test_head_with_three_classes(blobs, tiny):
    values = np.arange(N, dtype=np.float64) % 3
    assert out_of_sample_probabilities(blobs, values, loaded=tiny, folds=2).shape == (N, 3)


def test_linear_head_finds_flipped_labels_in_separable_embeddings():
    rng = np.random.default_rng(2)
    truth = rng.integers(0, 2, 600)
    x = rng.normal(0, 1, (600, 16)) + 2.0 * truth[:, None]
    labels = truth.copy()
    flipped = rng.choice(600, 60, replace=False)
    labels[flipped] = 1 - labels[flipped]
    probs = head_probabilities(x, labels, stratified_folds(labels, 4), 2)
    from galview.ml.suspects import suspects_from_probabilities

    order, _, _ = suspects_from_probabilities(labels.astype(float), probs)
    assert np.isin(flipped, order[:90]).mean() >= 0.8


@pytest.mark.parametrize(
    ("kwargs", "values", "match"),
    [
        ({"method": "svm"}, None, "unknown method"),
        ({"method": "head"}, None, "needs a loaded model"),
        ({"loaded": "tiny"}, np.zeros(N), "at least two classes"),
        ({"loaded": "tiny"}, np.zeros(5), "one per cutout"),
        ({"loaded": "tiny"}, np.arange(N) % 2 + 0.5, "whole class indices"),
        ({"loaded": "tiny", "folds": 1}, None, "at least 2 folds"),
    ],
)
def test_bad_requests_are_refused(blobs, labels, tiny, kwargs, values, match):
    if kwargs.get("loaded") == "tiny":
        kwargs = {**kwargs, "loaded": tiny}
    with pytest.raises(ValueError, match=match):
        out_of_sample_probabilities(blobs, labels if values is None else values, **kwargs)


CNN = TrainConfig(architecture="deepshadows", epochs=1, batch_size=16, val_split=0.0, augment=False)


def test_cnn_two_folds_one_epoch(blobs, labels):
    seen = []
    probs = out_of_sample_probabilities(
        blobs, labels, method="cnn", folds=2, config=CNN, on_progress=seen.append
    )
    labelled = usable_labels(labels)
    assert probs.shape == (N, 2)
    assert np.isnan(probs[~labelled]).all() and np.isfinite(probs[labelled]).all()
    assert [p.done for p in seen] == sorted(p.done for p in seen) and seen[-1].done == seen[-1].total
    assert "fold 2/2" in seen[-1].message


def test_cnn_is_cancellable_mid_training(blobs, labels):
    token = CancelToken()

    def cancel_after_first_batch(progress):
        token.cancel()

    with pytest.raises(Cancelled):
        out_of_sample_probabilities(
            blobs,
            labels,
            method="cnn",
            folds=2,
            config=CNN,
            on_progress=cancel_after_first_batch,
            cancel=token,
        )
    with pytest.raises(Cancelled):  # already cancelled: nothing is trained
        suspect_ranking(blobs, labels, method="cnn", folds=2, config=CNN, cancel=token)


def test_cnn_refuses_a_binary_architecture_for_three_classes(blobs):
    with pytest.raises(ValueError, match="cannot classify 3 classes"):
        out_of_sample_probabilities(blobs, np.arange(N) % 3, method="cnn", folds=2, config=CNN)


def test_cnn_borrows_only_the_input_spec_of_a_loaded_model(blobs, tiny):
    from galview.ml.suspects import _cnn_setup

    config, spec = _cnn_setup(blobs, tiny, None)
    assert config.architecture == "deepshadows"  # "tiny" is not a registered architecture
    assert spec == tiny.card.input


def test_head_with_kept_embeddings_skips_the_model_and_gives_the_same_probabilities(blobs, labels, tiny):
    from galview.ml.scoring import score_batches

    kept = np.concatenate([b.embeddings for b in score_batches(tiny, blobs, 64)])
    seen = []
    computed = out_of_sample_probabilities(blobs, labels, loaded=tiny, folds=3)
    given = out_of_sample_probabilities(
        blobs, labels, loaded=tiny, folds=3, embeddings=kept, on_progress=seen.append
    )
    np.testing.assert_allclose(given, computed, atol=1e-6)
    assert {p.unit for p in seen} == {"folds"}  # no cutout was embedded again
    holes = kept.copy()
    holes[np.flatnonzero(usable_labels(labels))[:2]] = np.nan  # scoring stopped early, say
    seen.clear()
    patched = out_of_sample_probabilities(
        blobs, labels, loaded=tiny, folds=3, embeddings=holes, on_progress=seen.append
    )
    np.testing.assert_allclose(patched, computed, atol=1e-6)
    assert [p.total for p in seen if p.unit == "cutouts"][-1] == 2  # only the missing two embedded


def test_a_labelled_image_that_cannot_be_read_is_left_out_of_the_suspects(tiny, tmp_path):
    from tests.ml.tiny_models import blob_pngs

    folder, truth = blob_pngs(tmp_path / "pngs", damaged=5)
    with open_collection(folder) as collection:
        labels = truth.astype(np.float64)
        for method in ("head", "cnn"):
            options = (
                {"loaded": tiny} if method == "head" else {"config": TrainConfig(epochs=1, batch_size=8)}
            )
            order, scores, _ = suspect_ranking(collection, labels, method=method, folds=2, **options)
            assert 5 not in order and len(order) == 39 and np.isnan(scores[5]), method


def test_folds_that_leave_one_class_or_nothing_to_learn_from_are_refused_in_one_line():
    from types import SimpleNamespace

    from galview.core.errors import UserFacingError
    from galview.ml.suspects import _checked_folds

    where = SimpleNamespace(source="c.npz")
    _checked_folds(
        where, np.array([0, 0, 1, 1]), stratified_folds(np.array([0, 0, 1, 1]), 2)
    )  # each fold learns both
    for y, said in (
        (np.array([0, 0, 1]), "labelled: class 0: 2, class 1: 1"),
        (np.array([], int), "none readable"),
    ):
        with pytest.raises(UserFacingError, match=said):
            _checked_folds(where, y, stratified_folds(y, 3))

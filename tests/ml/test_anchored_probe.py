"""The anchored probe (issue 12): it starts from the parent, moves only as far as the labels carry it,
and is saved as one Dense layer with the same outputs."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from galview.ml.anchored_probe import (
    C_GRID,
    ParentHead,
    choose_c,
    fit_anchored,
    fit_with_chosen_c,
    parent_head,
)
from galview.ml.crossval import fit_head


def _world(n, d=200, shift=3.0, seed=0):
    """Features, labels and a parent that ranks them well but is miscalibrated by ``shift``.

    The rule (``truth``) is the same for every ``seed``; the cutouts differ."""
    truth = np.random.default_rng(99).normal(size=d) / np.sqrt(d)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    y = (x @ truth + 0.3 * rng.normal(size=n) > 0).astype(np.int64)
    parent = ParentHead(3 * truth[:, None], np.array([shift]), sigmoid=True)
    return x, y, parent


def test_the_dense_layer_gives_the_same_outputs():
    x, y, parent = _world(60)
    fitted = fit_anchored(x, y, parent, 0.1)
    kernel, bias = fitted.as_dense()
    z = x @ kernel + bias
    np.testing.assert_allclose(1 / (1 + np.exp(-z[:, 0])), fitted.outputs(x)[:, 0], atol=1e-5)


def test_a_strong_penalty_keeps_the_parent_and_only_recalibrates_it():
    x, y, parent = _world(60)
    fitted = fit_anchored(x, y, parent, 1e-6)
    assert np.abs(fitted.weights).max() < 1e-3
    assert fitted.a > 0
    # the parent calls almost everything positive (shift +3); the recalibrated probe does not
    before = (parent.logits(x)[:, 0] > 0).mean()
    after = (fitted.outputs(x)[:, 0] > 0.5).mean()
    assert before > 0.8 and abs(after - y.mean()) < 0.15


def test_with_few_labels_the_anchor_beats_a_fresh_probe():
    pytest.importorskip("sklearn")  # the fresh probe it is compared with; absent on the GPU machine
    x, y, parent = _world(40, seed=1)
    test_x, test_y, _ = _world(2000, seed=2)
    anchored = (fit_with_chosen_c(x, y, parent).outputs(test_x)[:, 0] > 0.5) == test_y
    scaler, head = fit_head(x, y)
    fresh = head.predict(scaler.transform(test_x)) == test_y
    parent_alone = (parent.logits(test_x)[:, 0] > 0) == test_y
    assert anchored.mean() > fresh.mean() + 0.1
    assert anchored.mean() > parent_alone.mean() + 0.1


def test_the_penalty_is_chosen_on_the_labels():
    # the parent knows nothing: the labels must move the weights, so the weakest penalty wins
    x, y, _ = _world(400, d=20, seed=2)
    useless = ParentHead(np.zeros((20, 1)), np.zeros(1), sigmoid=True)
    assert choose_c(x, y, useless) == max(C_GRID)
    # a class with one label cannot be split: the default
    few = np.array([1] + [0] * 9)
    assert choose_c(x[:10], few, useless) in C_GRID


def test_softmax_parents_are_anchored_per_class():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(90, 12))
    y = np.argmax(x[:, :3], axis=1)
    parent = ParentHead(np.eye(12)[:, :3] * 2, np.zeros(3), sigmoid=False)
    fitted = fit_with_chosen_c(x, y, parent)
    probs = fitted.outputs(x)
    assert probs.shape == (90, 3) and np.allclose(probs.sum(axis=1), 1)
    assert (probs.argmax(axis=1) == y).mean() > 0.9
    kernel, bias = fitted.as_dense()
    np.testing.assert_allclose(np.argmax(x @ kernel + bias, axis=1), probs.argmax(axis=1))


@pytest.mark.parametrize("dropout", [False, True])
def test_the_parent_head_is_read_from_a_dense_output(dropout):
    inputs = keras.Input((6,))
    features = keras.layers.Dense(4, activation="relu")(inputs)
    if dropout:
        features = keras.layers.Dropout(0.5)(features)
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(features))
    head = parent_head(model)
    kernel, bias = model.layers[-1].get_weights()
    assert head.sigmoid and np.allclose(head.kernel, kernel) and np.allclose(head.bias, bias)


def test_an_output_that_is_not_one_dense_layer_has_no_anchor():
    inputs = keras.Input((6,))
    features = keras.layers.Dense(4, activation="relu")(inputs)
    logits = keras.layers.Dense(1)(features)
    model = keras.Model(inputs, keras.layers.Activation("sigmoid")(logits))
    assert parent_head(model) is None


def test_the_search_for_c_reads_a_bounded_subset(monkeypatch):
    from galview.ml import anchored_probe

    seen = []
    real_fit = anchored_probe.fit_anchored
    monkeypatch.setattr(anchored_probe, "SEARCH_LABELS", 100)
    monkeypatch.setattr(
        anchored_probe,
        "fit_anchored",
        lambda x, y, parent, C: seen.append(len(y)) or real_fit(x, y, parent, C),
    )
    x, y, parent = _world(400, d=20, seed=4)
    assert choose_c(x, y, parent) in C_GRID
    assert seen and max(seen) <= 100


def test_views_are_extra_rows_of_their_cutouts_label():
    x, y, parent = _world(60)
    views = np.stack([x, x + 0.1, x - 0.1])
    with_views = fit_anchored(views, y, parent, 0.1)
    as_rows = fit_anchored(views.reshape(-1, x.shape[1]), np.tile(y, 3), parent, 0.1)
    np.testing.assert_allclose(with_views.logits(x), as_rows.logits(x), atol=1e-6)
    with pytest.raises(ValueError, match="views"):
        fit_anchored(x[None, None], y, parent, 0.1)


def test_the_penalty_search_holds_out_whole_cutouts_with_all_their_views():
    # labels are noise, but each cutout's views share an identity: if a held-out cutout had a view
    # among the training rows, memorising (the weakest penalty) would look best
    rng = np.random.default_rng(4)
    x = rng.normal(size=(120, 60))
    y = rng.integers(0, 2, 120)
    useless = ParentHead(np.zeros((60, 1)), np.zeros(1), sigmoid=True)
    views = np.stack([x + 0.01 * rng.normal(size=x.shape) for _ in range(8)])
    assert choose_c(views, y, useless) == min(C_GRID)


def test_more_views_of_few_labels_generalise_better():
    # the rule is blind to the sign of the first 10 features (as a galaxy's class is to its orientation);
    # views with those signs flipped teach the fit that, the cutouts alone cannot
    rng = np.random.default_rng(5)

    def world(n):
        x = rng.normal(size=(n, 40))
        return x, (np.abs(x[:, :10]).sum(axis=1) + x[:, 10:20].sum(axis=1) > 8.0).astype(np.int64)

    x, y = world(40)
    test_x, test_y = world(3000)
    parent = ParentHead(np.zeros((40, 1)), np.zeros(1), sigmoid=True)
    flips = np.stack([x * np.r_[s * np.ones(10), np.ones(30)] for s in (1, -1)])
    one = (fit_anchored(x, y, parent, 0.1).outputs(test_x)[:, 0] > 0.5) == test_y
    two = (fit_anchored(flips, y, parent, 0.1).outputs(test_x)[:, 0] > 0.5) == test_y
    assert two.mean() > one.mean() + 0.02

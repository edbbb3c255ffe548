"""Scores held by the viewer, the display order (sort + filter) and how the state keeps them consistent."""

from __future__ import annotations

import numpy as np
import pytest

from galview.core.collection import ArrayCollection
from galview.core.ordering import Sorting, inverse_order, make_order
from galview.core.rankings import Ranking
from galview.core.scores import DECISION_THRESHOLD, Scores, is_positive, probability_histograms
from galview.core.state import ViewerState

NAN = np.nan


def _binary(probs, version="v1") -> Scores:
    probs = np.asarray(probs, dtype=np.float32)
    scores = Scores.empty(len(probs), 1, version, class_names=("artifact", "LSBG"))
    done = ~np.isnan(probs)
    scores.set_rows(np.flatnonzero(done), probs[done, None])
    return scores


def _collection(n=6, labels=None):
    return ArrayCollection("memory", np.ones((n, 4, 4, 3), np.uint8), "NHWC", labels=labels)


def test_binary_scores_helpers():
    scores = _binary([0.9, 0.2, NAN, 0.5, 0.55])
    np.testing.assert_array_equal(scores.predicted, [1, 0, -1, 0, 1])
    assert scores.n_scored == 4 and not scores.complete
    np.testing.assert_allclose(scores.uncertainty(), [0.1, 0.2, NAN, 0.5, 0.45], atol=1e-6)
    assert scores.predicted_name(0) == "LSBG" and scores.predicted_name(2) is None
    assert scores.positive_name == "LSBG" and scores.prob_of(1) == pytest.approx(0.2)


def test_binary_decision_is_strictly_above_one_half():
    """One rule everywhere (Keras' binary accuracy): p > 0.5 is positive, exactly 0.5 is not."""
    half = np.float32(DECISION_THRESHOLD)
    below, above = np.nextafter(half, np.float32(0)), np.nextafter(half, np.float32(1))
    assert half == 0.5
    assert is_positive([below, half, above, NAN]).tolist() == [False, False, True, False]
    assert is_positive(np.float32(0.7), threshold=0.7) == np.False_ and is_positive(0.71, threshold=0.7)
    np.testing.assert_array_equal(_binary([below, half, above]).predicted, [0, 0, 1])
    swapped = Scores.empty(3, 1, "v", class_names=("LSBG", "artifact"), positive_class=0)
    swapped.set_rows([0, 1, 2], [[below], [half], [above]])
    np.testing.assert_array_equal(swapped.predicted, [1, 1, 0])


def test_binary_with_positive_class_zero_predicts_class_zero_above_half():
    scores = Scores.empty(2, 1, "v", class_names=("LSBG", "artifact"), positive_class=0)
    scores.set_rows([0, 1], [[0.8], [0.1]])
    assert scores.predicted_name(0) == "LSBG" and scores.predicted_name(1) == "artifact"


def test_a_row_of_a_cutout_that_could_not_be_read_has_no_class():
    binary = Scores.empty(2, 1, "v", class_names=("artifact", "LSBG"))
    binary.set_rows([0, 1], [[0.8], [NAN]])
    multi = Scores.empty(2, 3, "v", task="multiclass", class_names=("a", "b", "c"))
    multi.set_rows([0, 1], [[0.1, 0.7, 0.2], [NAN, NAN, NAN]])
    for scores in (binary, multi):
        assert scores.predicted_name(1) is None and not scores.scored[1] and scores.scored[0]
        assert scores.unreadable.tolist() == [False, True] and scores.complete


def test_multiclass_scores_use_the_top_class():
    scores = Scores.empty(3, 3, "v", task="multiclass", class_names=("a", "b", "c"))
    scores.set_rows([0, 2], [[0.1, 0.7, 0.2], [0.4, 0.3, 0.3]])
    np.testing.assert_allclose(scores.positive_prob(), [0.7, NAN, 0.4])
    np.testing.assert_allclose(scores.uncertainty(), [0.3, NAN, 0.6], atol=1e-6)
    assert [scores.predicted_name(i) for i in range(3)] == ["b", None, "a"]
    with pytest.raises(ValueError, match="3 outputs"):
        scores.set_rows([1], [[0.5]])


def test_each_sort_puts_unscored_last():
    scores = _binary([0.3, NAN, 0.9, 0.1, 0.52, NAN])
    assert make_order(6, scores, "file").tolist() == [0, 1, 2, 3, 4, 5]
    assert make_order(6, scores, "prob_desc").tolist() == [2, 4, 0, 3, 1, 5]
    assert make_order(6, scores, "prob_asc").tolist() == [3, 0, 4, 2, 1, 5]
    assert make_order(6, scores, "uncertain").tolist() == [4, 0, 2, 3, 1, 5]


def test_ties_keep_file_order():
    scores = _binary([0.5, 0.7, 0.5, 0.7])
    assert make_order(4, scores, "prob_desc").tolist() == [1, 3, 0, 2]


def test_filter_keeps_range_and_drops_unscored():
    scores = _binary([0.3, NAN, 0.9, 0.1, 0.5, 1.0])
    assert make_order(6, scores, "file", 0.3, 0.9).tolist() == [0, 2, 4]
    assert make_order(6, scores, "prob_desc", 0.5, 1.0).tolist() == [5, 2, 4]
    assert make_order(6, scores, "file", 0.0, 1.0).tolist() == [0, 1, 2, 3, 4, 5]  # full range: all
    assert make_order(6, scores, "file", 0.0, 0.99).tolist() == [0, 2, 3, 4]
    assert make_order(6, scores, "file", 0.1, 0.3).tolist() == [0, 3]  # bounds compare as float32


def test_without_scores_order_is_file_order_or_empty():
    assert make_order(3, None, "prob_desc").tolist() == [0, 1, 2]
    assert make_order(3, None, "file", 0.5, 1.0).tolist() == []


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="sort must be"):
        make_order(3, None, "shuffle")
    with pytest.raises(ValueError, match="p_min"):
        Sorting("file", 0.8, 0.2)
    with pytest.raises(ValueError, match="cover 2"):
        make_order(3, _binary([0.1, 0.2]), "prob_desc")


def test_inverse_order_marks_filtered_out():
    np.testing.assert_array_equal(inverse_order(np.array([3, 0]), 5), [1, -1, -1, 0, -1])


def test_histogram_splits_by_label_and_skips_unscored():
    prob = np.array([0.01, 0.99, 0.97, NAN, 0.5], np.float32)
    edges, counts = probability_histograms(prob, np.array([0, 1, 1, 1, -1]))
    assert len(edges) == 21 and set(counts) == {0, 1, None}
    assert counts[1].sum() == 2 and counts[1][-1] == 2 and counts[0][0] == 1 and counts[None][10] == 1
    _, counts = probability_histograms(prob, None)
    assert set(counts) == {None} and counts[None].sum() == 4


def test_state_streams_scores_and_sorts():
    state = ViewerState()
    state.set_collection(_collection())
    orders, seen = [], []
    state.order_changed.connect(orders.append)
    state.scores_changed.connect(seen.append)
    state.set_scores(Scores.empty(6, 1, "v1"))
    assert orders == []  # file order does not depend on scores
    state.set_sorting(sort="prob_desc")
    assert state.update_scores([4, 5], [[0.2], [0.8]], "v1")
    assert state.order.tolist() == [5, 4, 0, 1, 2, 3] and len(seen) == 2
    assert not state.update_scores([0], [[0.9]], "other version")  # a late batch of another model
    assert state.scores.n_scored == 2
    state.set_current(2)
    state.set_sorting(p_min=0.1)
    assert state.order.tolist() == [5, 4] and state.current == 5  # current filtered out: first shown
    state.set_current(4)
    state.set_sorting(p_min=0.15)
    assert state.current == 4  # still shown: kept
    state.set_sorting(sort="prob_asc")
    assert state.order.tolist() == [4, 5] and state.current == 4  # a new sort starts at the top
    state.set_sorting(sort="prob_desc")
    assert state.current == 5


def test_new_collection_clears_scores_and_order():
    state = ViewerState()
    state.set_collection(_collection())
    state.set_scores(_binary([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]))
    state.set_sorting(sort="prob_desc", p_min=0.3)
    state.set_collection(_collection(4))
    assert state.scores is None and state.sorting == Sorting()
    assert state.order.tolist() == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="cover 6"):
        state.set_scores(_binary([0.1] * 6))


def test_new_model_version_drops_old_scores():
    class Model:
        def __init__(self, version):
            self.version = version

    state = ViewerState()
    state.set_collection(_collection())
    first = Model("v1")
    state.set_model(first)
    state.set_scores(_binary([0.1] * 6, "v1"))
    state.set_model(Model("v1"))  # same weights loaded again: the scores still hold
    assert state.scores is not None
    state.set_model(Model("v2"))
    assert state.scores is None


def test_set_order_checks_indices():
    state = ViewerState()
    state.set_collection(_collection())
    state.set_order([5, 1])
    assert state.order.tolist() == [5, 1]
    with pytest.raises(IndexError):
        state.set_order([6])


def test_triage_queues_on_labels_and_suspect_scores():
    labels = np.array([1, NAN, 0, NAN, 1])
    np.testing.assert_array_equal(make_order(5, None, "unlabelled", labels=labels), [1, 3, 0, 2, 4])
    suspects = np.array([0.1, NAN, 0.9, NAN, 0.5])
    np.testing.assert_array_equal(
        make_order(5, None, "suspects", rankings={"suspects": Ranking("suspects", "", suspects)}),
        [2, 4, 0, 1, 3],
    )
    shuffled = make_order(50, None, "random", seed=3)
    assert sorted(shuffled) == list(range(50)) and list(shuffled) != list(range(50))
    np.testing.assert_array_equal(shuffled, make_order(50, None, "random", seed=3))  # stable for a seed
    assert list(make_order(50, None, "random", seed=4)) != list(shuffled)
    # Without what a queue needs, file order (not an error): the window may ask before scores exist.
    np.testing.assert_array_equal(make_order(3, None, "suspects"), [0, 1, 2])
    np.testing.assert_array_equal(make_order(3, None, "prob_desc"), [0, 1, 2])
    # The probability filter applies to label queues too.
    scores = _binary([0.9, 0.1, 0.8, 0.2, NAN])
    np.testing.assert_array_equal(make_order(5, scores, "unlabelled", 0.5, 1.0, labels=labels), [0, 2])


def test_switching_models_back_restores_kept_scores_without_rescoring():
    class Model:
        def __init__(self, version):
            self.version = version

    state = ViewerState()
    state.set_collection(_collection())
    first, second = Model("v1"), Model("v2")
    state.set_model(first)
    scores = Scores.empty(6, 1, "v1", embedding_dim=2)
    scores.set_rows(np.arange(6), np.full((6, 1), 0.3), np.ones((6, 2)))
    state.set_scores(scores)
    state.keep_scores()
    state.set_model(second)
    assert state.scores is None
    state.set_scores(_binary([0.9] * 6, "v2"))
    state.set_model(first)  # back: v1's scores (and embeddings) return, nothing to score
    assert state.scores.model_version == "v1" and state.scores.complete
    np.testing.assert_array_equal(state.scores.embeddings, np.ones((6, 2)))
    state.set_model(second)  # v2's were kept when the model was switched away
    assert state.scores.model_version == "v2" and state.scores.prob_of(0) == pytest.approx(0.9)
    # Opening the same content again brings the scores back too (kept by fingerprint).
    state.set_collection(_collection())
    assert state.scores is not None and state.scores.model_version == "v2"

"""Rankings as data: one sort path for probability, uncertainty, suspects and any named score."""

from __future__ import annotations

import numpy as np
import pytest

from galview.core.collection import ArrayCollection
from galview.core.ordering import make_order
from galview.core.rankings import Ranking, rank_positions, score_rankings
from galview.core.scores import Scores
from galview.core.state import ViewerState

NAN = np.nan


def _state(n=6):
    state = ViewerState()
    state.set_collection(ArrayCollection("memory", np.ones((n, 4, 4, 3), np.uint8), "NHWC"))
    return state


def test_a_ranking_sorts_unranked_last_and_keeps_ties_in_file_order():
    ranking = Ranking("sim", "most similar", [0.2, NAN, 0.9, 0.2, 0.5])
    np.testing.assert_array_equal(ranking.sort(np.arange(5)), [2, 4, 0, 3, 1])
    ascending = Ranking("far", "least similar", [0.2, NAN, 0.9, 0.2, 0.5], descending=False)
    np.testing.assert_array_equal(ascending.sort(np.arange(5)), [0, 3, 4, 2, 1])
    np.testing.assert_array_equal(ranking.sort(np.array([4, 1, 2])), [2, 4, 1])  # a filtered subset


def test_score_rankings_are_the_same_kind_of_thing():
    scores = Scores.empty(4, 1, "v", class_names=("artifact", "LSBG"))
    scores.set_rows([0, 1, 3], [[0.9], [0.45], [0.1]])
    rankings = score_rankings(scores)
    assert set(rankings) == {"prob_desc", "prob_asc", "uncertain"}
    np.testing.assert_array_equal(rankings["prob_desc"].sort(np.arange(4)), [0, 1, 3, 2])
    np.testing.assert_array_equal(rankings["prob_asc"].sort(np.arange(4)), [3, 1, 0, 2])
    np.testing.assert_array_equal(rankings["uncertain"].sort(np.arange(4)), [1, 0, 3, 2])
    assert "LSBG" in rankings["prob_desc"].title


def test_rank_positions_turn_an_order_into_values():
    np.testing.assert_array_equal(rank_positions([3, 0], 4), [1, NAN, NAN, 2])


def test_the_state_sorts_by_any_ranking_and_follows_its_updates():
    state = _state()
    orders = []
    state.order_changed.connect(orders.append)
    state.set_ranking(
        Ranking("sim", "most similar to LEDA 074886", [0.1, 0.7, NAN, 0.3, 0.9, 0.2], badge="sim")
    )
    assert orders == []  # not sorted by it yet
    state.set_sorting(sort="sim")
    assert state.order.tolist() == [4, 1, 3, 5, 0, 2] and state.current == 4
    assert state.sort_ranking.badge == "sim"
    state.set_ranking(Ranking("sim", "most similar", [0.9, 0.1, 0.2, 0.3, 0.4, 0.5]))
    assert state.order.tolist() == [0, 5, 4, 3, 2, 1]  # re-sorted when the ranking changed
    state.drop_ranking("sim")
    assert state.order.tolist() == [0, 1, 2, 3, 4, 5] and state.sort_ranking is None
    with pytest.raises(ValueError, match="covers 2"):
        state.set_ranking(Ranking("bad", "", [0.1, 0.2]))


def test_probability_sorts_and_a_job_ranking_use_one_path():
    scores = Scores.empty(3, 1, "v")
    scores.set_rows([0, 1, 2], [[0.2], [0.9], [0.5]])
    named = {"prob_desc": Ranking("prob_desc", "", [0.2, 0.9, 0.5])}
    np.testing.assert_array_equal(make_order(3, None, "prob_desc", rankings=named), [1, 2, 0])
    np.testing.assert_array_equal(make_order(3, scores, "prob_desc"), [1, 2, 0])
    with pytest.raises(ValueError, match="sort must be one of"):
        make_order(3, None, "nothing_like_this")


def test_selection_is_state_and_follows_the_order():
    state = _state()
    state.set_sorting(sort="random")
    chosen = state.select_first(3)
    np.testing.assert_array_equal(chosen, state.order[:3])
    assert state.label_targets() == [int(i) for i in state.order[:3]]
    state.set_current(int(state.order[1]))  # moving inside the selection keeps it
    assert len(state.selection) == 3
    outside = int(state.order[4])
    state.set_current(outside)  # leaving it: the selection is the current cutout again
    np.testing.assert_array_equal(state.selection, [outside])
    assert state.label_targets() == [outside]
    state.set_selection([0, 1, 2, 3])
    state.set_order([3, 1])  # what is no longer shown leaves the selection
    np.testing.assert_array_equal(state.selection, [3, 1])


def test_next_after_walks_the_display_order():
    state = _state()
    state.set_order([4, 2, 0])
    assert state.next_after(4) == 2 and state.next_after(0) == -1 and state.next_after(3) == -1
    assert state.position_of(2) == 1 and state.cutout_at(2) == 0 and state.cutout_at(3) == -1


def test_a_ranking_shows_as_many_decimals_as_its_leading_numbers_need():
    """Embedding similarities crowd near 1: two decimals would show "sim 1.00" on every thumbnail."""
    assert Ranking("a", "spread", np.linspace(1.0, 0.0, 40)).decimals == 2
    assert Ranking("b", "crowded", np.linspace(1.0, 0.999, 600)).decimals == 5
    assert Ranking("c", "low first", np.linspace(0.0, 0.01, 50), descending=False).decimals == 3
    assert Ranking("d", "none", np.full(4, np.nan)).decimals == 2

"""The grid's label filter (Show box) and the grid exported as shown."""

from __future__ import annotations

import numpy as np
import pytest

from galview.core.collection import ArrayCollection
from galview.core.grid_table import shown_table
from galview.core.label_filter import check_show, filters_in_words, show_choices, shown_by_labels
from galview.core.ordering import Sorting, make_order
from galview.core.rankings import Ranking
from galview.core.scores import UNREADABLE, Scores
from galview.core.state import ViewerState

NAN = np.nan
#            0    1    2   3    4    5    6
FILE = [1.0, 1.0, 0.0, NAN, NAN, 0.0, 1.0]
USER = [NAN, 0.0, 0.0, 1.0, NAN, -1.0, NAN]  # 1 changed, 2 confirmed, 3 mine, 5 unsure (changed)
IN_USE = [1.0, 0.0, 0.0, 1.0, NAN, -1.0, 1.0]


def _mask(show, predicted=None):
    return np.flatnonzero(shown_by_labels(show, IN_USE, USER, FILE, predicted)).tolist()


def test_each_filter_keeps_what_it_says():
    assert _mask("all") == [0, 1, 2, 3, 4, 5, 6]
    assert _mask("class:1") == [0, 3, 6]
    assert _mask("class:0") == [1, 2]
    assert _mask("class:7") == []
    assert _mask("unsure") == [5]
    assert _mask("unlabelled") == [4]
    assert _mask("set") == [1, 2, 3, 5]  # labelled by a person in GalView, confirming or not
    assert _mask("changed") == [1, 5]  # not 2 (the file's label confirmed), not 3 (the file had none)
    predicted = np.array([1, 1, 0, -1, 1, 0, UNREADABLE])
    assert _mask("disagree", predicted) == [1]  # not unscored, unreadable, unlabelled or unsure
    assert _mask("disagree") == []  # without scores nothing is disputed


def test_choices_name_the_collections_classes_and_bad_keys_are_refused():
    keys = {key: text for key, text, _meaning in show_choices(("artifact", "LSBG"))}
    assert keys["class:1"] == "labelled LSBG" and keys["class:0"] == "labelled artifact"
    assert list(keys)[0] == "all" and "unlabelled" in keys and "disagree" in keys
    for bad in ("class:", "class:-1", "LSBG", "", None):
        with pytest.raises(ValueError, match="show must be"):
            check_show(bad)
    with pytest.raises(ValueError, match="show must be"):
        Sorting(show="mine")
    assert not Sorting(show="unlabelled").identity and Sorting().identity


def test_the_filters_in_words():
    classes = ("artifact", "LSBG")
    assert filters_in_words(Sorting(), classes) == ""
    assert filters_in_words(Sorting(show="class:1", p_min=0.5), classes) == "labelled LSBG, with P 0.50–1.00"
    assert filters_in_words(Sorting(show="unlabelled"), classes) == "with no label"


def test_the_filter_combines_with_sorting_and_the_probability_range():
    scores = Scores.empty(7, 1, "v1", class_names=("artifact", "LSBG"))
    scores.set_rows(np.arange(7), np.array([[0.9], [0.2], [0.4], [0.7], [0.8], [0.1], [0.6]], np.float32))
    keep = shown_by_labels("class:1", IN_USE)
    np.testing.assert_array_equal(make_order(7, scores, "prob_asc", shown=keep), [6, 3, 0])
    np.testing.assert_array_equal(make_order(7, scores, "prob_desc", 0.65, 1.0, shown=keep), [0, 3])


def _state(n=7):
    images = np.zeros((n, 4, 4, 3), np.uint8)
    ra, dec = np.linspace(10, 11, n), np.linspace(-5, -4, n)
    ra[2] = NAN  # a cutout without a position
    collection = ArrayCollection(
        "memory", images, "NHWC", labels=np.array(FILE), ra=ra, dec=dec, ids=[f"obj{i}" for i in range(n)]
    )
    state = ViewerState()
    state.set_collection(collection)
    state.set_labels(IN_USE, user_labels=USER)
    return state


def test_state_filters_by_label_and_keeps_a_queue_put_while_labelling():
    state = _state()
    state.set_current(3)
    state.set_sorting(show="class:1")
    assert state.order.tolist() == [0, 3, 6] and state.current == 3  # still shown: kept
    state.set_sorting(show="class:0")
    assert state.order.tolist() == [1, 2] and state.current == 1  # not shown: the first shown
    labels = np.array(IN_USE)
    labels[1] = 1.0
    state.set_labels(labels)
    assert state.order.tolist() == [1, 2]  # relabelled, not yanked away while being worked through
    state.refresh_order(force=True)
    assert state.order.tolist() == [2]
    state.set_sorting(show="all")
    assert state.order.tolist() == list(range(7))


def test_disagree_uses_the_active_models_classes():
    state = _state()
    scores = Scores.empty(7, 1, "v1", class_names=("artifact", "LSBG"))
    scores.set_rows(np.arange(6), np.array([[0.9], [0.8], [0.3], [0.2], [0.9], [0.9]], np.float32))
    state.set_scores(scores)
    state.set_sorting(show="disagree")
    assert state.order.tolist() == [1, 3]  # 1: label 0, called 1; 3: label 1, called 0; 6 unscored


def test_the_grid_as_shown_is_a_table_in_display_order():
    state = _state()
    scores = Scores.empty(7, 1, "v1", class_names=("artifact", "LSBG"), model_name="tiny")
    scores.set_rows(np.arange(6), np.array([[0.9], [0.8], [0.3], [0.2], [0.25], [0.5]], np.float32))
    state.set_scores(scores)
    state.set_sorting(sort="prob_desc", p_min=0.2, show="all")
    table = shown_table(state, ("artifact", "LSBG"))
    assert list(table) == [
        *("rank", "index", "id", "ra", "dec", "label", "label_name", "origin", "note"),
        *("p_LSBG", "predicted", "model"),
    ]
    assert table["index"].tolist() == [0, 1, 5, 2, 4, 3]  # 6 unscored: filtered out by P ≥ 0.2
    assert table["rank"].tolist() == [1, 2, 3, 4, 5, 6]
    assert table["id"].tolist()[:2] == ["obj0", "obj1"]
    assert table["ra"][3] == "" and table["ra"][0] == 10.0 and table["dec"][1] == round(-5 + 1 / 6, 7)
    assert table["label"].tolist() == [1, 0, -1, 0, "", 1] and type(table["label"][0]) is int
    assert table["label_name"].tolist() == ["LSBG", "artifact", "unsure", "artifact", "unlabelled", "LSBG"]
    assert table["origin"].tolist() == ["original", "changed", "changed", "original", "original", "mine"]
    assert table["p_LSBG"].tolist()[:2] == [0.9, 0.8]  # float32 0.9 written as 0.9, not 0.8999999761581421
    assert table["predicted"].tolist() == ["LSBG", "LSBG", "artifact", "artifact", "artifact", "artifact"]
    assert set(table["model"]) == {"tiny"}


def test_a_ranking_with_a_number_on_the_thumbnails_gives_its_column():
    state = _state()
    similarity = np.array([0.1, 0.95, 0.3, NAN, 0.5, 0.2, 0.99])
    state.set_ranking(Ranking("similar", "most similar to cutout 6", similarity, badge="sim"))
    state.set_sorting(sort="similar", show="class:1")
    table = shown_table(state, ("artifact", "LSBG"))
    assert table["index"].tolist() == [6, 0, 3]  # unranked last
    assert table["similarity"].tolist() == [0.99, 0.1, ""]
    assert "p_LSBG" not in table  # nothing scored: no score columns


def test_positions_that_cannot_be_read_leave_the_table_without_them():
    collection = ArrayCollection(
        "memory", np.zeros((3, 4, 4, 3), np.uint8), "NHWC", ra=[1.0, 2.0], dec=[0.0, 0.0]
    )
    with pytest.raises(ValueError, match="RA values"):
        collection.coords  # noqa: B018  (two positions for three cutouts)
    assert collection.readable_coords() is None
    state = ViewerState()
    state.set_collection(collection)
    assert "ra" not in shown_table(state, ("0", "1")) and len(shown_table(state, ("0", "1"))["id"]) == 3


def test_noted_keeps_the_cutouts_with_a_note_and_the_table_carries_them():
    assert np.flatnonzero(shown_by_labels("noted", IN_USE, noted={4: "odd", 1: "x"})).tolist() == [1, 4]
    assert not shown_by_labels("noted", IN_USE).any()  # no notes: nothing shown
    state = _state()
    state.set_notes({2: "tidal feature?", 6: "check deeper imaging", 5: ""})
    assert state.notes == {2: "tidal feature?", 6: "check deeper imaging"}  # an empty note is none
    state.set_sorting(show="noted")
    assert state.order.tolist() == [2, 6]
    assert shown_table(state, ("artifact", "LSBG"))["note"].tolist() == [
        "tidal feature?",
        "check deeper imaging",
    ]
    state.set_sorting(show="all")
    assert shown_table(state, ("artifact", "LSBG"))["note"].tolist()[:3] == ["", "", "tidal feature?"]
    assert "with a note" in [text for _key, text, _meaning in show_choices(("artifact", "LSBG"))]

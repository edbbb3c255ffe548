"""Two inspectors' labels: the confusion matrix, Cohen's kappa against scikit-learn, its interval,
the disagreement ranking and the words that report them."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from galview.core.agreement import (
    DIFFERENT,
    ONE_UNSURE,
    RANKING,
    SAME,
    Agreement,
    agreement_codes,
    inspector_names,
    kappa_of,
)
from galview.core.label_values import UNSURE

NAN = np.nan


def two_inspectors(n, flip, seed=0, classes=2):
    """Random labels and a copy with a share ``flip`` of them changed to another class."""
    rng = np.random.default_rng(seed)
    mine = rng.integers(0, classes, n).astype(float)
    theirs = mine.copy()
    changed = rng.random(n) < flip
    theirs[changed] = (mine[changed] + rng.integers(1, classes, changed.sum())) % classes
    return mine, theirs


@pytest.mark.parametrize(("flip", "classes"), [(0.1, 2), (0.3, 2), (0.2, 3), (0.5, 4)])
def test_kappa_is_cohens_on_the_cutouts_both_gave_a_class(flip, classes):
    mine, theirs = two_inspectors(600, flip, classes=classes)
    mine[:40], theirs[40:60], mine[60:70] = NAN, NAN, UNSURE  # left out: not both labelled, or unsure
    agreement = Agreement(mine, theirs, tuple(str(k) for k in range(classes)))
    both = agreement.both
    assert both.sum() == 600 - 70
    assert agreement.kappa == pytest.approx(cohen_kappa_score(mine[both], theirs[both]), abs=1e-12)
    assert agreement.confusion.sum() == 530 and np.trace(agreement.confusion) == agreement.n_agree
    assert agreement.observed == pytest.approx(np.mean(mine[both] == theirs[both]))


def test_full_agreement_chance_agreement_and_one_class():
    mine, _ = two_inspectors(400, 0)
    assert Agreement(mine, mine).kappa == pytest.approx(1.0)
    rng = np.random.default_rng(3)
    independent = Agreement(rng.integers(0, 2, 4000), rng.integers(0, 2, 4000))
    assert abs(independent.kappa) < 0.05  # agreeing by chance alone: kappa near 0
    assert np.isnan(Agreement(np.ones(10), np.ones(10)).kappa)  # chance agrees fully: undefined
    assert np.isnan(Agreement(np.full(5, NAN), np.ones(5)).kappa)
    assert np.isnan(kappa_of(np.zeros((2, 2))))


def test_the_interval_holds_kappa_and_narrows_with_more_cutouts():
    small = Agreement(*two_inspectors(60, 0.15, seed=1))
    large = Agreement(*two_inspectors(6000, 0.15, seed=1))
    for agreement in (small, large):
        low, high = agreement.kappa_interval()
        assert low <= agreement.kappa <= high
    assert np.diff(large.kappa_interval())[0] < np.diff(small.kappa_interval())[0] / 5
    assert small.kappa_interval(seed=4) == small.kappa_interval(seed=4)  # seeded: the same report twice
    assert all(np.isnan(Agreement(np.full(3, NAN), np.ones(3)).kappa_interval()))


def test_the_ranking_puts_different_classes_first_then_one_unsure_then_agreement():
    mine = np.array([1, 0, UNSURE, 1, NAN, 1, UNSURE])
    theirs = np.array([1, 1, 0, NAN, 0, 1, UNSURE])
    agreement = Agreement(mine, theirs, ("artifact", "LSBG"))
    ranking = agreement.ranking("bob.sqlite")
    assert ranking.name == RANKING and ranking.descending
    assert ranking.title == "disagreements with bob.sqlite first"
    np.testing.assert_array_equal(ranking.values, [SAME, DIFFERENT, ONE_UNSURE, NAN, NAN, SAME, SAME])
    assert [agreement.status_of(i) for i in range(7)] == [
        "agree", "disagree", "unsure", "only mine", "only theirs", "agree", "both unsure",
    ]  # fmt: skip
    assert [ranking.badge_text(i) for i in range(7)] == [
        "= LSBG", "≠ LSBG", "? artifact", None, None, "= LSBG", "= unsure",
    ]  # fmt: skip
    assert ranking.their_names.tolist() == ["LSBG", "LSBG", "artifact", "", "artifact", "LSBG", "unsure"]
    assert agreement.disagreements.tolist() == [1]
    assert (agreement.only_mine, agreement.only_theirs, agreement.both_unsure) == (1, 1, 1)
    assert int(agreement.one_unsure.sum()) == 1


def test_the_summary_and_the_table_say_the_figures():
    mine = np.array([0, 0, 0, 1, 1, 1, 1, 0, NAN, 1])
    theirs = np.array([0, 0, 1, 1, 1, 1, 0, 0, 1, NAN])
    agreement = Agreement(mine, theirs, ("artifact", "LSBG"))
    line = agreement.summary("bob.csv")
    assert line.startswith(
        "8 cutouts given a class by both you and bob.csv: agree on 6 (75.0%), Cohen's κ 0.50 ["
    )
    assert line.endswith("2 disagree")
    table = agreement.table_lines("bob.csv")
    assert table[1].split() == ["artifact", "LSBG"]
    assert table[2].split() == ["you:", "artifact", "3", "1"] and table[3].split() == [
        "you:",
        "LSBG",
        "1",
        "3",
    ]
    nobody = Agreement(np.array([1, NAN]), np.array([NAN, 0]))
    assert (
        nobody.summary("bob.csv")
        == "No cutout has a class from both you and bob.csv (you: 1 labelled, bob.csv: 1)"
    )
    assert "undefined (one class only)" in Agreement(np.ones(4), np.ones(4)).summary("x")


def test_labels_of_different_collections_are_refused():
    with pytest.raises(ValueError, match="4 labels against 5"):
        Agreement(np.zeros(4), np.zeros(5))


def test_inspectors_are_named_by_file_then_folder_then_path():
    paths = ["/a/bob/c.sqlite", "/a/carol/c.sqlite", "/a/x.csv", "/b/bob/y.csv", "/c/bob/y.csv"]
    assert inspector_names(paths) == [
        "bob/c.sqlite",
        "carol/c.sqlite",
        "x.csv",
        "/b/bob/y.csv",
        "/c/bob/y.csv",
    ]


def test_the_ranking_follows_your_relabelling_in_its_marks_not_its_order():
    mine = np.array([1, 0, np.nan, -1, 1.0])
    theirs = np.array([0, 0, 1, 1, np.nan])
    ranking = Agreement(mine, theirs).ranking("bob")
    order = ranking.sort(np.arange(5))
    assert [ranking.badge_text(i) for i in range(5)] == ["≠ artifact", "= artifact", None, "? LSBG", None]
    mine[[0, 2]] = [0, 1]  # settled the disagreement; labelled one only bob had
    ranking.follow([0, 2], mine)
    assert [ranking.badge_text(i) for i in range(5)] == ["= artifact", "= artifact", "= LSBG", "? LSBG", None]
    np.testing.assert_array_equal(ranking.sort(np.arange(5)), order)
    np.testing.assert_array_equal(ranking.now, agreement_codes(mine, theirs))


def test_the_ranking_follows_the_second_of_two_people_when_that_is_you():
    first, you = np.array([1, 0, 1.0]), np.array([0, 0, np.nan])
    ranking = Agreement(first, you.copy()).ranking("you")
    assert [ranking.badge_text(i) for i in range(3)] == ["≠ artifact", "= artifact", None]
    you[[0, 2]] = [1, 0]
    ranking.follow([0, 2], first, theirs=you)
    assert [ranking.badge_text(i) for i in range(3)] == ["= LSBG", "= artifact", "≠ artifact"]

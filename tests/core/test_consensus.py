"""Several inspectors: Krippendorff's alpha against the published worked example, the votes, the
majority a team adopts, the most disputed first."""

from __future__ import annotations

import numpy as np
import pytest

from galview.core.consensus import Consensus, alpha_of
from galview.core.label_values import UNSURE

NAN = np.nan


def test_alpha_is_krippendorffs_on_his_worked_example():
    """Krippendorff (2011), "Computing Krippendorff's alpha-reliability", nominal data: four observers,
    twelve units, some values missing; alpha = 0.743."""
    a = [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN]
    b = [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3]
    c = [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN]
    d = [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN]
    team = Consensus(tuple("ABCD"), np.array([a, b, c, d]), tuple("012345"))
    assert team.alpha == pytest.approx(0.743, abs=5e-4)
    assert team.pairable == 11  # the last unit has one value: not pairable
    low, high = team.alpha_interval()
    assert low < team.alpha < high


def test_two_inspectors_alpha_is_scotts_pi_corrected_for_sample_size():
    rng = np.random.default_rng(2)
    mine = rng.integers(0, 2, 500).astype(float)
    theirs = np.where(rng.random(500) < 0.2, 1 - mine, mine)
    team = Consensus(("you", "bob"), np.vstack([mine, theirs]))
    observed = np.mean(mine == theirs)
    pooled = np.bincount(np.concatenate([mine, theirs]).astype(int)) / 1000
    pi = (observed - (pooled**2).sum()) / (1 - (pooled**2).sum())
    n = 1000
    assert team.alpha == pytest.approx(1 - (n - 1) / n * (1 - pi), abs=1e-9)  # alpha = 1 - (n-1)/n (1 - pi)


def test_full_agreement_one_class_and_nothing_pairable():
    labels = np.array([[0, 1, 1, 0], [0, 1, 1, 0], [0, 1, NAN, 0]])
    assert Consensus(("a", "b", "c"), labels).alpha == pytest.approx(1.0)
    assert np.isnan(Consensus(("a", "b"), np.ones((2, 5))).alpha)  # one class: chance agrees fully
    lonely = Consensus(("a", "b"), np.array([[1, NAN], [NAN, 0]]))
    assert lonely.pairable == 0 and np.isnan(lonely.alpha)
    assert all(np.isnan(lonely.alpha_interval()))
    assert np.isnan(alpha_of(np.zeros((0, 2)), np.zeros(0)))


def test_votes_majority_adopted_share_and_order():
    labels = np.array([
        [1, 0, 1, UNSURE, NAN, 1, 0],
        [1, 1, 0, UNSURE, NAN, NAN, 0],
        [1, 1, UNSURE, 1, NAN, NAN, 0],
    ])  # fmt: skip
    team = Consensus(("you", "bob", "carol"), labels, ("artifact", "LSBG"))
    np.testing.assert_array_equal(team.votes[:4], [[0, 3], [1, 2], [1, 1], [0, 1]])
    np.testing.assert_array_equal(team.majority, [1, 1, NAN, 1, NAN, 1, 0])  # 2: a tie
    np.testing.assert_array_equal(team.adopted, [1, 1, NAN, UNSURE, NAN, 1, 0])  # 3: two unsure against one
    np.testing.assert_allclose(team.share, [1, 2 / 3, 0.5, 1, NAN, 1, 1])
    assert team.statuses().tolist() == ["agree", "split", "split", "unsure", "none", "one", "agree"]
    both_unsure = Consensus(("a", "b"), np.array([[UNSURE, UNSURE, NAN], [UNSURE, NAN, NAN]]))
    assert both_unsure.statuses().tolist() == ["unsure", "one", "none"]
    assert team.order().tolist() == [
        2,
        1,
        3,
        0,
        6,
        5,
    ]  # the tie first, then 2:1, unsure, agreement, one label


def test_labels_must_be_one_row_per_inspector():
    with pytest.raises(ValueError, match=r"labels of shape \(3,\) for 2 inspectors"):
        Consensus(("a", "b"), np.zeros(3))


def test_the_team_ranking_follows_your_relabelling_in_its_votes_not_its_order():
    you = np.array([1, 1, np.nan, 0.0])
    labels = np.vstack([you, [0, 1, 1, np.nan], [0, 0, 0, np.nan]])
    ranking = Consensus(("you", "bob", "carol"), labels, ("0", "1")).ranking()
    order = ranking.sort(np.arange(4))
    assert [ranking.badge_text(i) for i in range(4)] == ["≠ 0 2/3", "≠ 1 2/3", "≠ tie", "· 0"]
    you[[0, 2]] = [0, 1]
    ranking.follow([0, 2], you)
    assert [ranking.badge_text(i) for i in range(4)] == ["= 0", "≠ 1 2/3", "≠ 1 2/3", "· 0"]
    np.testing.assert_array_equal(ranking.sort(np.arange(4)), order)
    assert ranking.team.labels[0, 0] == 1  # the comparison itself is left as it was


def test_the_team_ranking_follows_you_wherever_you_are_among_them():
    bob = np.array([0, 1, 1, np.nan])
    labels = np.vstack([[1, 1, np.nan, 0.0], bob, [0, 0, 0, np.nan]])
    ranking = Consensus(("amy", "bob", "carol"), labels, ("0", "1")).ranking()
    bob[[1, 3]] = [0, 0]  # bob, the second of the three, relabelled 1 and labelled 3
    ranking.follow([1, 3], bob, row=1)
    assert [ranking.badge_text(i) for i in range(4)] == ["≠ 0 2/3", "≠ 0 2/3", "≠ tie", "= 0"]


def test_following_every_cutout_counts_again_only_what_changed_and_shows_what_a_new_count_shows():
    rng = np.random.default_rng(3)
    labels = rng.choice([0.0, 1.0, -1.0, np.nan], size=(3, 400))
    ranking = Consensus(("you", "bob", "carol"), labels, ("0", "1")).ranking()
    you = labels[0].copy()
    changed = rng.choice(400, 60, replace=False)
    you[changed] = rng.choice([0.0, 1.0, np.nan], 60)
    counted = []
    original = Consensus.__init__

    def counting(self, names, part, classes):
        counted.append(np.shape(part)[1])
        original(self, names, part, classes)

    import unittest.mock

    with unittest.mock.patch.object(Consensus, "__init__", counting):
        ranking.follow(np.arange(400), you)  # a reload of every label
    differs = ~((you == labels[0]) | (np.isnan(you) & np.isnan(labels[0])))
    assert counted == [int(differs.sum())]  # only the cutouts whose label changed were counted again
    fresh = Consensus(("you", "bob", "carol"), np.vstack([you, labels[1:]]), ("0", "1")).ranking()
    assert [ranking.badge_text(i) for i in range(400)] == [fresh.badge_text(i) for i in range(400)]
    with unittest.mock.patch.object(Consensus, "__init__", counting):
        ranking.follow(np.arange(400), you)  # nothing changed since: nothing to count
    assert counted == [int(differs.sum())]
    assert [ranking.badge_text(i) for i in range(400)] == [fresh.badge_text(i) for i in range(400)]

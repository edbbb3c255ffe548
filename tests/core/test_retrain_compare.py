"""Two models against the user's labels (the comparison panel's last line)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from galview.core.retrain_compare import NEW_TASK, NewTaskScores, label_agreement
from galview.core.scores import Scores
from galview.core.training_labels import TRAINED_ON_COLLECTION, learnt_from


def _scores(version, probs):
    scores = Scores.empty(len(probs), 1, version)
    scored = [i for i, p in enumerate(probs) if p is not None]
    scores.set_rows(scored, [[probs[i]] for i in scored])
    return scores


def test_agreement_counts_each_model_and_the_flips_toward_and_away_from_the_labels():
    before = _scores("a", [0.9, 0.9, 0.1, 0.1, 0.8, None])
    after = _scores("b", [0.1, 0.9, 0.9, 0.9, 0.9, 0.7])
    labels = [0, 1, 0, 0, 1, 1]  # cutout 5: only one model scored it, so it is left out
    agreement = label_agreement(before, after, np.arange(6), labels)
    assert (agreement.n, agreement.before, agreement.after) == (5, 4, 3)
    assert (agreement.fixed, agreement.broken) == (1, 2)  # 0 now right; 2 and 3 now wrong
    text = agreement.text("A", "B")
    assert "Your 5 labels: 4 agree with A, 3 agree with B" in text and "learnt" not in text
    assert "of the cutouts that change class, 1 agree with you only by B and 2 only by A" in text
    assert "3 agree with B (which learnt from 5 of them)" in agreement.text("A", "B", learnt=(0, 5))
    empty = label_agreement(before, after, [], [])
    assert empty.n == 0 and "None of your labelled cutouts" in empty.text()


def test_a_model_of_another_task_is_shown_by_its_own_probabilities():
    scores = _scores("ring", [0.9, 0.2, None, 0.7])
    scores.class_names = ("no ring", "ring")
    said = NewTaskScores.of(scores)
    assert said.called == {"no ring": 1, "ring": 2} and said.measured == "ring"
    assert said.summary().startswith("Of 3 cutouts the new model calls 1 no ring and 2 ring.")
    ranking = said.ranking()
    assert ranking.name == NEW_TASK and ranking.title == "ring by the retrained model, most probable first"
    np.testing.assert_allclose(ranking.values, [0.9, 0.2, np.nan, 0.7], atol=1e-6)  # unscored: last


def test_learnt_from_counts_only_labels_of_the_same_collection(tmp_path):
    data = tmp_path / "data.npz"
    data.write_bytes(b"")
    card = SimpleNamespace(
        training={"source": str(data), "labels_used": {"indices": [1, 2, 3], "labels": [0, 1, 0]}}
    )
    assert learnt_from(card, SimpleNamespace(source=data), [0, 1, 2, 7]) == 2
    assert learnt_from(card, SimpleNamespace(source=tmp_path / "other.npz"), [1, 2]) == 0
    assert learnt_from(SimpleNamespace(training={}), SimpleNamespace(source=data), [1]) == 0
    assert learnt_from(card, None, [1]) == 0
    scratch = SimpleNamespace(training={"source": str(data), "n_train": 30})  # no record of which cutouts
    assert learnt_from(scratch, SimpleNamespace(source=data), [1]) == TRAINED_ON_COLLECTION


def test_agreement_says_when_a_model_was_trained_on_the_collection():
    agreement = label_agreement(_scores("a", [0.9]), _scores("b", [0.1]), [0], [1])
    text = agreement.text("A", "B", learnt=(TRAINED_ON_COLLECTION, 0))
    assert (
        "1 agree with A (which was trained on this collection)" in text and "looks better than it is" in text
    )

"""The blind re-check of labelled cutouts."""

from __future__ import annotations

import numpy as np
import pytest

from galview.core.consistency import SelfConsistencyCheck


def test_sample_draws_only_class_labels_and_is_seeded():
    labels = np.array([1, 0, np.nan, -1, 1, 0, 1, np.nan])
    check = SelfConsistencyCheck.sample(labels, size=10, seed=1)
    assert sorted(check.indices.tolist()) == [0, 1, 4, 5, 6]
    assert SelfConsistencyCheck.sample(labels, 3, seed=2).indices.tolist() == (
        SelfConsistencyCheck.sample(labels, 3, seed=2).indices.tolist()
    )
    with pytest.raises(ValueError, match="no labelled"):
        SelfConsistencyCheck.sample(np.array([np.nan, -1]))


def test_agreement_kappa_and_summary():
    check = SelfConsistencyCheck([3, 5, 7, 9], [1, 1, 0, 0])
    assert not check.answer(3, 1)
    assert not check.answer(5, 0)
    assert not check.answer(7, 0)
    assert check.answer(9, 0)
    assert check.agreement() == (3, 4)
    # observed 0.75; expected 0.5·0.25 + 0.5·0.75 = 0.5 → κ = 0.5
    assert check.kappa() == pytest.approx(0.5)
    text = check.summary()
    assert "3 of 4" in text and "75%" in text and "#5: LSBG → artifact" in text
    with pytest.raises(ValueError, match="not part"):
        check.answer(4, 1)

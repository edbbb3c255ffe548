"""What the Retrain panel says about a model's card (plain text, no widgets)."""

from __future__ import annotations

from types import SimpleNamespace

from galview.qt.retrain_texts import describe_card


def _card(difference):
    metrics = {"difference": difference, "verdict": "Better: …"}
    return SimpleNamespace(training={"mode": "probe", "parent": {"name": "shipped.keras"}}, metrics=metrics)


def test_a_card_says_what_its_before_was():
    same_task = describe_card(_card({"accuracy_after": 0.72, "accuracy_before": 0.67, "n": 112}))
    assert same_task.split("<br>") == [
        "Retrained (probe) from shipped.keras",
        "Cross-validated accuracy 0.720 against 0.670 before, on 112 labels",
        "Better: …",
    ]
    ring = {
        "accuracy_after": 0.61,
        "accuracy_before": 0.5,
        "n": 100,
        "baseline": "guessing the most common class",
    }
    assert (
        "Cross-validated accuracy 0.610 against 0.500 by guessing the most common class, on 100 labels"
        in (describe_card(_card(ring)))
    )

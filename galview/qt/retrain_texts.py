"""What the Retrain panel says about a run or a model: before/after lines and a model card's record.

Plain text (with ``<br>`` between lines, as the panel's labels show it); no widgets here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from galview.core.words import count


def _interval(metrics: dict, key: str) -> str:
    low, high = (metrics.get("ci95") or {}).get(key, (float("nan"), float("nan")))
    return f" [{low:.2f}–{high:.2f}]" if np.isfinite(low) and np.isfinite(high) else ""


def describe_metrics(result) -> str:
    """Before/after lines of a :class:`~galview.ml.finetune.FinetuneResult`, as the panel shows them."""
    lines = []
    for title, metrics in (("Before", result.before), ("After (cross-validated)", result.after)):
        if not metrics:
            continue
        if metrics.get("baseline"):
            title = f"Before, by {metrics['baseline']} (the starting model knows other classes)"
        parts = []
        for key, name in (("accuracy", "accuracy"), ("roc_auc", "ROC AUC")):
            value = metrics.get(key)
            if value is not None and np.isfinite(value):
                parts.append(f"{name} {value:.3f}{_interval(metrics, key)}")
        lines.append(f"{title}: " + ", ".join(parts))
    difference = result.difference or {}
    if "difference" in difference:
        low, high = difference.get("ci95", (float("nan"), float("nan")))
        lines.append(
            f"Accuracy difference: {100 * difference['difference']:+.1f} points "
            f"[{100 * low:+.1f} to {100 * high:+.1f}]"
        )
    recipe = result.recipe
    if recipe.mode == "probe":
        how = _probe_words(result.card.training.get("probe") or {})
        lines.append(f"probe{how}, {recipe.folds} folds, on {result.device} in {result.seconds:.0f} s")
    else:
        lines.append(
            f"{recipe.mode}, {recipe.folds} folds, at most {count(recipe.epochs, 'epoch')}, on {result.device} "
            f"in {result.seconds:.0f} s"
        )
    return "<br>".join(lines)


def describe_card(card) -> str:
    """A model's own record, for the comparison panel: how it was made and its cross-validated figures."""
    training, metrics = card.training or {}, card.metrics or {}
    lines = []
    if training.get("mode"):
        parent = (training.get("parent") or {}).get("name")
        lines.append(f"Retrained ({training['mode']})" + (f" from {parent}" if parent else ""))
    difference = metrics.get("difference") or {}
    if {"accuracy_after", "accuracy_before", "n"} <= set(difference):
        lines.append(
            f"Cross-validated accuracy {difference['accuracy_after']:.3f} against {difference['accuracy_before']:.3f}"
            f" {'by ' + difference['baseline'] if difference.get('baseline') else 'before'}, on {difference['n']} labels"
        )
    if metrics.get("verdict"):
        lines.append(str(metrics["verdict"]))
    if not lines:  # a model trained from scratch, e.g. the shipped one: its card's test figures
        if training.get("n_train"):
            lines.append(
                f"Trained on {training['n_train']:,} cutouts of {Path(str(training.get('source', '?'))).name}"
            )
        for key, figures in metrics.items():
            if isinstance(figures, dict) and "accuracy" in figures and "n" in figures:
                lines.append(
                    f"{key.replace('_', ' ')}: accuracy {figures['accuracy']:.3f} on {figures['n']:,}"
                )
    return "<br>".join(lines) or "No training record in its card"


def same_file(a, b) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve()
    except (OSError, TypeError):
        return False


def _probe_words(probe: dict) -> str:
    """`` anchored at the starting model (C = 0.01)`` from the card's ``training.probe``."""
    if not probe:
        return ""
    if not probe.get("anchored"):
        return " (a new last layer: the model's output is not one Dense layer)"
    views = probe.get("views", 1)
    seen = f", each cutout seen in {views} orientations" if views > 1 else ""
    return f" anchored at the starting model (C = {probe['C']:g}{seen})"

"""How large a gain can the labels show? The smallest lift a paired bootstrap calls supported.

    python benchmarks/diag_detectable_gain.py [--n 112] [--accuracy 0.759] [--max-changed 30]

GalView calls a retrained model better only when the paired bootstrap 95% interval of the accuracy
difference (``galview.ml.metrics.paired_accuracy_difference``, the same function the retraining job
uses) excludes 0. That interval depends on how many cutouts the two models call differently, not only
on the net gain: for each number of cutouts whose correctness changes, this prints the smallest number of
them that must change for the better (the rest for the worse) before the lift is supported, and the lift
in points that gives. Issue 12 asks for +3 points with an interval that says so on 112 real labels.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from galview.ml.metrics import paired_accuracy_difference  # noqa: E402


def smallest_supported_gain(n: int, n_right_before: int, changed: int) -> int | None:
    """Fewest of ``changed`` cutouts that must turn right (the others wrong) for a supported lift."""
    labels = np.ones(n, int)
    for better in range(changed // 2 + 1, changed + 1):
        worse = changed - better
        if better > n - n_right_before or worse > n_right_before:
            continue
        before = np.zeros(n, int)
        before[:n_right_before] = 1  # right before
        after = before.copy()
        after[n_right_before : n_right_before + better] = 1  # wrong before, right after
        after[:worse] = 0  # right before, wrong after
        if paired_accuracy_difference(labels, before, after)["supported"]:
            return better
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=112, help="labelled cutouts")
    parser.add_argument("--accuracy", type=float, default=0.759, help="accuracy before (the shipped model)")
    parser.add_argument("--max-changed", type=int, default=30)
    args = parser.parse_args()
    right = round(args.accuracy * args.n)
    print(
        f"{args.n} labels, {right} right before; paired bootstrap (1,000 resamples), supported = 95% interval > 0"
    )
    print("| cutouts whose correctness changes | fewest that must turn right | net lift, points |")
    print("|---|---|---|")
    for changed in (1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30):
        if changed > args.max_changed:
            break
        better = smallest_supported_gain(args.n, right, changed)
        if better is None:
            print(f"| {changed} | none | — |")
        else:
            lift = 100 * (2 * better - changed) / args.n
            print(f"| {changed} | {better} of {changed} | +{lift:.1f} |")


if __name__ == "__main__":
    main()

"""Helpers every ``galview`` command shares: the options that open a collection, metric printing.

Kept apart from :mod:`galview.cli` (the parser and the dispatcher) so that command modules import
from here and never back from the package that registers them.
"""

from __future__ import annotations

import argparse

LAYOUTS = ["NHWC", "NCHW", "NHW", "CHW", "HW"]


def add_open_options(parser: argparse.ArgumentParser) -> None:
    """``--layout``, ``--dataset`` and ``--allow-external``: how to read the collection."""
    parser.add_argument("--layout", choices=LAYOUTS, help="axis order of the stored array")
    parser.add_argument("--dataset", help="name of the image array in an HDF5 or npz file")
    parser.add_argument(
        "--allow-external",
        action="store_true",
        help="let an HDF5 file read pixels kept in other files (external storage, virtual datasets "
        "with sources outside its folder); refused by default",
    )


def open_options(args) -> dict:
    """Keyword arguments for :func:`galview.io.open_collection` from the parsed options."""
    return {
        key: value
        for key, value in (
            ("layout", getattr(args, "layout", None)),
            ("dataset", getattr(args, "dataset", None)),
            ("allow_external", getattr(args, "allow_external", False)),
        )
        if value
    }


def print_metrics(metrics: dict) -> None:
    """Accuracy, precision, recall and ROC AUC with their 95% intervals, and the confusion matrix."""
    ci = metrics.get("ci95", {})
    for key in ("accuracy", "precision", "recall", "roc_auc"):
        if key in metrics:
            low, high = ci.get(key, (float("nan"), float("nan")))
            print(f"{key:10s} {metrics[key]:.3f}  (95% CI {low:.3f}–{high:.3f})")
    if "confusion" in metrics:
        print(f"confusion  {metrics['confusion']}  (rows: true class, columns: predicted)")

"""Helpers every ``galview`` command shares: the options that open a collection, metric printing.

Kept apart from :mod:`galview.cli` (the parser and the dispatcher) so that command modules import
from here and never back from the package that registers them.
"""

from __future__ import annotations

import argparse

LAYOUTS = ["NHWC", "NCHW", "NHW", "CHW", "HW"]


def add_open_options(parser: argparse.ArgumentParser) -> None:
    """``--layout`` and ``--dataset``: how to read the collection."""
    parser.add_argument("--layout", choices=LAYOUTS, help="axis order of the stored array")
    parser.add_argument("--dataset", help="name of the image array in an HDF5 or npz file")


def open_options(args) -> dict:
    """Keyword arguments for :func:`galview.io.open_collection` from the parsed options."""
    return {
        key: value
        for key, value in (
            ("layout", getattr(args, "layout", None)),
            ("dataset", getattr(args, "dataset", None)),
        )
        if value
    }


def add_adapt_option(parser: argparse.ArgumentParser) -> None:
    """``--no-adapt``: refuse cutouts that fit the model only through the physical adapter."""
    parser.add_argument(
        "--no-adapt",
        action="store_true",
        help="do not convert survey fluxes (WCS pixel scale, bands, flux unit) to the model's input; "
        "refuse instead, saying what would fit",
    )


def adapt_model(loaded, collection, args):
    """``loaded`` ready for ``collection`` (physical adapter unless ``--no-adapt``); says so on stderr."""
    import sys

    from galview.ml.adapt import adapt_for

    loaded, note = adapt_for(loaded, collection, adapt=not getattr(args, "no_adapt", False))
    if note:
        print(f"adapter: {note}", file=sys.stderr)
    return loaded


def print_metrics(metrics: dict) -> None:
    """Accuracy, precision, recall and ROC AUC with their 95% intervals, and the confusion matrix."""
    ci = metrics.get("ci95", {})
    for key in ("accuracy", "precision", "recall", "roc_auc"):
        if key in metrics:
            low, high = ci.get(key, (float("nan"), float("nan")))
            print(f"{key:10s} {metrics[key]:.3f}  (95% CI {low:.3f}–{high:.3f})")
    if "confusion" in metrics:
        print(f"confusion  {metrics['confusion']}  (rows: true class, columns: predicted)")

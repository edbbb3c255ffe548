"""Helpers every ``galview`` command shares: the options that open a collection, the model option,
the checks that run before any expensive work, metric printing.

Kept apart from :mod:`galview.cli` (the parser and the dispatcher) so that command modules import
from here and never back from the package that registers them. Nothing here imports Keras:
commands check their inputs and outputs first and load TensorFlow only when they need a model.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

LAYOUTS = ["NHWC", "NCHW", "NHW", "CHW", "HW"]
MODEL_HELP = (
    "model: a .keras file (its .json card beside it) or the folder 'galview train -o' wrote; "
    "default: the shipped model (or $GALVIEW_MODEL)"
)
# Why a metric has no value, when it has none (NaN).
UNDEFINED = {
    "accuracy": "no test cutouts",
    "precision": "no positive predictions",
    "recall": "no positive labels in the test split",
    "roc_auc": "the test split holds one class only",
}


def add_open_options(parser: argparse.ArgumentParser) -> None:
    """``--layout``, ``--dataset`` and ``--allow-external``: how to read the collection."""
    parser.add_argument(
        "--layout", choices=LAYOUTS, help="axis order of the stored array (default: detected from its shape)"
    )
    parser.add_argument(
        "--dataset", help="name of the image array in an HDF5 or npz file (default: found automatically)"
    )
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


def add_model_option(parser: argparse.ArgumentParser, flag: str = "--model", help_text: str = MODEL_HELP):
    """The option naming a model (a ``.keras`` file or a model folder)."""
    parser.add_argument(flag, metavar="MODEL", help=help_text)


def model_path(value: str | None, default: bool = True) -> Path | None:
    """The model file a ``--model`` value names, checked without loading Keras.

    Parameters
    ----------
    value : str or None
        What the user gave: a model file or a folder holding ``model.keras``.
    default : bool
        Whether no value means the shipped model (else None is returned).

    Raises
    ------
    ModelError
        The file does not exist, or the folder holds no model.
    """
    from galview.ml.errors import ModelError
    from galview.ml.loading import model_file

    if value is None:
        if not default:
            return None
        from galview.assets import default_model_path

        value = default_model_path()
    path = model_file(value)
    if path.is_dir():
        raise ModelError(
            path, "folder holds no model.keras; expected a model file or a folder with model.keras"
        )
    if not path.is_file():
        raise ModelError(path, "no such model file; expected a .keras model or a folder holding model.keras")
    return path


def warn_unreadable(unreadable: dict[int, str], left_out_of: str | None = None) -> None:
    """On stderr, one warning line about the cutouts a command could not read (none: nothing), as
    :func:`galview.core.words.unreadable_cutouts` words it."""
    if unreadable:
        from galview.core.words import unreadable_cutouts

        print(f"warning: {unreadable_cutouts(unreadable, left_out_of=left_out_of)}", file=sys.stderr)


def print_metrics(metrics: dict) -> None:
    """Accuracy, precision, recall and ROC AUC with their 95% intervals, and the confusion matrix.

    A metric that is undefined (NaN) is printed as ``undefined`` with the reason, never ``nan``.
    """
    ci = metrics.get("ci95", {})
    for key in ("accuracy", "precision", "recall", "roc_auc"):
        if key not in metrics:
            continue
        value = _number(metrics[key])
        if math.isnan(value):
            print(f"{key:10s} undefined ({UNDEFINED[key]})")
            continue
        low, high = (_number(v) for v in (ci.get(key) or (None, None)))
        interval = "undefined" if math.isnan(low) or math.isnan(high) else f"{low:.3f}–{high:.3f}"
        print(f"{key:10s} {value:.3f}  (95% CI {interval})")
    if "confusion" in metrics:
        print(f"confusion  {metrics['confusion']}  (rows: true class, columns: predicted)")


def _number(value) -> float:
    """A metric as float; None (NaN stored as JSON null) as NaN."""
    return math.nan if value is None else float(value)


def chosen_human_labels(args, collection, card):
    """The human labels a command uses and where they came from: ``(TrainingLabels, text)``.

    ``--labels-from-file`` takes the file's; else ``--store`` or the collection's label store when it
    has one (``--force`` re-binds a store made for another collection); else the file's.
    """
    from galview.core.training_labels import human_labels
    from galview.io.label_store import has_label_store, open_label_store

    if not args.labels_from_file and (args.store or has_label_store(collection)):
        with open_label_store(collection, args.store, force=getattr(args, "force", False)) as store:
            return human_labels(collection, store, card), f"label store {store.path}"
    return human_labels(collection, None, card), "the file's labels"


def add_plain_adapter_options(parser) -> None:
    """``--resize``, ``--bands``, ``--greyscale``: an explicit adapter from the cutouts to the model."""
    parser.add_argument(
        "--resize", action="store_true", help="adapter: resize cutouts to the model's input size"
    )
    parser.add_argument(
        "--bands", help="adapter: bands to feed the model, in its order (names or indices, comma-separated)"
    )
    parser.add_argument(
        "--greyscale", action="store_true", help="adapter: average the bands into one channel"
    )


def plain_adapted(loaded, collection, args):
    """``loaded`` with the adapter ``--resize``/``--bands``/``--greyscale`` ask for (said on stderr),
    or ``loaded`` itself when none is asked for."""
    if not (args.resize or args.bands is not None or args.greyscale):
        return loaded
    from galview.ml.scoring import with_adapter

    bands = band_indices(args.bands, collection.bands) if args.bands is not None else None
    loaded = with_adapter(loaded, collection, args.resize, bands, args.greyscale)
    print(f"adapter: {loaded.card.input.adapter}", file=sys.stderr)
    return loaded


def ready_model(loaded, collection, args):
    """``loaded`` with the adapter ``--resize``/``--bands``/``--greyscale`` ask for, else with the
    physical adapter where the cutouts allow it (unless ``--no-adapt``); each said on stderr."""
    adapted = plain_adapted(loaded, collection, args)
    return adapted if adapted is not loaded else adapt_model(loaded, collection, args)


def check_band_names(args, collection) -> None:
    """Refuse a ``--bands`` name the collection does not have, before Keras loads."""
    if getattr(args, "bands", None) is not None:
        band_indices(args.bands, collection.bands)


def band_indices(text: str, bands) -> list[int]:
    """``--bands`` (names or indices, comma-separated) as channel indices of a collection with ``bands``.

    Raises
    ------
    UserFacingError
        Naming the option and the collection's bands, for an empty entry, an unknown name or an index
        out of range.
    """
    from galview.core.errors import UserFacingError

    names = list(bands)
    expected = f"expected band names among {', '.join(names)} or indices 0–{len(names) - 1}, comma-separated"
    indices = []
    for item in (part.strip() for part in text.split(",")):
        if item in names:
            indices.append(names.index(item))
        elif item.isdigit() and int(item) < len(names):
            indices.append(int(item))
        else:
            problem = "an empty entry" if not item else f"no band {item!r}"
            raise UserFacingError(f"--bands {text}", f"the collection has {problem}; {expected}")
    return indices

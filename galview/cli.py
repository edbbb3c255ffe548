"""Command line: ``galview info | view | demo | simulate | train | score | explain | labels``; the composition root."""

from __future__ import annotations

import argparse
import json
import sys

from galview import __version__
from galview.cli_explain import add_explain_parser, cmd_explain
from galview.cli_labels import add_labels_parser, run_labels
from galview.core.errors import UserFacingError


def _add_open_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--layout", choices=["NHWC", "NCHW", "NHW", "CHW", "HW"], help="axis order of the stored array"
    )
    parser.add_argument("--dataset", help="name of the image array in an HDF5 or npz file")


def _open_options(args) -> dict:
    return {k: v for k, v in (("layout", args.layout), ("dataset", args.dataset)) if v}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="galview", description="Triage low-surface-brightness galaxy candidates."
    )
    parser.add_argument("--version", action="version", version=f"galview {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    info = commands.add_parser("info", help="describe a cutout collection")
    info.add_argument("path")
    info.add_argument("--json", action="store_true", help="print one JSON object")
    _add_open_options(info)

    view = commands.add_parser("view", help="open collections in the window")
    view.add_argument("paths", nargs="*")
    _add_open_options(view)
    _add_window_options(view)

    demo = commands.add_parser("demo", help="open the demo collection")
    _add_window_options(demo)

    simulate = commands.add_parser("simulate", help="simulate LSBG and artifact cutouts with known truth")
    simulate.add_argument("--survey", choices=["des", "hsc"], default="des")
    simulate.add_argument("--n", type=int, required=True, help="number of cutouts")
    simulate.add_argument("--seed", type=int, default=0)
    simulate.add_argument(
        "--lsbg-fraction", type=float, default=0.5, help="fraction of LSBGs (default 0.5: balanced)"
    )
    simulate.add_argument(
        "--no-jpeg", action="store_true", help="skip the JPEG round trip of the viewer colours"
    )
    simulate.add_argument("--workers", type=int, default=None, help="processes (default: every core)")
    simulate.add_argument("-o", "--output", required=True, help="HDF5 file to write")

    train = commands.add_parser("train", help="train a seed architecture on a labelled collection")
    train.add_argument("data")
    train.add_argument("--arch", default="deepshadows", help="architecture (see galview.ml.architectures)")
    train.add_argument(
        "-o", "--output", required=True, help="folder for the model (model.keras + model.json)"
    )
    train.add_argument("--epochs", type=int, help="maximum epochs (default: the published recipe)")
    train.add_argument("--batch-size", type=int, help="default: the published recipe")
    train.add_argument("--learning-rate", type=float, help="default: the published recipe")
    train.add_argument("--patience", type=int, help="early-stopping patience on validation loss")
    train.add_argument("--val-split", type=float, default=0.1)
    train.add_argument("--test-split", type=float, default=0.1)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--no-augment", action="store_true", help="no flips/rotations")
    train.add_argument(
        "--jitter", type=float, default=0.0, help="colour jitter amount, e.g. 0.1 (default none)"
    )
    train.add_argument("--no-class-weights", action="store_true")
    train.add_argument("--parent", help="fine-tune this model instead of starting from scratch")
    train.add_argument(
        "--labels",
        choices=["auto", "file", "store"],
        default="auto",
        help="labels to train on: the label store's (GalView's relabelling; unsure left out), the file's, "
        "or auto: the store's when the collection has one",
    )
    train.add_argument("--store", help="label store file (default: beside the data, else user data dir)")
    _add_open_options(train)

    score = commands.add_parser("score", help="score a collection with a model")
    score.add_argument("data")
    score.add_argument("--model", help="model (.keras with its .json card); default: the shipped model")
    score.add_argument("-o", "--output", required=True, help="scores as .csv or .h5 (with embeddings)")
    score.add_argument("--batch-size", type=int, default=1024)
    score.add_argument(
        "--resize", action="store_true", help="adapter: resize cutouts to the model's input size"
    )
    score.add_argument(
        "--bands", help="adapter: bands to feed the model, in its order (names or indices, comma-separated)"
    )
    score.add_argument("--greyscale", action="store_true", help="adapter: average the bands into one channel")
    _add_open_options(score)

    add_explain_parser(commands, _add_open_options)
    add_labels_parser(commands, _add_open_options)
    return parser


def _add_window_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--offscreen", action="store_true", help="render without a display (Qt offscreen)")
    parser.add_argument("--screenshot", metavar="FILE", help="save the main window as PNG and exit")


def cmd_info(args) -> int:
    from galview.io import open_collection

    with open_collection(args.path, **_open_options(args)) as collection:
        summary = collection.describe()
    if args.json:
        print(json.dumps(summary))
        return 0
    h, w, c = summary["shape"]
    print(f"path:    {args.path}")
    print(f"cutouts: {summary['n']}")
    print(f"shape:   {h} × {w} × {c} (H, W, C)")
    print(f"dtype:   {summary['dtype']}")
    print(f"bands:   {', '.join(summary['bands'])}")
    print(f"labels:  {'yes' if summary['has_labels'] else 'no'}")
    print(f"coords:  {'yes' if summary['has_coords'] else 'no'}")
    return 0


def cmd_window(args, paths: list[str]) -> int:
    if args.offscreen:
        import os

        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from galview.qt.app import run_app

    options = _open_options(args) if hasattr(args, "layout") else {}
    return run_app(paths, open_options=options, screenshot=args.screenshot)


def cmd_demo(args) -> int:
    from galview.demo import ensure_demo_collection

    path = ensure_demo_collection(progress=lambda text: print(text, file=sys.stderr))
    return cmd_window(args, [str(path)])


def cmd_simulate(args) -> int:
    from galview.core.progress import ProgressBar
    from galview.sim.generate import write_simulation
    from galview.sim.surveys import SURVEYS

    if args.n <= 0:
        print("galview: error: --n must be a positive number of cutouts", file=sys.stderr)
        return 2
    if not 0.0 <= args.lsbg_fraction <= 1.0:
        print("galview: error: --lsbg-fraction must lie between 0 and 1", file=sys.stderr)
        return 2
    bar = ProgressBar(args.n, f"simulate {args.survey}")
    path = write_simulation(
        args.output,
        SURVEYS[args.survey],
        args.n,
        args.seed,
        lsbg_fraction=args.lsbg_fraction,
        jpeg=not args.no_jpeg,
        workers=args.workers,
        progress=bar.update,
    )
    print(path)
    return 0


def cmd_train(args) -> int:
    from pathlib import Path

    from galview.core.progress import ProgressBar
    from galview.io import open_collection
    from galview.ml.loading import load_model
    from galview.ml.training import TrainConfig, train_model

    config = TrainConfig(
        architecture=args.arch,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        patience=args.patience,
        val_split=args.val_split,
        test_split=args.test_split,
        seed=args.seed,
        augment=not args.no_augment,
        jitter=args.jitter,
        class_weights=not args.no_class_weights,
    )
    parent = load_model(args.parent) if args.parent else None
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    with open_collection(args.data, **_open_options(args)) as collection:
        if not collection.has_labels:
            print(
                f"galview: error: {collection.source}: has no labels; training needs labelled cutouts",
                file=sys.stderr,
            )
            return 2
        bar = None

        def progress(p):
            nonlocal bar
            bar = bar or ProgressBar(p.total, "train")
            bar.update(p.done - bar.done)

        labels = _training_labels(args, collection)
        loaded = train_model(
            collection, config, output / "model.keras", labels=labels, parent=parent, on_progress=progress
        )
    _print_metrics(loaded.card.metrics)
    print(output / "model.keras")
    return 0


def _training_labels(args, collection):
    """The store's current labels (``--labels store``, or auto with a store), else None (the file's)."""
    import numpy as np

    from galview.io.label_store import LabelStore, store_path_for

    if args.labels == "file":
        return None
    exists = args.store is not None or store_path_for(collection.source).exists()
    if args.labels == "auto" and not exists:
        return None
    with LabelStore.for_collection(collection, args.store) as store:
        labels = store.effective()
        changed = int((~np.isnan(store.current())).sum())
        path = store.path
    unsure = int((labels < 0).sum())
    print(f"labels: from {path} ({changed} set in GalView, {unsure} unsure left out)", file=sys.stderr)
    return labels


def _print_metrics(metrics: dict) -> None:
    ci = metrics.get("ci95", {})
    for key in ("accuracy", "precision", "recall", "roc_auc"):
        if key in metrics:
            low, high = ci.get(key, (float("nan"), float("nan")))
            print(f"{key:10s} {metrics[key]:.3f}  (95% CI {low:.3f}–{high:.3f})")
    if "confusion" in metrics:
        print(f"confusion  {metrics['confusion']}  (rows: true class, columns: predicted)")


def cmd_score(args) -> int:
    from galview.core.progress import ProgressBar
    from galview.io import open_collection
    from galview.ml.loading import load_model
    from galview.ml.scoring import score_to_file, with_adapter
    from galview.models import default_model_path

    loaded = load_model(args.model or default_model_path())
    with open_collection(args.data, **_open_options(args)) as collection:
        if args.resize or args.bands or args.greyscale:
            bands = args.bands.split(",") if args.bands else None
            loaded = with_adapter(loaded, collection, args.resize, bands, args.greyscale)
            print(f"adapter: {loaded.card.input.adapter}", file=sys.stderr)
        bar = ProgressBar(len(collection), "score")
        path = score_to_file(
            loaded,
            collection,
            args.output,
            batch_size=args.batch_size,
            on_progress=lambda p: bar.update(p.done - bar.done),
        )
    print(path)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "info":
            return cmd_info(args)
        if args.command == "view":
            return cmd_window(args, args.paths)
        if args.command == "simulate":
            return cmd_simulate(args)
        if args.command == "train":
            return cmd_train(args)
        if args.command == "score":
            return cmd_score(args)
        if args.command == "explain":
            return cmd_explain(args, _open_options(args))
        if args.command == "labels":
            return run_labels(args)
        return cmd_demo(args)
    except UserFacingError as exc:
        print(f"galview: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""``galview train``: train a seed architecture, or fine-tune a model, on a labelled collection."""

from __future__ import annotations

import sys

from galview.cli.common import add_open_options, open_options, print_metrics
from galview.core.progress import progress_printer


def add_parsers(commands) -> None:
    """Register ``train`` on the main parser's ``commands``."""
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
    train.add_argument(
        "--force",
        action="store_true",
        help="use a label store made for another collection of the same size, re-binding it to this one",
    )
    add_open_options(train)
    train.set_defaults(run=cmd_train)


def cmd_train(args) -> int:
    from pathlib import Path

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
    with open_collection(args.data, **open_options(args)) as collection:
        if not collection.has_labels:
            print(
                f"galview: error: {collection.source}: has no labels; training needs labelled cutouts",
                file=sys.stderr,
            )
            return 2
        labels = _training_labels(args, collection)
        loaded = train_model(
            collection,
            config,
            output / "model.keras",
            labels=labels,
            parent=parent,
            on_progress=progress_printer("train"),
        )
    print_metrics(loaded.card.metrics)
    print(output / "model.keras")
    return 0


def _training_labels(args, collection):
    """The store's labels (``--labels store``, or auto when the store exists), else None (the file's)."""
    from galview.io.label_choice import current_labels

    choice = current_labels(collection, args.store, args.labels, force=args.force)
    if choice.source != "store":
        return None
    print(
        f"labels: from {choice.path} ({choice.changed} set in GalView, {choice.unsure} unsure left out)",
        file=sys.stderr,
    )
    return choice.labels

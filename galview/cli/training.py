"""``galview train``: train a seed architecture, or fine-tune a model, on a labelled collection."""

from __future__ import annotations

import sys

from galview.cli.common import add_model_option, add_open_options, model_path, open_options, print_metrics
from galview.cli.parsing import number_in, whole_number
from galview.ml.architectures import ARCHITECTURES

DEFAULT_ARCHITECTURE = "deepshadows"


def _recipe_numbers(field: str) -> str:
    """``"deepshadows 100, deepmerge 500, ..."``: one recipe field of every architecture."""
    return ", ".join(f"{name} {getattr(spec.recipe, field):g}" for name, spec in ARCHITECTURES.items())


def add_parsers(commands) -> None:
    """Register ``train`` on the main parser's ``commands``."""
    train = commands.add_parser(
        "train",
        help="train a seed architecture on a labelled collection",
        description="Train a seed architecture with its published recipe (optimiser, learning rate, "
        "batch size), early stopping on validation loss and 8-fold flips/rotations, or fine-tune a copy "
        "of a model (--parent). Writes model.keras and its model.json card into the output folder.",
    )
    train.add_argument("data", help="the labelled cutout collection (file or folder)")
    train.add_argument(
        "--arch",
        default=DEFAULT_ARCHITECTURE,
        choices=list(ARCHITECTURES),
        help="seed architecture (ignored with --parent, which keeps the parent's)",
    )
    train.add_argument(
        "-o", "--output", required=True, metavar="DIR", help="folder for the model (model.keras + model.json)"
    )
    train.add_argument(
        "--epochs",
        type=whole_number(1),
        help=f"maximum epochs (default: the published recipe: {_recipe_numbers('epochs')})",
    )
    train.add_argument(
        "--batch-size",
        type=whole_number(1),
        help=f"default: the published recipe: {_recipe_numbers('batch_size')}",
    )
    train.add_argument(
        "--learning-rate",
        type=number_in(0, low_open=True),
        help=f"default: the published recipe: {_recipe_numbers('learning_rate')}",
    )
    train.add_argument(
        "--optimizer",
        choices=("adadelta", "adam"),
        help="replace the published recipe's optimiser (its learning rate then defaults to 1.0 for Adadelta, "
        "0.001 for Adam)",
    )
    train.add_argument(
        "--patience",
        type=whole_number(0),
        help=f"early-stopping patience in epochs on validation loss (default: {_recipe_numbers('patience')})",
    )
    train.add_argument(
        "--val-split",
        type=number_in(0, 1, high_open=True),
        default=0.1,
        help="fraction held out for validation",
    )
    train.add_argument(
        "--test-split",
        type=number_in(0, 1, high_open=True),
        default=0.1,
        help="fraction held out for the test metrics",
    )
    train.add_argument("--seed", type=int, default=0, help="seed of the split, the weights and augmentation")
    train.add_argument("--no-augment", action="store_true", help="no flips/rotations")
    train.add_argument(
        "--jitter", type=number_in(0), default=0.0, help="colour jitter amount, e.g. 0.1 (0: none)"
    )
    train.add_argument(
        "--context-swap",
        type=number_in(0, 1),
        default=0.0,
        metavar="P",
        help="give this share of training cutouts another cutout's surroundings, so that only the centre "
        "tells the label (e.g. 0.5; 0: none)",
    )
    train.add_argument(
        "--weight-average",
        type=number_in(0, 1, high_open=True),
        default=0.0,
        metavar="M",
        help="keep a moving average of the weights with momentum M (e.g. 0.998: about the last 1/(1-M) "
        "batches) and use it for validation, early stopping and the saved model (Polyak averaging; what it "
        "did for the shipped model: BENCHMARKS.md, issue 14); 0: none",
    )
    train.add_argument(
        "--lr-schedule",
        choices=["constant", "cosine"],
        default="constant",
        help="constant: the recipe's rate throughout; cosine: the rate falls to 0 along a cosine over the "
        "epochs, so the network settles (what it did: BENCHMARKS.md, issue 14)",
    )
    train.add_argument(
        "--calibrate",
        action="store_true",
        help="binary models: fit Platt scaling (a·logit + c) on the validation split after training and fold "
        "it into the output layer, so that the probabilities fit cutouts as they are, not augmented ones",
    )
    train.add_argument("--no-class-weights", action="store_true", help="do not weight classes by frequency")
    add_model_option(
        train,
        "--parent",
        "fine-tune a copy of this model (a .keras file or a model folder) instead of starting from scratch",
    )
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
    """Check the output folder, the parent model and the labels, then load Keras and train."""
    from galview.core.outputs import output_folder
    from galview.io import open_collection

    if args.val_split + args.test_split >= 1:
        from galview.core.errors import UserFacingError

        held = f"--val-split {args.val_split:g} + --test-split {args.test_split:g}"
        raise UserFacingError(held, "hold out every cutout; leave some to train on (their sum below 1)")
    output = output_folder(args.output, "the model")
    parent_path = model_path(args.parent, default=False)
    with open_collection(args.data, **open_options(args)) as collection:
        labels = _training_labels(args, collection)
        created = not output.exists()
        output.mkdir(exist_ok=True)
        try:
            loaded = _train(args, collection, labels, parent_path, output)
        except BaseException:
            if created and not any(output.iterdir()):
                output.rmdir()  # a failed or cancelled run leaves nothing behind
            raise
    print_metrics(loaded.card.metrics)
    print(output / "model.keras")
    return 0


def _train(args, collection, labels, parent_path, output):
    """Load Keras (and the parent model) and train; progress on stderr."""
    from galview.core.errors import UserFacingError
    from galview.core.progress import progress_printer
    from galview.ml.loading import load_model
    from galview.ml.training import TrainConfig, TrainingSetupError, train_model

    config = TrainConfig(
        architecture=args.arch,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        optimizer=args.optimizer,
        context_swap=args.context_swap,
        weight_average=args.weight_average,
        lr_schedule=args.lr_schedule,
        calibrate=args.calibrate,
        patience=args.patience,
        val_split=args.val_split,
        test_split=args.test_split,
        seed=args.seed,
        augment=not args.no_augment,
        jitter=args.jitter,
        class_weights=not args.no_class_weights,
    )
    parent = load_model(parent_path) if parent_path is not None else None
    with progress_printer("train") as progress:
        try:
            loaded = train_model(
                collection, config, output / "model.keras", labels=labels, parent=parent, on_progress=progress
            )
        except TrainingSetupError as exc:
            raise UserFacingError(collection.source, str(exc)) from None
    _say_if_stopped_early(loaded.card, args.epochs)
    _say_calibration(loaded.card)
    note = (loaded.card.training or {}).get("unreadable_note")
    if note:
        print(f"warning: {note}", file=sys.stderr)
    return loaded


def _say_if_stopped_early(card, epochs: int | None) -> None:
    spec = ARCHITECTURES.get(card.architecture)
    planned = epochs or (spec.recipe.epochs if spec else None)
    run = (card.training or {}).get("epochs_run")
    if run and planned and run < planned:
        print(f"train  stopped early after {run} of {planned} epochs (best weights kept)", file=sys.stderr)


def _say_calibration(card) -> None:
    fit = (card.training or {}).get("calibration")
    if fit:
        print(
            f"train  calibrated on {fit['fitted_on']}: logit × {fit['a']:.3f} {fit['c']:+.3f}, "
            f"log loss {fit['log_loss_before']:.3f} → {fit['log_loss_after']:.3f}",
            file=sys.stderr,
        )


def _training_labels(args, collection):
    """The store's labels (``--labels store``, or auto when the store exists), else None (the file's)."""
    import numpy as np

    from galview.core.errors import UserFacingError
    from galview.io.label_choice import current_labels

    choice = current_labels(collection, args.store, args.labels, force=args.force)
    if not np.any(np.asarray(choice.labels, dtype=np.float64) >= 0):  # NaN (none) and unsure are not labels
        where = {"store": f"in its label store {choice.path}", "file": "in the file"}.get(
            choice.source, "in the file or a label store"
        )
        raise UserFacingError(collection.source, f"has no labels {where}; training needs labelled cutouts")
    if choice.source != "store":
        return None
    print(
        f"labels: from {choice.path} ({choice.changed} set in GalView, {choice.unsure} unsure left out)",
        file=sys.stderr,
    )
    return choice.labels

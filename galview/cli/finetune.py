"""``galview finetune``: retrain a model on the human labels of a collection, judged by k-fold before/after.

Everything the user can get wrong (the data, the model, the output folder, the labels, the folds) is
checked before Keras loads. Progress goes to stderr; the labels, the recipe, the cross-validated
before/after and the verdict to stdout, then the new model's path (``galview score --model DIR``
uses it).
"""

from __future__ import annotations

import math
import sys

from galview.cli.common import (
    add_model_option,
    add_open_options,
    add_plain_adapter_options,
    band_indices,
    chosen_human_labels,
    model_path,
    open_options,
    plain_adapted,
)
from galview.cli.parsing import whole_number
from galview.core.words import count
from galview.ml.finetune import MODES

FORCE_HELP = "use a label store made for another collection of the same size, re-binding it to this one"


def add_parsers(commands) -> None:
    """Register ``finetune`` on the main parser's ``commands``."""
    parser = commands.add_parser(
        "finetune",
        help="retrain a model on the human labels of a collection (a new model version)",
        description="Fine-tune a copy of a model on the labels a person gave (the label store's, else the "
        "file's; unsure and model-set labels left out). Before/after accuracy is estimated by stratified "
        "k-fold cross-validation (each fold fine-tuned from the same model), with bootstrap intervals; "
        "then one fit on all labels is saved as model.keras + model.json in the output folder.",
    )
    parser.add_argument("data", help="the labelled cutout collection (file or folder)")
    add_model_option(parser)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--store", help="label store file (default: the collection's store if it has one)")
    source.add_argument(
        "--labels-from-file", action="store_true", help="use the labels saved in DATA, not the label store's"
    )
    parser.add_argument(
        "--mode",
        choices=MODES,
        help="probe: logistic regression on frozen features, starting from the model's own output; "
        "head: dense layers only; full: head warm-up, "
        "then all layers at a low rate; scratch: a new network, published recipe "
        "(default: chosen for the label count)",
    )
    parser.add_argument(
        "--epochs", type=whole_number(1), help="epochs of each fit (default: the mode's recipe)"
    )
    parser.add_argument(
        "--folds", type=whole_number(2), help="folds of the cross-validated before/after (default 5)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the folds, the weights and augmentation")
    parser.add_argument("--force", action="store_true", help=FORCE_HELP)
    parser.add_argument(
        "-o", "--output", required=True, metavar="NEW_MODEL_DIR", help="new (or empty) folder for the model"
    )
    add_plain_adapter_options(parser)
    add_open_options(parser)
    parser.set_defaults(run=cmd_finetune)


def cmd_finetune(args) -> int:
    """Check everything, print the labels and the recipe, then load Keras and retrain."""
    from galview.io import open_collection
    from galview.ml.cards import card_path, load_card
    from galview.ml.finetune import default_recipe

    output = _empty_output(args.output)
    parent_path = model_path(args.model)
    parent_card = load_card(card_path(parent_path)) if card_path(parent_path).is_file() else None
    with open_collection(args.data, **open_options(args)) as collection:
        chosen, where = _human_labels(args, collection, parent_card)
        names, renamed = _class_names(parent_card, collection, chosen)
        print(f"labels: {chosen.summary(names)} ({where})")
        if renamed:
            print(renamed)
        recipe = default_recipe(
            len(chosen),
            args.mode,
            epochs=args.epochs,
            folds=args.folds,
            architecture=_architecture(parent_card),
        )
        recipe = _with_seed(recipe, args.seed)
        _check_folds(collection, chosen, recipe, names)
        print(f"recipe: {recipe.describe()}")
        print(f"why:    {recipe.why}")
        if args.bands is not None:
            band_indices(args.bands, collection.bands)  # a wrong name is refused before Keras loads
        result = _run(parent_path, collection, chosen, recipe, output, args)
    _print_result(result)
    if result.counts.get("unreadable"):
        print(f"warning: {result.counts['unreadable']}", file=sys.stderr)
    print(result.path.parent)
    return 0


def _empty_output(value):
    from galview.core.errors import UserFacingError
    from galview.core.outputs import output_folder

    output = output_folder(value, "the model")
    if output.is_dir() and any(output.iterdir()):
        raise UserFacingError(
            output, "folder is not empty; a retrained model goes into a new or empty folder"
        )
    return output


def _human_labels(args, collection, parent_card):
    """(TrainingLabels, where they came from): --labels-from-file, --store, else the store if it exists."""
    from galview.core.errors import UserFacingError

    chosen, where = chosen_human_labels(args, collection, parent_card)
    if not len(chosen):
        raise UserFacingError(collection.source, f"has no human labels ({where}); label some cutouts first")
    return chosen, where


def _class_names(card, collection, chosen) -> tuple[tuple[str, ...], str | None]:
    """The new model's class names and a note when they are not the starting model's: the
    collection's when it names as many classes differently, else the card's; without a card, the
    collection's (else 0, 1, …)."""
    from galview.core.label_values import class_names_for, retrained_class_names

    if card is None:
        return class_names_for(collection, chosen.labels), None
    return retrained_class_names(card.class_names, collection.class_names)


def _architecture(card) -> str:
    from galview.ml.architectures import ARCHITECTURES

    return card.architecture if card is not None and card.architecture in ARCHITECTURES else "deepshadows"


def _with_seed(recipe, seed: int):
    from dataclasses import replace

    return replace(recipe, seed=seed)


def _check_folds(collection, chosen, recipe, names) -> None:
    from galview.core.errors import UserFacingError

    if recipe.folds < 2:
        raise UserFacingError(collection.source, f"--folds must be at least 2, got {recipe.folds}")
    if len(chosen.counts) < 2:
        raise UserFacingError(collection.source, "retraining needs human labels of at least two classes")
    for k, n in chosen.counts.items():
        if n < recipe.folds:
            name = names[k] if 0 <= k < len(names) else k
            raise UserFacingError(
                collection.source,
                f"class {name!r} has {n} labels; {recipe.folds}-fold cross-validation needs at least "
                f"{recipe.folds} (label more, or use --folds {max(n, 2)})",
            )


def _run(parent_path, collection, chosen, recipe, output, args):
    """Load Keras and the model (with the adapter asked for, which the new model keeps), and retrain;
    progress on stderr."""
    from galview.core.progress import progress_printer
    from galview.ml.finetune import finetune
    from galview.ml.loading import load_model

    parent = plain_adapted(load_model(parent_path), collection, args)
    with progress_printer("finetune") as progress:
        return finetune(
            parent, collection, chosen.indices, chosen.labels, recipe,
            output=output, on_progress=progress, left_out=chosen.left_out,
        )  # fmt: skip


def _print_result(result) -> None:
    for name, metrics in (("before", result.before), ("after", result.after)):
        baseline = (
            f"  (by {metrics['baseline']}: the starting model tells other classes apart)"
            if metrics.get("baseline")
            else ""
        )
        print(f"{name:10s} {_metric_line(metrics)}{baseline}")
    d = result.difference
    low, high = d["ci95"]
    print(
        f"difference {100 * d['difference']:+.1f} points (95% CI {100 * low:+.1f} to {100 * high:+.1f}); "
        f"{count(d['n_better'], 'cutout')} right only after, {d['n_worse']} only before"
    )
    print(f"verdict    {result.verdict}")
    print(f"device     {result.device}, {result.seconds:.1f} s")


def _metric_line(metrics: dict) -> str:
    parts = []
    for key, title in (("accuracy", "accuracy"), ("roc_auc", "ROC AUC")):
        if key not in metrics:
            continue
        value = _number(metrics[key])
        low, high = (_number(v) for v in (metrics.get("ci95", {}).get(key) or (None, None)))
        shown = "undefined" if math.isnan(value) else f"{value:.3f}"
        interval = "" if math.isnan(low) else f" (95% CI {low:.3f}–{high:.3f})"
        parts.append(f"{title} {shown}{interval}")
    return "  ".join(parts)


def _number(value) -> float:
    return math.nan if value is None else float(value)

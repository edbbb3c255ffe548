"""``galview compare``: what two models disagree on in one collection, and which one the labels side with.

The headless form of the window's "Compare the active model with" (Model ▸ Retrained versions):
both models score the collection; stdout gets the cutouts that change class, the median change of
probability and, when the collection has human labels (the label store's, else the file's), how
many each model agrees with and how many of the changes move toward the labels. ``-o`` writes one
row per cutout, those that change class first.
"""

from __future__ import annotations

import sys

from galview.cli.common import (
    MODEL_HELP,
    add_model_option,
    add_open_options,
    add_plain_adapter_options,
    check_band_names,
    chosen_human_labels,
    model_path,
    open_options,
    ready_model,
    warn_unreadable,
)

COLUMNS = ("rank", "index", "id", "p_first", "p_second", "change", "changes_class", "label")


def add_parsers(commands) -> None:
    """Register ``compare`` on the main parser's ``commands``."""
    parser = commands.add_parser(
        "compare",
        help="compare two models on a collection (what changes class, which one your labels agree with)",
        description="Score a collection with two models (e.g. a retrained version and the model it "
        "started from) and report the cutouts whose predicted class differs, the change of probability, "
        "and both models against the human labels (the label store's, else the file's). A model judged "
        "on labels it learnt from looks better than it is (its card's held-out or cross-validated figures "
        "are the fair ones); the report says when this is the case.",
    )
    parser.add_argument("data", help="the cutout collection (file or folder)")
    add_model_option(parser, help_text="the first model: " + MODEL_HELP.removeprefix("model: "))
    parser.add_argument(
        "--with",
        dest="other",
        required=True,
        metavar="MODEL",
        help="the second model: a .keras file (its .json card beside it) or a model folder",
    )
    parser.add_argument("--store", help="label store file (default: the collection's store if it has one)")
    parser.add_argument(
        "--labels-from-file", action="store_true", help="use the labels saved in DATA, not the label store's"
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="CHANGES.csv",
        help="one row per cutout as .csv, those that change class first",
    )
    parser.add_argument("--batch-size", type=int, default=1024, help="cutouts per forward pass")
    add_plain_adapter_options(parser)
    add_open_options(parser)
    parser.set_defaults(run=cmd_compare)


def cmd_compare(args) -> int:
    """Check the inputs, score with both models, print the comparison, write the table if asked."""
    from galview.cli.scoring import check_batch_size
    from galview.core.errors import UserFacingError
    from galview.core.outputs import output_path
    from galview.core.retrain_compare import compare_scores
    from galview.io import open_collection

    check_batch_size(args.batch_size)
    first_path, second_path = model_path(args.model), model_path(args.other, default=False)
    if first_path.resolve() == second_path.resolve():
        raise UserFacingError(second_path, "is the first model too; expected two different models")
    output = output_path(args.output, (".csv",), "comparison") if args.output else None
    with open_collection(args.data, **open_options(args)) as collection:
        from galview.ml.loading import load_model

        check_band_names(args, collection)
        first, second = (ready_model(load_model(p), collection, args) for p in (first_path, second_path))
        if tuple(first.card.class_names) != tuple(second.card.class_names):
            raise UserFacingError(
                second_path,
                f"tells {', '.join(second.card.class_names)} apart; expected the first model's classes "
                f"({', '.join(first.card.class_names)})",
            )
        unreadable: dict[int, str] = {}
        before, after = (_scores(m, collection, args.batch_size, unreadable) for m in (first, second))
        warn_unreadable(unreadable, left_out_of="the comparison")
        comparison = compare_scores(before, after)
        labels = _labels(args, collection, first.card)
        _report(first, second, before, after, comparison, labels, collection)
        if output is not None:
            _write(output, collection, before, after, comparison, labels)
            print(output)
    return 0


def _scores(loaded, collection, batch_size, unreadable: dict):
    """``loaded``'s scores of every cutout; those it cannot read are left unscored and added to
    ``unreadable`` (index → why)."""
    import numpy as np

    from galview.core.model_names import model_name
    from galview.core.progress import progress_printer
    from galview.core.scores import Scores
    from galview.ml.scoring import score_batches

    scores = Scores.for_model(loaded, len(collection))
    with progress_printer(f"score  {model_name(loaded)}") as progress:
        for batch in score_batches(
            loaded, collection, batch_size, on_progress=progress, skip_unreadable=True
        ):
            scores.set_rows(np.arange(batch.start, batch.start + len(batch.probs)), batch.probs)
            unreadable.update({batch.start + position: why for position, why in batch.unreadable.items()})
    return scores


def _labels(args, collection, card):
    """The human labels (TrainingLabels: the store's, or the file's), or None when there are none."""
    chosen, _where = chosen_human_labels(args, collection, card)
    return chosen if len(chosen) else None


def _report(first, second, before, after, comparison, labels, collection) -> None:
    from galview.core.model_names import model_name
    from galview.core.retrain_compare import label_agreement
    from galview.core.training_labels import learnt_from

    print(f"first:  {model_name(first)}  {first.path}")
    print(f"second: {model_name(second)}  {second.path}")
    print(comparison.summary())
    if labels is None:
        print("no human labels: label some cutouts to see which model they agree with", file=sys.stderr)
        return
    agreement = label_agreement(before, after, labels.indices, labels.labels)
    learnt = tuple(learnt_from(m.card, collection, labels.indices) for m in (first, second))
    print(agreement.text(model_name(first), model_name(second), learnt))


def _write(output, collection, before, after, comparison, labels) -> None:
    import numpy as np

    from galview.io.writers import write_csv

    order = comparison.ranking().sort(np.arange(len(collection)))
    known = np.full(len(collection), -1, dtype=np.int64)
    if labels is not None:
        known[labels.indices] = labels.labels
    ids = collection.ids
    p_first, p_second = before.positive_prob(), after.positive_prob()
    rows = (
        (
            rank,
            int(i),
            ids[i],
            _number(p_first[i]),
            _number(p_second[i]),
            _number(comparison.change[i]),
            int(comparison.flipped[i]),
            before.class_names[known[i]] if known[i] >= 0 else "",
        )
        for rank, i in enumerate(order, start=1)
    )
    write_csv(output, COLUMNS, rows)


def _number(value) -> str:
    return "" if value != value else f"{float(value):.6g}"  # NaN (not scored) as an empty cell

"""``galview labels set | note | export | history | undo | redo | import | agree | queue | suspects | salvage``: labels from the shell.

Registered by :mod:`galview.cli`. Heavy modules (numpy, the readers, the store) are imported
inside the commands, and nothing here imports TensorFlow, so ``galview labels set`` starts fast.
Every command opens the collection's store (see :func:`~galview.io.label_store.open_label_store`)
or the one given with ``--store``; a store made for another collection of the same size is refused
unless ``--force`` re-binds it.
"""

from __future__ import annotations

import argparse
import sys

from galview.cli.common import (
    add_model_option,
    add_open_options,
    add_plain_adapter_options,
    check_band_names,
    model_path,
    open_options,
    ready_model,
)
from galview.cli.parsing import whole_number

FORCE_HELP = (
    "use a label store made for another collection of the same size, re-binding it to this one "
    "(recorded in its history)"
)


CLASSES_HELP = "class names in label order, comma-separated (default: the collection's own, else 0,1)"
EXPORT_SUFFIXES = (".csv", ".fits", ".fit", ".h5", ".hdf5")


def add_parsers(commands) -> None:
    """Register ``labels`` and its subcommands on the main parser's ``commands``."""
    labels = commands.add_parser(
        "labels",
        help="set, undo, export and review labels (the label store)",
        description="Labels from the shell, committed to the collection's label store (an SQLite file "
        "beside the data, or --store) with an append-only history.",
    )
    sub = labels.add_subparsers(dest="labels_command", required=True, metavar="COMMAND")
    labels.set_defaults(run=run_labels)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        parser = sub.add_parser(name, help=help_text, description=help_text[0].upper() + help_text[1:] + ".")
        parser.add_argument("data", help="the cutout collection (file or folder)")
        parser.add_argument("--store", help="label store file (default: beside the data, else user data dir)")
        parser.add_argument("--force", action="store_true", help=FORCE_HELP)
        add_open_options(parser)
        return parser

    set_ = command("set", "set one cutout's label; prints 'ok INDEX LABEL' once it is on disk")
    set_.add_argument("index", type=int, help="cutout index (0-based)")
    set_.add_argument("label", help="class index or name (0/artifact, 1/LSBG), u (unsure), none (clear)")
    set_.add_argument("--classes", help=CLASSES_HELP)
    note = command(
        "note",
        "write, clear or print one cutout's note (earlier versions are kept); prints 'ok INDEX note' once "
        "it is on disk",
    )
    note.add_argument("index", type=int, help="cutout index (0-based)")
    note.add_argument("text", nargs="?", help="the note; without it the cutout's note is printed")
    note.add_argument("--clear", action="store_true", help="clear the note (it stays in the history)")
    note.add_argument("--history", action="store_true", help="print every version: time, user, text")
    export = command("export", "write labels (and notes) to CSV, FITS or HDF5")
    export.add_argument("-o", "--output", required=True, help="file to write: .csv, .fits or .h5")
    export.add_argument(
        "--only",
        metavar="WHICH",
        help="only these cutouts (the window's Show box): a class (index or name), unsure, unlabelled, "
        "set (labelled in GalView), changed (from the file's label) or noted (with a note); default: every "
        "cutout",
    )
    export.add_argument("--classes", help=CLASSES_HELP)
    history = command("history", "print every label change, oldest first")
    history.add_argument("--index", type=int, help="only this cutout")
    history.add_argument("--classes", help=CLASSES_HELP)
    mine = "only your own actions (by login name), not the last of anyone's"
    command("undo", "undo the last label action (exit status 1 if there is none)").add_argument(
        "--mine", action="store_true", help=mine
    )
    command("redo", "redo the last undone action (exit status 1 if there is none)").add_argument(
        "--mine", action="store_true", help=mine
    )
    imported = command("import", "import labels from a CSV file (columns index or id, and label)")
    imported.add_argument("csv", help="CSV file")
    imported.add_argument("--classes", help=CLASSES_HELP)
    agree = command(
        "agree",
        "compare your labels with other inspectors': agreement (Cohen's kappa with one, Krippendorff's alpha "
        "with several), the confusion matrix and the cutouts you disagree on; no label changes",
    )
    agree.add_argument(
        "other",
        nargs="*",
        help="their label stores (the .labels.sqlite file beside their copy of the data; read from a copy, "
        "never changed) or CSV files (columns index or id, and label; a GalView export counts only the "
        "labels they set)",
    )
    agree.add_argument(
        "--by-user",
        action="store_true",
        help="instead of other files: the people who labelled this one store, each by their own labels (the "
        "last each set, in actions not undone), whatever the others set after them",
    )
    agree.add_argument("--classes", help=CLASSES_HELP)
    agree.add_argument(
        "-o",
        "--output",
        help="CSV file, a row per cutout anyone labelled, the most disputed first: index, id, mine, theirs "
        "(with several: theirs_1, theirs_2, …, majority, share; with --by-user: the user names), status",
    )
    agree.add_argument(
        "--consensus",
        metavar="OUT.csv",
        help="CSV file of the label the inspectors' majority gives each cutout (unsure where more said unsure; "
        "none on a tie): index, id, label, voters (who gave a class), unsure, share; 'galview labels import' "
        "takes it",
    )
    queue = command("queue", "print the review queue (the window's Q), or change it; no label changes")
    queue.add_argument("--add", type=int, nargs="+", metavar="INDEX", help="send these cutouts to the queue")
    queue.add_argument("--remove", type=int, nargs="+", metavar="INDEX", help="take these cutouts off it")
    queue.add_argument("--clear", action="store_true", help="empty the queue")
    salvage = sub.add_parser(
        "salvage",
        help="recover the readable labels of a damaged label store into a new one (the damaged file is kept)",
        description="Recover the readable labels of a damaged label store: GalView reads a copy of it by ranges "
        "of rows (and off its pages where SQLite cannot reach them), keeps every label whose cutout id matches "
        "the collection (a lost row's label comes from the cutout's history), builds a new store with them as one "
        "undoable action, writes the readable history to a CSV file, moves the damaged store aside unchanged "
        "(STORE.damaged-TIME) and puts the new one in its place. A store that reads without error is refused.",
    )
    salvage.add_argument("data", help="the cutout collection (file or folder)")
    salvage.add_argument("--store", help="the damaged label store (default: the collection's)")
    add_open_options(salvage)
    suspects = command("suspects", "rank labelled cutouts by how strongly a model disputes their label")
    add_model_option(suspects)
    add_plain_adapter_options(suspects)
    suspects.add_argument(
        "--method",
        choices=["head", "cnn"],
        default="head",
        help="head: k-fold logistic regression on the model's embeddings (fast); "
        "cnn: k-fold training of the model's architecture from scratch (slow, fully out-of-sample)",
    )
    suspects.add_argument(
        "--folds", type=whole_number(2), default=4, help="folds of the out-of-sample probabilities"
    )
    suspects.add_argument("--seed", type=int, default=0, help="seed of the folds")
    suspects.add_argument(
        "-o", "--output", required=True, help="CSV file: rank, index, id, label, score, flagged"
    )


def run_labels(args) -> int:
    """Run a ``galview labels`` subcommand; returns the exit status."""
    handlers = {
        "set": _cmd_set,
        "note": _cmd_note,
        "export": _cmd_export,
        "history": _cmd_history,
        "undo": _cmd_undo,
        "redo": _cmd_redo,
        "import": _cmd_import,
    }
    from galview.core.outputs import output_path
    from galview.io import open_collection
    from galview.io.label_store import open_label_store

    if args.labels_command == "queue":  # the review queue is kept apart from the label store
        with open_collection(args.data, **open_options(args)) as collection:
            return _cmd_queue(args, collection)
    if args.labels_command == "agree":  # reads both stores, creates neither
        for path, what in ((args.output, "agreement"), (args.consensus, "consensus")):
            if path:
                output_path(path, (".csv",), what)
        with open_collection(args.data, **open_options(args)) as collection:
            from galview.cli.agreement import run_agree

            return run_agree(args, collection, _classes)
    if args.labels_command == "salvage":  # the store cannot be opened: that is why it is salvaged
        with open_collection(args.data, **open_options(args)) as collection:
            return _cmd_salvage(args, collection)
    if args.labels_command == "export":
        output_path(args.output, EXPORT_SUFFIXES, "labels")
    elif args.labels_command == "suspects":
        output_path(args.output, (".csv",), "suspected label errors")
    with (
        open_collection(args.data, **open_options(args)) as collection,
        open_label_store(collection, args.store, force=args.force) as store,
    ):
        args.collection, args.store_labels = collection, store.effective()
        if args.labels_command == "suspects":
            return _cmd_suspects(args, store, collection)
        return handlers[args.labels_command](args, store)


def _cmd_set(args, store) -> int:
    from galview.core.errors import UserFacingError
    from galview.core.label_values import label_name, parse_label

    _check_index(args, store)
    if args.label.strip().lower() in ("none", "clear"):
        value = None
    else:
        try:
            value = parse_label(args.label, _classes(args))
        except ValueError as exc:
            raise UserFacingError(args.data, str(exc)) from None
    from galview.cli.label_history import CLI_SET

    store.set(args.index, value, description=CLI_SET)
    shown = "none" if value is None else label_name(value, _classes(args))
    print(f"ok {args.index} {shown}", flush=True)  # only after the commit
    return 0


def _cmd_note(args, store) -> int:
    """Write (TEXT), clear (--clear) or print a cutout's note; --history prints every version."""
    from datetime import UTC, datetime

    from galview.core.errors import UserFacingError

    _check_index(args, store)
    if args.clear and args.text is not None:
        raise UserFacingError(args.data, "give a note or --clear, not both")
    if args.clear or args.text is not None:
        try:
            store.set_note(args.index, "" if args.clear else args.text)
        except ValueError as exc:
            raise UserFacingError(args.data, f"the note was not saved: {exc}") from None
        print(f"ok {args.index} note{' cleared' if args.clear else ''}", flush=True)  # only after the commit
        return 0
    if args.history:
        for row in store.note_history(args.index):
            when = datetime.fromtimestamp(row["at"], UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
            print(f"{when}\t{row['user']}\t{row['text'] or '(cleared)'}")
        return 0
    print(store.note(args.index))
    return 0


def _check_index(args, store) -> None:
    """Refuse ``args.index`` unless it names a cutout of the collection."""
    from galview.core.errors import UserFacingError

    if not 0 <= args.index < store.n:
        raise UserFacingError(
            args.data,
            f"index {args.index} is out of range; the collection has {store.n} cutouts (0..{store.n - 1})",
        )


def _classes(args) -> tuple[str, ...]:
    """``--classes``, else the collection's own class names, else neutral 0, 1 (as in the window)."""
    if args.classes:
        return tuple(name.strip() for name in args.classes.split(",") if name.strip())
    from galview.core.label_values import class_names_for

    return class_names_for(args.collection, args.store_labels)


def _cmd_export(args, store) -> int:
    keep = None
    if args.only:
        from galview.core.label_filter import shown_by_labels

        show = _only(args)
        labels = store.effective(), store.current(), store.original_labels()
        keep = shown_by_labels(show, *labels, noted=store.notes() if show == "noted" else None)
    print(store.export(args.output, keep))
    return 0


def _only(args) -> str:
    """``--only`` as a show key of :mod:`galview.core.label_filter` (a class, unsure, unlabelled…)."""
    from galview.core.errors import UserFacingError
    from galview.core.label_filter import class_show
    from galview.core.label_values import UNSURE, parse_label

    text = args.only.strip().lower()
    if text in ("unlabelled", "unlabeled", "set", "changed", "noted"):
        return "unlabelled" if text.startswith("unlabel") else text
    try:
        value = parse_label(args.only, _classes(args))
    except ValueError as exc:
        raise UserFacingError(
            args.data, f"--only {args.only!r}: {exc}, unlabelled, set, changed or noted"
        ) from None
    return "unsure" if value == UNSURE else class_show(value)


def _cmd_history(args, store) -> int:
    """Label changes oldest first, under a header; without ``--index`` the store's re-bindings
    among them. Labels are named; "no label of the user's" shows the file's label."""
    from galview.cli.label_history import history_lines

    if args.index is not None:
        _check_index(args, store)
    for line in history_lines(store, args.index, _classes(args)):
        print(line)
    return 0


def _step(args, store, undo: bool) -> int:
    from galview.io.label_store import current_user

    user = current_user() if args.mine else None
    changed = store.undo(user=user) if undo else store.redo(user=user)
    word = ("undo" if undo else "redo") + (" of yours" if args.mine else "")
    if changed is None:
        print(f"galview: nothing to {word}", file=sys.stderr)
        return 1
    print(f"{'undone' if undo else 'redone'} {' '.join(str(i) for i in changed)}".rstrip())
    if not changed:
        print("galview: every cutout of that action was relabelled later; none changed", file=sys.stderr)
    return 0


def _cmd_undo(args, store) -> int:
    return _step(args, store, undo=True)


def _cmd_redo(args, store) -> int:
    return _step(args, store, undo=False)


def _cmd_queue(args, collection) -> int:
    from galview.core.collection import fingerprint
    from galview.core.errors import UserFacingError
    from galview.core.review_queue import ReviewQueue
    from galview.io.review_files import load_queue, save_queue

    n, key = len(collection), fingerprint(collection)
    asked = [*(args.add or []), *(args.remove or [])]
    wrong = [i for i in asked if not 0 <= i < n]
    if wrong:
        raise UserFacingError(args.data, f"index {wrong[0]} is out of range; the collection has {n} cutouts")
    queue = load_queue(key, n)
    changed = (ReviewQueue() if args.clear else queue).added(args.add or []).removed(args.remove or [])
    if changed != queue:
        save_queue(key, changed)
    ids = collection.ids
    print(f"review queue: {len(changed)} cutout{'' if len(changed) == 1 else 's'}")
    for position, index in enumerate(changed.indices):
        print(f"{position + 1}\t{index}\t{ids[index]}")
    return 0


def _cmd_salvage(args, collection) -> int:
    from galview.core.progress import progress_printer
    from galview.io.label_salvage import salvage_store

    with progress_printer("salvage") as progress:
        report = salvage_store(collection, args.store, on_progress=progress)
    for line in report.lines():
        print(line)
    return 0


def _cmd_import(args, store) -> int:
    changed = store.import_csv(args.csv, _classes(args))
    print(f"imported {len(changed)} label{'' if len(changed) == 1 else 's'}")
    return 0


def _cmd_suspects(args, store, collection) -> int:
    """Confident learning on out-of-sample probabilities; CSV most suspect first."""
    import csv
    import os
    from pathlib import Path

    import numpy as np

    from galview.core.progress import progress_printer
    from galview.core.words import count

    output = Path(args.output)
    model = model_path(args.model)
    check_band_names(args, collection)
    from galview.ml.loading import load_model
    from galview.ml.suspects import suspect_ranking

    loaded = ready_model(load_model(model), collection, args)
    labels = store.effective()
    with progress_printer(f"suspects ({args.method})") as progress:
        order, scores, flagged = suspect_ranking(
            collection,
            labels,
            method=args.method,
            loaded=loaded,
            folds=args.folds,
            seed=args.seed,
            on_progress=progress,
        )
    ids = store.ids()
    partial = output.with_name(output.name + ".partial")
    with open(partial, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["rank", "index", "id", "label", "score", "flagged"])
        for rank, index in enumerate(order, start=1):
            writer.writerow(
                [rank, index, ids[index], int(labels[index]), f"{scores[index]:.6f}", int(flagged[index])]
            )
    os.replace(partial, output)
    print(
        f"{int(flagged.sum())} of {len(order)} labelled cutouts flagged as suspected label errors",
        file=sys.stderr,
    )
    from galview.ml.suspects import usable_labels

    left_out = np.setdiff1d(np.flatnonzero(usable_labels(labels)), order)  # they could not be read
    if len(left_out):
        verb = "was" if len(left_out) == 1 else "were"
        print(
            f"warning: {count(len(left_out), 'labelled cutout')} could not be read and {verb} left out "
            f"(cutout {left_out[0]}: {ids[left_out[0]]})",
            file=sys.stderr,
        )
    print(output)
    return 0

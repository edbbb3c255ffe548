"""``galview labels set | export | history | undo | redo | import | suspects``: labels from the shell.

Registered by :mod:`galview.cli`. Heavy modules (numpy, the readers, the store) are imported
inside the commands, and nothing here imports TensorFlow, so ``galview labels set`` starts fast.
Every command opens the collection's store (see :func:`~galview.io.label_store.open_label_store`)
or the one given with ``--store``; a store made for another collection of the same size is refused
unless ``--force`` re-binds it.
"""

from __future__ import annotations

import argparse
import sys

from galview.cli.common import add_open_options, open_options

FORCE_HELP = (
    "use a label store made for another collection of the same size, re-binding it to this one "
    "(recorded in its history)"
)


def add_parsers(commands) -> None:
    """Register ``labels`` and its subcommands on the main parser's ``commands``."""
    labels = commands.add_parser("labels", help="set, undo, export and review labels (the label store)")
    sub = labels.add_subparsers(dest="labels_command", required=True)
    labels.set_defaults(run=run_labels)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        parser = sub.add_parser(name, help=help_text)
        parser.add_argument("data", help="the cutout collection")
        parser.add_argument("--store", help="label store file (default: beside the data, else user data dir)")
        parser.add_argument("--force", action="store_true", help=FORCE_HELP)
        add_open_options(parser)
        return parser

    set_ = command("set", "set one cutout's label; prints 'ok INDEX LABEL' once it is on disk")
    set_.add_argument("index", type=int)
    set_.add_argument("label", help="class index or name (0/artifact, 1/LSBG), u (unsure), none (clear)")
    set_.add_argument(
        "--classes", help="class names in label order, comma-separated (default: artifact,LSBG)"
    )
    export = command("export", "write labels to CSV, FITS or HDF5")
    export.add_argument("-o", "--output", required=True, help=".csv, .fits or .h5")
    history = command("history", "print every label change, oldest first")
    history.add_argument("--index", type=int, help="only this cutout")
    mine = "only your own actions (by login name), not the last of anyone's"
    command("undo", "undo the last label action (exit status 1 if there is none)").add_argument(
        "--mine", action="store_true", help=mine
    )
    command("redo", "redo the last undone action (exit status 1 if there is none)").add_argument(
        "--mine", action="store_true", help=mine
    )
    imported = command("import", "import labels from a CSV file (columns index or id, and label)")
    imported.add_argument("csv", help="CSV file")
    imported.add_argument(
        "--classes", help="class names in label order, comma-separated (default: artifact,LSBG)"
    )
    suspects = command("suspects", "rank labelled cutouts by how strongly a model disputes their label")
    suspects.add_argument("--model", help="model (.keras + card); default: the shipped model")
    suspects.add_argument(
        "--method",
        choices=["head", "cnn"],
        default="head",
        help="head: k-fold logistic regression on the model's embeddings (fast); "
        "cnn: k-fold training of the model's architecture from scratch (slow, fully out-of-sample)",
    )
    suspects.add_argument("--folds", type=int, default=4)
    suspects.add_argument("--seed", type=int, default=0)
    suspects.add_argument("-o", "--output", required=True, help="CSV: rank, index, id, label, score, flagged")


def run_labels(args) -> int:
    """Run a ``galview labels`` subcommand; returns the exit status."""
    handlers = {
        "set": _cmd_set,
        "export": _cmd_export,
        "history": _cmd_history,
        "undo": _cmd_undo,
        "redo": _cmd_redo,
        "import": _cmd_import,
    }
    from galview.io import open_collection
    from galview.io.label_store import open_label_store

    with (
        open_collection(args.data, **open_options(args)) as collection,
        open_label_store(collection, args.store, force=args.force) as store,
    ):
        if args.labels_command == "suspects":
            return _cmd_suspects(args, store, collection)
        return handlers[args.labels_command](args, store)


def _cmd_set(args, store) -> int:
    from galview.core.errors import UserFacingError
    from galview.core.label_values import parse_label

    if not 0 <= args.index < store.n:
        raise UserFacingError(
            args.data,
            f"index {args.index} is out of range; the collection has {store.n} cutouts (0..{store.n - 1})",
        )
    if args.label.strip().lower() in ("none", "clear"):
        value = None
    else:
        try:
            value = parse_label(args.label, _classes(args))
        except ValueError as exc:
            raise UserFacingError(args.data, str(exc)) from None
    store.set(args.index, value, description="galview labels set")
    print(f"ok {args.index} {'none' if value is None else value}", flush=True)  # only after the commit
    return 0


def _classes(args) -> tuple[str, ...]:
    from galview.core.label_values import DEFAULT_CLASSES

    if not args.classes:
        return DEFAULT_CLASSES
    return tuple(name.strip() for name in args.classes.split(",") if name.strip())


def _cmd_export(args, store) -> int:
    print(store.export(args.output))
    return 0


def _cmd_history(args, store) -> int:
    """Label changes oldest first; without ``--index`` the store's re-bindings among them."""
    from datetime import UTC, datetime

    rows = [(row["at"], 0, row) for row in store.history(args.index)]
    if args.index is None:
        rows += [(row["at"], 1, row) for row in store.rebindings()]
    for at, _, row in sorted(rows, key=lambda r: r[:2]):
        when = datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        print(f"{when}  {_rebinding_text(row) if 'after_action' in row else _change_text(row)}")
    return 0


def _change_text(row) -> str:
    old, new = (("none" if v is None else str(v)) for v in (row["old"], row["new"]))
    extra = "".join(
        f"  {name}={row[key]:{fmt}}" if fmt else f"  {name}={row[key]}"
        for name, key, fmt in (("model", "model_id", ""), ("p", "prob", ".3f"), ("s", "seconds", ".1f"))
        if row[key] is not None
    )
    return f"{row['idx']}  {row['cutout_id']}  {old} → {new}  {row['user']}  {row['kind']}{extra}"


def _rebinding_text(row) -> str:
    return (
        f"-  -  {row['old_source']} ({row['old_fingerprint']}) → {row['source']} ({row['fingerprint']})"
        f"  {row['user']}  rebind"
    )


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


def _cmd_import(args, store) -> int:
    changed = store.import_csv(args.csv, _classes(args))
    print(f"imported {len(changed)} label{'' if len(changed) == 1 else 's'}")
    return 0


def _cmd_suspects(args, store, collection) -> int:
    """Confident learning on out-of-sample probabilities; CSV most suspect first."""
    import csv
    import os
    from pathlib import Path

    from galview.assets import default_model_path
    from galview.core.progress import ProgressBar
    from galview.ml.loading import load_model
    from galview.ml.suspects import suspect_ranking

    output = Path(args.output)
    loaded = load_model(args.model or default_model_path())
    labels = store.effective()
    bar = None

    def progress(p):
        nonlocal bar
        bar = bar or ProgressBar(p.total, f"suspects ({args.method})")
        bar.update(p.done - bar.done)

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
    with open(partial, "w", newline="") as handle:
        writer = csv.writer(handle)
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
    print(output)
    return 0

"""``galview labels agree``: your labels against other inspectors', or the people of one store compared.

The inspectors are you and the other people's files, or, with ``--by-user``, each person who labelled
one shared store (their own labels: the replay of their actions still done). With two: the share of
agreement, Cohen's kappa with its interval, the confusion matrix and the disagreements. With more: each
against the first (you), Cohen's kappa of every pair, and Krippendorff's alpha of them all
(:mod:`galview.core.consensus`). ``-o`` writes a row per cutout anyone labelled, the most disputed first;
``--consensus`` the majority labels, in the form ``galview labels import`` takes. Nothing is written to any
label store.
"""

from __future__ import annotations

import numpy as np

from galview.core.agreement import Agreement, estimate_text, inspector_names
from galview.core.consensus import Consensus
from galview.core.errors import UserFacingError
from galview.core.label_values import is_missing, label_name
from galview.core.words import count
from galview.io.writers import write_csv

#: Disagreements printed (``-o`` writes them all).
PRINTED = 20


def run_agree(args, collection, class_names) -> int:
    """Run the command; ``class_names(args)`` gives the classes once ``args`` knows the collection."""
    from galview.io.label_store import has_label_store, open_label_store

    if not has_label_store(collection, args.store):
        raise UserFacingError(
            args.store or args.data,
            "has no label store yet: label some cutouts (or pass --store) before comparing",
        )
    if bool(args.other) == bool(args.by_user):
        raise UserFacingError(
            args.data,
            "compare with other inspectors' files, or the people of one store with --by-user (one of them)",
        )
    with open_label_store(collection, args.store, force=args.force) as store:
        args.collection, args.store_labels = collection, store.effective()
        classes = class_names(args)
        names, labels, described, notes = (
            _users(store) if args.by_user else _files(args, collection, store, classes)
        )
        ids = store.ids()
    print(
        "; ".join(
            f"{who}: {count(Agreement.labelled(values), 'cutout')} labelled"
            for who, values in zip(described, labels, strict=True)
        )
    )
    team = Consensus(names, np.vstack(labels), classes)
    if len(names) == 2:
        agreement = Agreement(labels[0], labels[1], classes)
        _print_pair(agreement, names, ids)
        if args.output:
            _write_pair(args.output, agreement, ids, _columns(names), notes)
    else:
        _print_team(team, ids)
        if args.output:
            _write_team(args.output, team, ids, _columns(names), notes)
    if args.consensus:
        written = _write_consensus(args.consensus, team, ids)
        print(f"{count(written, 'majority label')} written to {args.consensus}")
    if args.output:
        print(args.output)
    return 0


def _files(args, collection, store, classes):
    """(names, labels, descriptions, notes): you, then each other inspector's file; ``notes``: cutout →
    the other inspectors' notes on it ("bob.sqlite: ghost?; carol.csv: …")."""
    from galview.io.label_store import store_path_for
    from galview.io.other_labels import person_labels, read_other_labels

    own = args.store or store_path_for(collection.source, make_folders=False)
    others = [read_other_labels(path, collection, classes, own_store=own) for path in args.other]
    names = ["you", *inspector_names(other.path for other in others)]
    labels = [person_labels(store), *[other.values for other in others]]
    notes: dict[int, str] = {}
    for name, other in zip(names[1:], others, strict=True):
        for index, note in other.notes.items():
            notes[index] = f"{notes[index]}; {name}: {note}" if index in notes else f"{name}: {note}"
    return names, labels, ["you", *[other.description for other in others]], notes


def _users(store):
    """(names, labels, descriptions, notes): each person who labelled the store (not a model), their own
    labels; no notes (the store's are one per cutout, whoever wrote them)."""
    from galview.io.other_labels import store_people

    people = store_people(store)
    if len(people) < 2:
        who = f"only {people[0].person} has" if people else "nobody has"
        raise UserFacingError(store.path, f"{who} labels in it: --by-user needs two people or more")
    names = [person.person for person in people]
    return names, [person.values for person in people], names, None


def label_text(value, classes) -> str:
    """A label for a table: the class name, ``unsure``, or empty for none."""
    return "" if is_missing(value) else label_name(value, classes)


def _print_pair(agreement: Agreement, names, ids) -> None:
    first, name = names
    print(agreement.summary(name, first))
    print(
        f"one unsure, the other a class: {int(agreement.one_unsure.sum()):,}; both unsure: "
        f"{agreement.both_unsure:,}; only {first}: {agreement.only_mine:,}; only {name}: {agreement.only_theirs:,}"
    )
    if agreement.n_both:
        print("\n".join(agreement.table_lines(name, first)))
    shown = agreement.disagreements[:PRINTED]
    if len(shown):
        them = "you them" if first == "you" else f"{first} {name}"
        print(f"disagreements ({len(agreement.disagreements):,}; index id {them}):")
        for index in shown:
            mine, theirs = (
                label_text(v, agreement.classes) for v in (agreement.mine[index], agreement.theirs[index])
            )
            print(f"  {index} {ids[index]} {mine} {theirs}")
        if len(agreement.disagreements) > len(shown):
            print(f"  … and {len(agreement.disagreements) - len(shown):,} more (-o writes them all)")


def _print_team(team: Consensus, ids) -> None:
    labels, names, classes = team.labels, team.names, team.classes
    for k, name in enumerate(names[1:], start=1):
        print(Agreement(labels[0], labels[k], classes).summary(name, names[0]))
    print("Cohen's κ of each pair (cutouts both gave a class):")
    width = max(len(name) for name in names) + 2
    print(" " * width + "".join(name.rjust(width) for name in names))
    for i, row_name in enumerate(names):
        cells = []
        for j in range(len(names)):
            pair = Agreement(labels[i], labels[j], classes)
            cells.append(
                "" if i == j else ("—" if np.isnan(pair.kappa) else f"{pair.kappa:.2f} ({pair.n_both:,})")
            )
        print(row_name.ljust(width) + "".join(cell.rjust(width) for cell in cells))
    alpha = estimate_text(team.alpha, team.alpha_interval())
    split = np.flatnonzero(team.split)
    print(
        f"Krippendorff's α of all {len(names)}: {alpha} over {count(team.pairable, 'cutout')} given a class by two "
        f"or more; {count(len(split), 'cutout')} with split votes"
    )
    disputed = [i for i in team.order() if team.split[i]][:PRINTED]
    if disputed:
        print("split votes (index id: " + ", ".join(names) + "):")
        for index in disputed:
            print(
                f"  {index} {ids[index]}: "
                + ", ".join(label_text(v, classes) or "—" for v in labels[:, index])
            )
        if len(split) > len(disputed):
            print(f"  … and {len(split) - len(disputed):,} more (-o writes them all)")


def _columns(names) -> list[str]:
    """The label columns of ``-o``: ``mine``, ``theirs`` (``theirs_1``, ``theirs_2``… with several files), or,
    for the people of one store (``--by-user``), their user names."""
    if names[0] != "you":
        return list(names)
    return ["mine", "theirs"] if len(names) == 2 else ["mine", *[f"theirs_{k}" for k in range(1, len(names))]]


def _write_pair(output, agreement: Agreement, ids, columns, notes) -> None:
    either = np.flatnonzero(np.isfinite(agreement.mine) | np.isfinite(agreement.theirs))
    order = agreement.ranking("them").sort(either)  # one side only: unranked, last
    rows = (
        [int(i), ids[i], label_text(agreement.mine[i], agreement.classes),
         label_text(agreement.theirs[i], agreement.classes), agreement.status_of(i).replace(" ", "_")]
        for i in order
    )  # fmt: skip
    write_csv(output, *_with_notes(["index", "id", *columns, "status"], rows, notes))


def _write_team(output, team: Consensus, ids, columns, notes) -> None:
    classes, share, majority, statuses = team.classes, team.share, team.majority, team.statuses()
    rows = (
        [int(i), ids[i], *(label_text(v, classes) for v in team.labels[:, i]), label_text(majority[i], classes),
         "" if np.isnan(share[i]) else f"{share[i]:.3f}", statuses[i]]
        for i in team.order()
    )  # fmt: skip
    write_csv(output, *_with_notes(["index", "id", *columns, "majority", "share", "status"], rows, notes))
    renamed = [(column, name) for column, name in zip(columns, team.names, strict=True) if column != name]
    if len(renamed) > 1:  # mine = you needs no saying
        print("columns: " + ", ".join(f"{column} = {name}" for column, name in renamed[1:]))


def _with_notes(header, rows, notes):
    """(header, rows) with a last column ``their_notes`` (the other inspectors' notes on each row's cutout)
    when comparing files; as they are for the people of one store (``notes`` None)."""
    if notes is None:
        return header, rows
    return [*header, "their_notes"], ([*row, notes.get(row[0], "")] for row in rows)


def _write_consensus(output, team: Consensus, ids) -> int:
    adopted, voters, unsure, share = team.adopted, team.voters, team.unsure, team.share
    chosen = np.flatnonzero(np.isfinite(adopted))
    rows = (
        [int(i), ids[i], label_name(adopted[i], team.classes), int(voters[i]), int(unsure[i]),
         "" if np.isnan(share[i]) else f"{share[i]:.3f}"]
        for i in chosen
    )  # fmt: skip
    write_csv(output, ["index", "id", "label", "voters", "unsure", "share"], rows)
    return len(chosen)

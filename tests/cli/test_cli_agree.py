"""``galview labels agree``: your labels against another inspector's store or CSV file, on the real DES
cutouts: the figures, the confusion matrix, the disagreements, the CSV; nothing of theirs changed."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from galview.cli import main
from galview.io import open_collection
from galview.io.label_store import open_label_store


@pytest.fixture
def data(named_des) -> Path:
    """The real DES cutouts with their classes named (tests/cli/conftest.py)."""
    return named_des


def label(data: Path, store, labels: dict[int, int], user: str) -> None:
    with open_collection(data) as collection, open_label_store(collection, store) as opened:
        for index, value in labels.items():
            opened.set([index], value, user=user)


def run(capsys, *args) -> tuple[int, str, str]:
    code = main(["labels", "agree", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_two_inspectors_of_the_real_cutouts_are_compared(data, tmp_path, capsys):
    rng = np.random.default_rng(5)
    mine = {int(i): int(v) for i, v in zip(range(0, 80), rng.integers(0, 2, 80), strict=True)}
    theirs = {i: (1 - v if i % 7 == 0 else v) for i, v in mine.items() if i >= 10}  # 10 only mine
    theirs |= {100: 1, 101: 0}  # only theirs
    mine[5] = -1  # unsure: not counted in kappa (5 is only mine anyway)
    label(data, None, mine, "alice")
    bob = tmp_path / "bob" / "bob.sqlite"
    bob.parent.mkdir()
    label(data, bob, theirs, "bob")
    with open_collection(data) as collection, open_label_store(collection, bob) as opened:
        opened.set_note(14, "ghost of the star to the NE?", user="bob")  # 14 % 7 == 0: a disagreement
        opened.set_note(100, "faint, check DR10", user="bob")
    before = hashlib.sha256(bob.read_bytes()).hexdigest()
    code, out, err = run(capsys, data, bob, "-o", tmp_path / "agree.csv")
    assert code == 0 and err == ""
    both = sorted(set(mine) & set(theirs))
    a, b = np.array([mine[i] for i in both]), np.array([theirs[i] for i in both])
    kappa = cohen_kappa_score(a, b)
    disagree = [i for i in both if mine[i] != theirs[i]]
    lines = out.splitlines()
    assert lines[0] == "you: 80 cutouts labelled; bob.sqlite (labelled by bob): 72 cutouts labelled"
    assert lines[1].startswith(
        f"70 cutouts given a class by both you and bob.sqlite: agree on {70 - len(disagree)} "
        f"({100 * (70 - len(disagree)) / 70:.1f}%), Cohen's κ {kappa:.2f} ["
    )
    assert lines[2] == "one unsure, the other a class: 0; both unsure: 0; only you: 10; only bob.sqlite: 2"
    assert lines[4].split() == ["artifact", "LSBG"]
    assert f"disagreements ({len(disagree)}; index id you them):" in out
    assert out.rstrip().endswith(str(tmp_path / "agree.csv"))
    assert hashlib.sha256(bob.read_bytes()).hexdigest() == before
    with open(tmp_path / "agree.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["index"]) for r in rows[: len(disagree)]] == disagree  # disagreements first
    assert {r["status"] for r in rows[: len(disagree)]} == {"disagree"}
    assert len(rows) == 82 and {r["status"] for r in rows[-12:]} == {"only_mine", "only_theirs"}
    notes = {int(r["index"]): r["their_notes"] for r in rows if r["their_notes"]}
    assert notes == {14: "bob.sqlite: ghost of the star to the NE?", 100: "bob.sqlite: faint, check DR10"}
    first = rows[0]
    assert first["mine"] == ("LSBG" if mine[disagree[0]] else "artifact") and first["id"]


def test_without_labels_of_ones_own_or_with_a_bad_file_it_says_why(data, tmp_path, capsys):
    (tmp_path / "bob.csv").write_text("index,label\n1,LSBG\n")
    code, out, err = run(capsys, data, tmp_path / "bob.csv")
    assert code == 2 and "has no label store yet: label some cutouts" in err and out == ""
    label(data, None, {1: 1}, "alice")
    (tmp_path / "bad.csv").write_text("index,label\n1,spiral\n")
    code, _, err = run(capsys, data, tmp_path / "bad.csv")
    assert code == 2 and err.startswith(
        f"galview: error: {tmp_path / 'bad.csv'}: line 2: 'spiral' is not a label"
    )
    code, out, _ = run(capsys, data, tmp_path / "bob.csv")
    assert code == 0 and out.startswith(
        "you: 1 cutout labelled; bob.csv: 1 cutout labelled\n1 cutout given a class by both you and bob.csv: agree on 1 (100.0%)"
    )


def test_a_team_of_three_gets_kappa_for_each_pair_alpha_and_a_consensus_to_import(data, tmp_path, capsys):
    from galview.core.consensus import Consensus

    rng = np.random.default_rng(8)
    truth = rng.integers(0, 2, 60)
    people = {}
    for name, seed in (("alice", 1), ("bob", 2), ("carol", 3)):
        noisy = np.where(np.random.default_rng(seed).random(60) < 0.15, 1 - truth, truth)
        people[name] = {int(i): int(noisy[i]) for i in range(60) if (i + seed) % 5}  # each skips a fifth
    label(data, None, people["alice"], "alice")
    stores = []
    for name in ("bob", "carol"):
        (tmp_path / name).mkdir()
        stores.append(
            tmp_path / name / "des_lsbg_dev.npz.labels.sqlite"
        )  # the same file name: told apart by folder
        label(data, stores[-1], people[name], name)
    code, out, err = run(
        capsys, data, *stores, "-o", tmp_path / "team.csv", "--consensus", tmp_path / "cons.csv"
    )
    assert code == 0 and err == ""
    matrix = np.full((3, 112), np.nan)
    for k, name in enumerate(("alice", "bob", "carol")):
        for index, value in people[name].items():
            matrix[k, index] = value
    names = ("bob/des_lsbg_dev.npz.labels.sqlite", "carol/des_lsbg_dev.npz.labels.sqlite")
    team = Consensus(("you", *names), matrix, ("artifact", "LSBG"))
    assert f"Krippendorff's α of all 3: {team.alpha:.2f} [" in out
    assert (
        f"over {team.pairable} cutouts given a class by two or more; {int(team.split.sum())} cutouts with split votes"
        in out
    )
    assert out.count("Cohen's κ") == 3  # you against each, then the pairs' table
    assert f"columns: theirs_1 = {names[0]}, theirs_2 = {names[1]}" in out
    with open(tmp_path / "team.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == [
        "index", "id", "mine", "theirs_1", "theirs_2", "majority", "share", "status", "their_notes"
    ]  # fmt: skip
    split = [int(r["index"]) for r in rows if r["status"] == "split"]
    assert split == [int(r["index"]) for r in rows[: len(split)]] and len(split) == int(team.split.sum())
    with open(tmp_path / "cons.csv", newline="") as handle:
        consensus = {int(r["index"]): r["label"] for r in csv.DictReader(handle)}
    adopted = team.adopted
    assert consensus == {
        int(i): ("LSBG" if adopted[i] == 1 else "artifact") for i in np.flatnonzero(np.isfinite(adopted))
    }
    assert (
        main(
            [
                "labels",
                "import",
                str(data),
                str(tmp_path / "cons.csv"),
                "--store",
                str(tmp_path / "team.sqlite"),
            ]
        )
        == 0
    )


def test_the_people_of_one_shared_store_are_compared_by_their_own_labels(data, capsys):
    label(data, None, {1: 1, 2: 1, 3: 0, 4: 1}, "alice")
    label(data, None, {2: 0, 3: 0, 5: 1}, "bob")  # bob relabels 2 and 3 after alice, in the same store
    with open_collection(data) as collection, open_label_store(collection) as store:
        store.set([5], 0, user="bob")
        store.undo(user="bob")  # undone: bob's label of 5 is his first, 1
        store.set([4], 0, user="model:v7")  # a model is nobody
    code, out, err = run(capsys, data, "--by-user")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == "alice: 4 cutouts labelled; bob: 3 cutouts labelled"
    assert lines[1].startswith("2 cutouts given a class by both alice and bob: agree on 1 (50.0%), Cohen's κ")
    assert "only alice: 2; only bob: 1" in lines[2]
    assert "disagreements (1; index id alice bob):" in out and "  2 2 LSBG artifact" in out
    code, _, _ = run(capsys, data, "--by-user", "-o", data.parent / "people.csv")
    with open(data.parent / "people.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["index", "id", "alice", "bob", "status"] and rows[0]["index"] == "2"
    assert {int(r["index"]): (r["alice"], r["bob"]) for r in rows}[5] == (
        "",
        "LSBG",
    )  # bob's undone word gone
    code, _, err = run(capsys, data, "x.csv", "--by-user")
    assert code == 2 and "one of them" in err


def test_by_user_needs_two_people(data, capsys):
    label(data, None, {1: 1}, "alice")
    code, _, err = run(capsys, data, "--by-user")
    assert code == 2 and "only alice has labels in it: --by-user needs two people or more" in err

"""Model versions (atomic writes, deletion only inside the versions folder), the human labels a
retraining uses, and the paired bootstrap behind its verdict."""

from __future__ import annotations

import numpy as np
import pytest

from galview.core.label_values import UNSURE
from galview.core.training_labels import human_labels, labels_record, model_user
from galview.io import open_collection
from galview.io.label_store import open_label_store
from galview.ml.cards import ModelCard
from galview.ml.errors import ModelError
from galview.ml.finetune_report import verdict
from galview.ml.metrics import paired_accuracy_difference
from galview.ml.versions import delete_version, list_versions, new_version_dir, versions_dir, write_version
from tests.ml.tiny_models import blobs, save_tiny_model, tiny_network


@pytest.fixture
def collection(tmp_path):
    return open_collection(blobs(tmp_path / "blobs.npz", n=20))


def test_human_labels_leave_out_unsure_model_set_and_unlabelled(collection):
    with open_label_store(collection) as store:
        store.set([0, 1], UNSURE, user="ana")
        store.set([2, 3, 4], 1, user=model_user("abc123"), model_id="abc123")  # accepted suggestions
        store.set([5], 1, user="ana", model_id="abc123")  # a person, while a model was active: human
        store.set([6], None, user="ana")
        chosen = human_labels(collection, store)
    assert chosen.left_out == {"unsure": 2, "set by a model": 3, "unlabelled": 0}
    assert not set(chosen.indices) & {0, 1, 2, 3, 4}
    assert 5 in chosen.indices and chosen.labels[list(chosen.indices).index(5)] == 1
    assert len(chosen) == 15 and sum(chosen.counts.values()) == 15
    assert chosen.summary(("artifact", "LSBG")).startswith("15 human labels: ")
    assert "2 unsure, 3 set by a model left out" in chosen.summary(("artifact", "LSBG"))


def test_undo_back_to_a_persons_label_counts_it_again(collection):
    with open_label_store(collection) as store:
        store.set([3], 0, user="ana")
        store.set([3], 1, user=model_user("m"))
        assert 3 not in human_labels(collection, store).indices
        store.undo()
        chosen = human_labels(collection, store)
    assert 3 in chosen.indices and chosen.left_out["set by a model"] == 0


def test_file_labels_alone_and_changes_since_the_parent(collection):
    chosen = human_labels(collection)
    assert len(chosen) == 20 and chosen.changed_since is None
    card = ModelCard("tiny", "binary", ("a", "b"), None, None)
    card.training["labels_used"] = labels_record(chosen.indices[:18], chosen.labels[:18])
    flipped = chosen.labels.copy()
    flipped[0] = 1 - flipped[0]
    card.training["labels_used"]["labels"][0] = int(flipped[0])
    assert human_labels(collection, parent_card=card).changed_since == 3  # 1 changed, 2 new


def test_paired_difference_supports_only_what_the_interval_shows():
    y = np.array([0, 1] * 50)
    same = paired_accuracy_difference(y, y, y)
    assert same["difference"] == 0 and not same["supported"]
    slightly = y.copy()
    slightly[:2] = 1 - slightly[:2]  # 2 of 100 worse: not enough to tell
    small = paired_accuracy_difference(y, y, slightly)
    assert small["ci95"][0] < 0 <= small["ci95"][1] or small["ci95"][1] == 0
    assert not small["supported"]
    assert "No difference the labels can show" in verdict(small, 5) and "Better" not in verdict(small, 5)
    wrong = 1 - y
    big = paired_accuracy_difference(y, wrong, y)
    assert big["supported"] and big["difference"] == 1.0 and verdict(big, 5).startswith("Better")
    assert verdict(paired_accuracy_difference(y, y, wrong), 5).startswith("Worse")


def test_versions_are_written_atomically_listed_and_deleted(tmp_path, monkeypatch):
    loaded = save_tiny_model(tmp_path / "p.keras")
    folder = new_version_dir("p.keras")
    assert folder.parent == versions_dir() and not folder.exists() and folder.name.startswith("p-")
    path = write_version(loaded.model, loaded.card, folder, labels=([1, 2], [0, 1]))
    assert path == folder / "model.keras" and new_version_dir("p") != folder
    assert [v.path for v in list_versions()] == [path]
    with pytest.raises(ModelError, match="not empty"):
        write_version(loaded.model, loaded.card, folder)

    import galview.ml.loading

    def broken(model, card, where):
        where.write_bytes(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(galview.ml.loading, "save_model", broken)
    with pytest.raises(OSError):
        write_version(tiny_network(), loaded.card, versions_dir() / "second")
    assert sorted(p.name for p in versions_dir().iterdir()) == [folder.name]  # no partial folder left
    delete_version(path)
    assert list_versions() == [] and not folder.exists()


def test_delete_refuses_anything_outside_the_versions_folder(tmp_path):
    from galview.assets import shipped_models

    elsewhere = save_tiny_model(tmp_path / "model.keras")
    for target in (elsewhere.path, tmp_path, versions_dir(), shipped_models()[0], versions_dir().parent):
        with pytest.raises(ModelError, match="not a model version|shipped"):
            delete_version(target)
    assert elsewhere.path.is_file() and shipped_models()[0].is_file()
    link = versions_dir() / "link"
    link.symlink_to(tmp_path, target_is_directory=True)
    with pytest.raises(ModelError, match="not a model version"):
        delete_version(link)
    assert (tmp_path / "model.keras").is_file()

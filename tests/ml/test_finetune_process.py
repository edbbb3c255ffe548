"""Retraining in a child process (issue 12): same result and errors as in a thread; cancel, a killed
child and a collection changed on disk write nothing; collections built in memory stay in the thread."""

from __future__ import annotations

import multiprocessing
import os
from dataclasses import replace

import numpy as np
import pytest

from galview.core.errors import CollectionError
from galview.core.jobs import Cancelled, CancelToken
from galview.io import open_collection
from galview.ml import finetune as finetune_module
from galview.ml.errors import TrainingFailed
from galview.ml.finetune import FitEvent, default_recipe
from galview.ml.finetune_process import finetune_in_process
from galview.ml.loading import load_model
from galview.ml.versions import list_versions, versions_dir
from tests.ml.tiny_models import blobs, file_hash, save_tiny_model


@pytest.fixture
def setup(tmp_path):
    parent = save_tiny_model(tmp_path / "parent.keras")
    collection = open_collection(blobs(tmp_path / "blobs.npz"))
    labels = np.asarray(collection.labels, dtype=np.int64)
    return parent, collection, np.arange(len(collection)), labels


@pytest.fixture
def no_training_here(monkeypatch):
    """Training in this process fails the test: it must happen in the child."""

    def refuse(*args, **kwargs):
        raise AssertionError("trained in the calling process")

    monkeypatch.setattr(finetune_module, "finetune", refuse)


def _recipe(epochs=2):
    return replace(default_recipe(40, "head", epochs=epochs, folds=2), batch_size=8)


def _nothing_written(parent, before_hash):
    assert file_hash(parent.path) == before_hash
    assert list_versions() == []
    assert not versions_dir().exists() or not any(versions_dir().iterdir())


def test_retrains_in_a_child_with_live_progress(setup, no_training_here):
    parent, collection, indices, labels = setup
    events = []
    result = finetune_in_process(
        parent, collection, indices, labels, _recipe(), on_progress=lambda p: events.append(p)
    )
    batches = [p.payload for p in events if isinstance(p.payload, FitEvent) and p.payload.kind == "batch"]
    assert batches and batches[0].stage == "fold 1/2" and "loss" in batches[0].values
    assert events[-1].done == events[-1].total and events[0].unit == "batches"
    assert result.recipe == _recipe() and result.counts["per_class"] == {0: 20, 1: 20}
    assert result.card.training["mode"] == "head" and result.card.parent == str(parent.path)
    assert [v.path for v in list_versions()] == [result.path]
    assert np.isfinite(result.after["accuracy"]) and result.verdict
    loaded = load_model(result.path)
    assert loaded.model.predict(np.zeros((1, 16, 16, 3)), verbose=0).shape == (1, 1)


def test_cancel_stops_the_child_and_writes_nothing(setup):
    parent, collection, indices, labels = setup
    before_hash, token, seen = file_hash(parent.path), CancelToken(), []

    def progress(p):
        if isinstance(p.payload, FitEvent) and p.payload.kind == "batch":
            seen.append(p.payload)
            token.cancel()

    with pytest.raises(Cancelled):
        finetune_in_process(
            parent, collection, indices, labels, _recipe(200), on_progress=progress, cancel=token
        )
    assert multiprocessing.active_children() == []
    assert len(seen) < 10  # it stopped after a batch or two, not at the end of 200 epochs
    _nothing_written(parent, before_hash)


def test_a_killed_child_is_reported_and_writes_nothing(setup):
    parent, collection, indices, labels = setup
    before_hash = file_hash(parent.path)

    def kill_the_child(p):
        for child in multiprocessing.active_children():
            os.kill(child.pid, 9)

    with pytest.raises(TrainingFailed, match="ended unexpectedly \\(killed by signal 9\\)"):
        finetune_in_process(parent, collection, indices, labels, _recipe(200), on_progress=kill_the_child)
    _nothing_written(parent, before_hash)


def test_errors_in_the_child_keep_their_kind(setup, tmp_path):
    parent, collection, indices, labels = setup
    with pytest.raises(TrainingFailed, match="loss became NaN"):
        recipe = replace(default_recipe(40, "full", epochs=2, folds=2), batch_size=8, learning_rate=1e30)
        finetune_in_process(parent, collection, indices, labels, recipe)
    np.savez(tmp_path / "blobs.npz", images=np.zeros((40, 16, 16, 3), np.uint8), labels=labels)
    with pytest.raises(CollectionError, match="blobs.npz: changed on disk since it was opened"):
        finetune_in_process(parent, collection, indices, labels, _recipe())
    assert list_versions() == []


def test_a_collection_built_in_memory_is_retrained_in_the_thread(setup, monkeypatch):
    parent, collection, indices, labels = setup
    collection.opened_with = None
    called = []
    monkeypatch.setattr(finetune_module, "finetune", lambda *a, **k: called.append(a) or "thread")
    assert finetune_in_process(parent, collection, indices, labels, _recipe()) == "thread"
    assert called


def test_a_program_without_a_main_guard_retrains_in_the_thread(setup, monkeypatch):
    """The child would import the program's main module again: a script that opens the window without an
    ``if __name__ == "__main__":`` guard would open a second window there."""
    import galview.core.spawning as spawning

    parent, collection, indices, labels = setup
    called = []
    monkeypatch.setattr(finetune_module, "finetune", lambda *a, **k: called.append(a) or "thread")
    monkeypatch.setattr(spawning, "spawn_is_safe", lambda: False)
    assert finetune_in_process(parent, collection, indices, labels, _recipe()) == "thread" and called


def test_an_adapter_accepted_in_the_window_travels_to_the_child(setup, tmp_path, no_training_here):
    """The parent carries an adapter that is not in its file (accepted in the window for cutouts twice
    its size): the child retrains through it, and the version keeps it."""
    from galview.ml.scoring import with_adapter

    parent, collection, indices, labels = setup
    images = collection.get_batch(indices)
    large = tmp_path / "large.npz"
    np.savez(large, images=images.repeat(2, axis=1).repeat(2, axis=2), labels=labels)
    large_collection = open_collection(large)
    adapted = with_adapter(parent, large_collection, resize=True)
    result = finetune_in_process(adapted, large_collection, indices, labels, _recipe(epochs=1))
    assert load_model(result.path).card.input.adapter == {"from": {"shape": [32, 32, 3]}, "resize": [16, 16]}
    assert parent.card.input.adapter is None

"""Retraining (issue 12): every mode writes a loadable version; cancel, NaN and errors write nothing
and leave the parent byte-identical; the verdict never claims what the interval does not support."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from galview.core.jobs import Cancelled, CancelToken
from galview.io import open_collection
from galview.ml import architectures
from galview.ml.errors import TrainingFailed
from galview.ml.finetune import MODES, FitEvent, default_recipe, finetune
from galview.ml.loading import load_model
from galview.ml.versions import list_versions, versions_dir
from tests.ml.tiny_models import TINY_SPEC, blob_pngs, blobs, file_hash, save_tiny_model

REPO = Path(__file__).resolve().parents[2]
# Eager functions (see eager_tensorflow) do not apply to tf.data, which TensorFlow says once per dataset.
pytestmark = pytest.mark.filterwarnings("ignore:Even though the `tf.config.experimental_run:UserWarning")


@pytest.fixture(autouse=True)
def tiny_architecture(monkeypatch):
    monkeypatch.setitem(architectures.ARCHITECTURES, "tiny", TINY_SPEC)


@pytest.fixture(autouse=True)
def eager_tensorflow():
    """Tiny models train faster eagerly than TensorFlow traces a graph for each of a job's fits."""
    import tensorflow as tf

    tf.config.run_functions_eagerly(True)
    yield
    tf.config.run_functions_eagerly(False)


@pytest.fixture
def setup(tmp_path):
    parent = save_tiny_model(tmp_path / "parent.keras")
    collection = open_collection(blobs(tmp_path / "blobs.npz"))
    labels = np.asarray(collection.labels, dtype=np.int64)
    return parent, collection, np.arange(len(collection)), labels, tmp_path


def _recipe(mode, n=40, **changes):
    recipe = default_recipe(n, mode, epochs=2 if mode == "full" else 1, folds=2)
    return replace(recipe, batch_size=8, **changes)


def test_default_recipe_is_chosen_for_the_label_count_and_says_why():
    few, some, many = default_recipe(20), default_recipe(112), default_recipe(1000)
    assert (few.mode, some.mode, many.mode) == ("probe", "probe", "full")
    assert "by default" in some.why and "112 labels" in some.why
    tuned = default_recipe(112, "full")
    assert tuned.learning_rate == 1e-5 and tuned.augment and tuned.class_weights and tuned.patience is None
    assert many.patience == 5  # enough labels for an inner validation part
    scratch = default_recipe(112, "scratch")
    published = architectures.get_architecture("deepshadows").recipe
    assert (scratch.learning_rate, scratch.epochs, scratch.batch_size) == (0.1, 100, 64) == (
        published.learning_rate, published.epochs, published.batch_size,
    )  # fmt: skip
    assert default_recipe(112, "head", epochs=3, folds=4).epochs == 3
    with pytest.raises(ValueError, match="mode must be one of"):
        default_recipe(10, "linear")


@pytest.mark.parametrize("mode", MODES)
def test_each_mode_writes_a_loadable_version_and_leaves_the_parent_alone(setup, mode):
    parent, collection, indices, labels, tmp_path = setup
    before_hash = file_hash(parent.path)
    events = []
    result = finetune(
        parent, collection, indices, labels, _recipe(mode), output=tmp_path / "v", on_progress=events.append
    )
    assert file_hash(parent.path) == before_hash
    again = load_model(result.path)
    assert result.path == tmp_path / "v" / "model.keras" and (tmp_path / "v" / "labels.npz").is_file()
    card = again.card
    assert card.training["mode"] == mode and card.parent == str(parent.path)
    assert card.training["parent"]["version"] == parent.version
    assert card.training["labels_used"]["indices"] == indices.tolist()
    assert card.data_fingerprint.startswith("sha256:") and card.metrics["difference"]["n"] == 40
    for metrics in (result.before, result.after):
        low, high = metrics["ci95"]["accuracy"]
        assert low <= metrics["accuracy"] <= high and "roc_auc" in metrics
    assert result.counts["per_class"] == {0: 20, 1: 20}
    assert result.device.startswith(("CPU", "GPU")) and result.verdict
    assert all(e.unit == "batches" and e.done <= e.total for e in events)
    assert events[-1].done == events[-1].total
    fits = [e.payload for e in events if isinstance(e.payload, FitEvent)]
    if mode != "probe":
        assert {f.stage for f in fits} == {"fold 1/2", "fold 2/2", "final"}
        assert {"loss", "accuracy"} <= set(fits[-1].values) and {"batch", "epoch"} == {f.kind for f in fits}
    probs = again.model.predict(collection.get_batch(indices).astype(np.float32) / 255, verbose=0)
    assert np.isfinite(probs).all() and probs.shape == (40, 1)


def test_probe_model_is_the_anchored_logistic_regression(setup):
    from galview.ml.anchored_probe import fit_with_chosen_c, parent_head

    parent, collection, indices, labels, tmp_path = setup
    result = finetune(parent, collection, indices, labels, _recipe("probe"), output=tmp_path / "p")
    x = collection.get_batch(indices).astype(np.float32) / 255
    features = _features(parent, x)
    assert features.shape[0] == 8  # fitted on every flip and quarter turn of the 40 cutouts
    fitted = fit_with_chosen_c(features, labels, parent_head(parent.model))
    got = load_model(result.path).model.predict(x, verbose=0)[:, 0]
    np.testing.assert_allclose(got, fitted.outputs(features[0])[:, 0], atol=1e-4)
    probe = result.card.training["probe"]
    assert probe["anchored"] and probe["C"] == fitted.C and len(probe["fold_C"]) == 2
    assert probe["views"] == 8


def test_with_many_labels_the_probe_sees_fewer_orientations(setup, monkeypatch):
    from galview.ml import finetune_run

    parent, collection, indices, labels, tmp_path = setup
    monkeypatch.setattr(finetune_run, "PROBE_ROWS", 100)  # 40 labels: 2 views make 80 rows, 3 would be 120
    result = finetune(parent, collection, indices, labels, _recipe("probe"), output=tmp_path / "p")
    assert result.card.training["probe"]["views"] == 2


def _nothing_written(tmp_path, parent, before_hash):
    assert file_hash(parent.path) == before_hash
    assert not (tmp_path / "v").exists()
    assert not [p for p in tmp_path.iterdir() if ".partial" in p.name]
    assert list_versions() == [] and not any(versions_dir().iterdir())


def test_cancel_mid_training_writes_nothing(setup):
    parent, collection, indices, labels, tmp_path = setup
    before_hash, token, seen = file_hash(parent.path), CancelToken(), []

    def progress(p):
        if isinstance(p.payload, FitEvent) and p.payload.kind == "batch":
            seen.append(p.payload)
            if len(seen) == 2:
                token.cancel()

    with pytest.raises(Cancelled):
        finetune(parent, collection, indices, labels, _recipe("head"), on_progress=progress, cancel=token)
    assert len(seen) == 2  # stopped within one batch
    _nothing_written(tmp_path, parent, before_hash)


def test_nan_loss_is_reported_and_writes_nothing(setup):
    parent, collection, indices, labels, tmp_path = setup
    before_hash = file_hash(parent.path)
    with pytest.raises(TrainingFailed, match="loss became NaN at fold 1/2"):
        finetune(
            parent, collection, indices, labels, _recipe("full", learning_rate=1e30), output=tmp_path / "v"
        )
    _nothing_written(tmp_path, parent, before_hash)


def test_a_crash_while_saving_writes_nothing(setup, monkeypatch):
    import galview.ml.loading

    parent, collection, indices, labels, tmp_path = setup
    before_hash = file_hash(parent.path)

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(galview.ml.loading, "save_model", broken)
    with pytest.raises(OSError, match="disk full"):
        finetune(parent, collection, indices, labels, _recipe("probe"), output=tmp_path / "v")
    _nothing_written(tmp_path, parent, before_hash)


def test_memory_error_is_reported(setup, monkeypatch):
    from galview.ml import finetune_fit

    parent, collection, indices, labels, tmp_path = setup

    def no_memory(*args, **kwargs):
        raise MemoryError()

    monkeypatch.setattr(finetune_fit, "train_network", no_memory)
    with pytest.raises(TrainingFailed, match="ran out of memory"):
        finetune(parent, collection, indices, labels, _recipe("head"), output=tmp_path / "v")
    _nothing_written(tmp_path, parent, file_hash(parent.path))


def test_labels_the_model_cannot_learn_are_refused_before_training(setup):
    from galview.ml.errors import ModelError

    parent, collection, indices, labels, tmp_path = setup
    with pytest.raises(ModelError, match="at least two classes"):
        finetune(parent, collection, indices[labels == 1], labels[labels == 1], _recipe("probe"))
    with pytest.raises(ModelError, match="needs at least 5 labels of each class"):
        finetune(parent, collection, indices[:6], labels[:6], replace(_recipe("probe"), folds=5))


def test_a_labelled_cutout_that_cannot_be_read_is_left_out_and_said_so(tmp_path):
    from galview.ml.cards import load_card

    parent = save_tiny_model(tmp_path / "parent.keras")
    folder, labels = blob_pngs(
        tmp_path / "pngs", damaged=3
    )  # one of the cutouts the card's fingerprint reads
    with open_collection(folder) as collection:
        result = finetune(
            parent, collection, np.arange(40), labels, _recipe("probe"), output=tmp_path / "new"
        )
    assert result.counts["total"] == 39 and result.counts["left_out"] == {"unreadable": 1}
    assert sum(result.counts["per_class"].values()) == 39
    note = result.counts["unreadable"]
    assert note.startswith("1 cutout could not be read and was left out of the training (cutout 3: ")
    assert "c003.png" in note
    card = load_card(result.path.parent / "model.json")
    assert card.training["left_out"] == {"unreadable": 1} and 3 not in card.training["labels_used"]["indices"]


def test_default_output_is_a_new_version(setup):
    parent, collection, indices, labels, _ = setup
    result = finetune(parent, collection, indices, labels, _recipe("probe"))
    versions = list_versions()
    assert [v.path for v in versions] == [result.path] and versions[0].name.startswith("parent-")


def test_jax_backend_runs_a_tiny_retraining_without_tensorflow_astropy_or_qt(tmp_path):
    """``galview.ml`` needs only numpy, h5py and Keras: the blocked packages are never imported."""
    script = textwrap.dedent(
        f"""
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("astropy", "PyQt6", "pyqtgraph", "superqt", "tensorflow"):
                    raise ImportError("blocked " + name)
        sys.meta_path.insert(0, Block())
        from dataclasses import replace
        from pathlib import Path
        import numpy as np
        from galview.io import open_collection
        from galview.ml import architectures
        from galview.ml.finetune import default_recipe, finetune
        from tests.ml.tiny_models import TINY_SPEC, blobs, save_tiny_model
        architectures.ARCHITECTURES["tiny"] = TINY_SPEC
        parent = save_tiny_model(Path({str(tmp_path)!r}) / "p.keras")
        collection = open_collection(blobs(parent.path.with_name("b.npz")))
        recipe = replace(default_recipe(40, "head", epochs=1, folds=2), batch_size=8)
        labels = np.asarray(collection.labels, dtype=np.int64)
        result = finetune(parent, collection, np.arange(40), labels, recipe, output=parent.path.with_name("v"))
        print("backend", result.card.backend, "device", result.device)
        """
    )
    env = dict(os.environ, KERAS_BACKEND="jax", PYTHONPATH=str(REPO), JAX_PLATFORMS="cpu")
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "backend jax device CPU (JAX)" in done.stdout
    assert (tmp_path / "v" / "model.keras").is_file()


def _features(parent, x, views=8):
    """(views, n, D) penultimate features of the orientations of ``x`` the probe is fitted on."""
    from galview.ml.augment import dihedral_views
    from galview.ml.scoring import embedding_model

    both = embedding_model(parent.model)
    return np.stack([np.asarray(both.predict(v, verbose=0)[0], np.float64) for v in dihedral_views(x, views)])


def test_probe_of_a_three_class_parent_is_anchored_per_class(tmp_path):
    import keras

    from galview.ml.anchored_probe import fit_with_chosen_c, parent_head
    from galview.ml.cards import InputSpec, ModelCard
    from galview.ml.loading import save_model
    from tests.ml.tiny_models import SHAPE, tiny_network

    keras.utils.set_random_seed(0)
    card = ModelCard(
        architecture="tiny", task="multiclass", class_names=("a", "b", "c"),
        input=InputSpec(SHAPE, ("R", "G", "B"), "uint8", "divide255"), explain_layer="conv1",
    )  # fmt: skip
    parent = save_model(tiny_network(n_outputs=3), card, tmp_path / "three.keras")
    collection = open_collection(blobs(tmp_path / "b.npz", n=45))
    labels = np.arange(45) % 3
    result = finetune(parent, collection, np.arange(45), labels, _recipe("probe", 45), output=tmp_path / "v")
    x = collection.get_batch(np.arange(45)).astype(np.float32) / 255
    features = _features(parent, x)
    fitted = fit_with_chosen_c(features, labels, parent_head(parent.model))
    got = load_model(result.path).model.predict(x, verbose=0)
    assert got.shape == (45, 3)
    np.testing.assert_allclose(got, fitted.outputs(features[0]), atol=1e-4)
    assert result.card.training["probe"]["anchored"]


def test_probe_of_a_parent_whose_sigmoid_gives_class_0(tmp_path):
    import keras

    from galview.ml.anchored_probe import fit_with_chosen_c, parent_head
    from galview.ml.cards import InputSpec, ModelCard
    from galview.ml.loading import save_model
    from tests.ml.tiny_models import SHAPE, tiny_network

    keras.utils.set_random_seed(0)
    card = ModelCard(
        architecture="tiny", task="binary", class_names=("LSBG", "artifact"), positive_class=0,
        input=InputSpec(SHAPE, ("R", "G", "B"), "uint8", "divide255"), explain_layer="conv1",
    )  # fmt: skip
    parent = save_model(tiny_network(), card, tmp_path / "flipped.keras")
    collection = open_collection(blobs(tmp_path / "b.npz"))
    labels = np.asarray(collection.labels, dtype=np.int64)
    result = finetune(parent, collection, np.arange(40), labels, _recipe("probe"), output=tmp_path / "v")
    x = collection.get_batch(np.arange(40)).astype(np.float32) / 255
    features = _features(parent, x)
    fitted = fit_with_chosen_c(features, (labels == 0).astype(np.int64), parent_head(parent.model))
    got = load_model(result.path).model.predict(x, verbose=0)[:, 0]  # P(class 0), as the parent's
    np.testing.assert_allclose(got, fitted.outputs(features[0])[:, 0], atol=1e-4)


def test_labels_of_other_named_classes_name_the_new_model(setup):
    """Retrained on labels of another task (the collection names its classes), the new model takes
    the collection's names: an LSBG model retrained on rings must not call a ring an LSBG."""
    parent, collection, indices, labels, tmp_path = setup
    collection.set_class_names(("corner blob", "central blob"))
    result = finetune(parent, collection, indices, labels, _recipe("probe"), output=tmp_path / "renamed")
    card = load_model(result.path).card
    assert card.class_names == ("corner blob", "central blob") and card.positive_class == 1
    assert card.training["parent_class_names"] == ["artifact", "LSBG"]
    assert card.training["label_counts"] == {"corner blob": 20, "central blob": 20}
    assert "New classes: corner blob, central blob, the collection's" in card.description
    # the parent's "LSBG" says nothing about a central blob: "before" is guessing the most common class
    assert result.before["baseline"] == result.difference["baseline"] == "guessing the most common class"
    assert result.before["accuracy"] == 0.5 and result.before["roc_auc"] == 0.5  # 20 and 20: class 0
    assert "vs 0.500 by guessing the most common class" in result.verdict
    assert "guessing the most common class of each fold" in card.metrics["evaluation"]
    collection.set_class_names(("artifact", "LSBG"))  # the model's own names: nothing renamed
    same = finetune(parent, collection, indices, labels, _recipe("probe"), output=tmp_path / "same")
    assert same.card.class_names == ("artifact", "LSBG") and "parent_class_names" not in same.card.training
    assert "baseline" not in same.before and "before (" in same.verdict

"""Training and scoring end to end on a tiny, learnable collection (16×16 uint8 cutouts)."""

from __future__ import annotations

import csv
import re

import h5py
import numpy as np
import pytest

from galview.core.jobs import Cancelled, CancelToken
from galview.io import open_collection
from galview.ml.augment import dihedral
from galview.ml.errors import ModelError
from galview.ml.loading import load_model
from galview.ml.scoring import score_batches, score_to_file
from galview.ml.training import TrainConfig, balanced_class_weights, stratified_split, train_model


def _blobs(path, n=240, seed=0):
    """Label 1: a bright central blob; label 0: a blob at a corner. Easy, so a model must learn it."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:16, 0:16]
    images = rng.normal(40, 6, (n, 16, 16, 3))
    labels = (np.arange(n) % 2).astype(np.int8)
    for i, label in enumerate(labels):
        cx, cy = (7.5, 7.5) if label else rng.choice([2.0, 13.0], 2)
        images[i] += 150 * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / 6.0)[..., None]
    np.savez(path, images=np.clip(images, 0, 255).astype(np.uint8), labels=labels)
    return open_collection(path)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("train")
    collection = _blobs(folder / "blobs.npz")
    config = TrainConfig(architecture="deepshadows", epochs=8, batch_size=32, seed=1, test_split=0.2)
    loaded = train_model(collection, config, folder / "model.keras")
    return collection, loaded, folder


def test_training_learns_and_writes_model_with_card(trained):
    collection, loaded, folder = trained
    assert (folder / "model.keras").is_file() and (folder / "model.json").is_file()
    metrics = loaded.card.metrics
    assert metrics["accuracy"] >= 0.9, metrics
    assert metrics["ci95"]["accuracy"][0] <= metrics["accuracy"] <= metrics["ci95"]["accuracy"][1]
    assert loaded.card.input.scale == "divide255" and loaded.card.input.shape == (16, 16, 3)
    assert loaded.card.training["n_test"] == 48 and loaded.card.training["epochs_run"] >= 1
    again = load_model(folder / "model.keras")
    assert again.card.id == loaded.card.id


def test_scores_match_predict_and_files_have_the_contract_columns(trained, tmp_path):
    collection, loaded, _ = trained
    batches = list(score_batches(loaded, collection, batch_size=100))
    probs = np.concatenate([b.probs for b in batches])[:, 0]
    direct = loaded.model.predict(
        collection.get_batch(np.arange(len(collection))).astype(np.float32) / 255, verbose=0
    )
    np.testing.assert_allclose(probs, direct[:, 0], atol=1e-5)
    assert batches[0].embeddings.shape == (100, 1024)
    csv_path = score_to_file(loaded, collection, tmp_path / "s.csv")
    with open(csv_path) as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["index", "id", "prob", "predicted"]
    assert len(rows) == len(collection)
    assert int(rows[5]["predicted"]) == int(float(rows[5]["prob"]) > 0.5)
    h5_path = score_to_file(loaded, collection, tmp_path / "s.h5")
    with h5py.File(h5_path) as handle:
        np.testing.assert_allclose(handle["probs"][:, 0], probs, atol=1e-6)
        assert handle["embeddings"].shape == (len(collection), 1024)


def test_large_cutouts_are_scored_in_smaller_batches_with_the_same_scores(trained, monkeypatch):
    """A scoring batch holds at most MAX_SCORE_BATCH_BYTES of cutouts (here three 16×16×3 uint8
    ones), whatever batch size was asked for; the scores do not depend on it."""
    from galview.ml import scoring

    collection, loaded, _ = trained
    whole = np.concatenate([b.probs for b in score_batches(loaded, collection, batch_size=100)])
    monkeypatch.setattr(scoring, "MAX_SCORE_BATCH_BYTES", 3 * 16 * 16 * 3)
    batches = list(score_batches(loaded, collection, batch_size=100))
    assert [b.start for b in batches[:3]] == [0, 3, 6] and {len(b.probs) for b in batches[:-1]} == {3}
    np.testing.assert_allclose(np.concatenate([b.probs for b in batches]), whole, atol=1e-5)


def test_cancelled_scoring_leaves_no_file(trained, tmp_path):
    collection, loaded, _ = trained
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        score_to_file(loaded, collection, tmp_path / "c.csv", batch_size=50, cancel=token)
    assert not list(tmp_path.iterdir())


def test_incompatible_collection_is_refused(trained, tmp_path):
    _, loaded, _ = trained
    np.save(tmp_path / "big.npy", np.ones((4, 32, 32, 3), np.uint8))
    with pytest.raises(ModelError, match="16×16×3"):
        list(score_batches(loaded, open_collection(tmp_path / "big.npy")))


def test_fine_tuning_starts_from_the_parent_and_leaves_it_untouched(trained, tmp_path, monkeypatch):
    from galview.ml import training

    collection, parent, folder = trained
    before = [w.copy() for w in parent.model.get_weights()]
    seen = {}

    class Watch(training._Relay):  # the relay is the callback every training run gets
        def on_train_begin(self, logs=None):
            seen["model"], seen["start"] = self.model, [w.copy() for w in self.model.get_weights()]

    monkeypatch.setattr(training, "_Relay", Watch)
    child = train_model(
        collection, TrainConfig(epochs=1, batch_size=32), tmp_path / "child.keras", parent=parent
    )
    assert seen["model"] is not parent.model
    assert len(seen["start"]) == len(before)
    for start, old in zip(seen["start"], before, strict=True):  # the child starts from the parent's weights
        np.testing.assert_array_equal(start, old)
    trained_weights = child.model.get_weights()
    assert any(not np.array_equal(a, b) for a, b in zip(trained_weights, before, strict=True))  # and learns
    for old, new in zip(before, parent.model.get_weights(), strict=True):  # while the parent stays as it was
        np.testing.assert_array_equal(old, new)
    assert child.card.parent == str(folder / "model.keras")
    assert load_model(folder / "model.keras").version == parent.version


def test_cancelled_training_writes_nothing(tmp_path):
    collection = _blobs(tmp_path / "b.npz", n=64)
    token = CancelToken()
    seen = []

    def progress(p):
        seen.append(p)
        token.cancel()

    with pytest.raises(Cancelled):
        train_model(
            collection,
            TrainConfig(epochs=5, batch_size=16),
            tmp_path / "m.keras",
            on_progress=progress,
            cancel=token,
        )
    assert seen and not (tmp_path / "m.keras").exists() and not (tmp_path / "m.json").exists()


def test_split_is_stratified_and_disjoint():
    labels = np.array([0] * 70 + [1] * 30)
    train, val, test = stratified_split(labels, 0.1, 0.2, seed=0)
    assert len(set(train) | set(val) | set(test)) == 100
    assert labels[test].sum() == 6 and labels[val].sum() == 3
    assert balanced_class_weights(labels) == pytest.approx({0: 100 / 140, 1: 100 / 60})


def test_dihedral_covers_the_eight_symmetries():
    image = np.arange(9).reshape(1, 3, 3, 1)
    results = {dihedral(image, np.array([t]))[0, ..., 0].tobytes() for t in range(8)}
    assert len(results) == 8


def test_views_of_a_batch_keep_its_shape_and_start_with_it_as_it_is():
    from galview.ml.augment import dihedral_views

    square = np.arange(2 * 9).reshape(2, 3, 3, 1)
    views = dihedral_views(square, 8)
    assert views[0] is square and len({v.tobytes() for v in views}) == 8
    assert len(dihedral_views(square, 3)) == 3
    wide = np.arange(2 * 6).reshape(2, 2, 3, 1)  # a quarter turn would change its shape: 4 views only
    views = dihedral_views(wide, 8)
    assert len(views) == 4 and all(v.shape == wide.shape for v in views)
    assert len({v.tobytes() for v in views}) == 4


def test_cli_scores_through_an_explicit_adapter(trained, tmp_path, capsys):
    from galview.cli import main

    _, _, folder = trained
    data = tmp_path / "big.npy"
    np.save(data, np.random.default_rng(0).integers(0, 255, (10, 32, 32, 3), dtype=np.uint8))
    out = tmp_path / "scores.h5"
    assert main(["score", str(data), "--model", str(folder / "model.keras"), "-o", str(out)]) == 2
    assert "big.npy" in capsys.readouterr().err and not out.exists()
    assert main(["score", str(data), "--model", str(folder / "model.keras"), "-o", str(out), "--resize"]) == 0
    with h5py.File(out) as handle:
        assert handle["probs"].shape == (10, 1)
        assert '"resize": [16, 16]' in handle.attrs["adapter"]


def test_colour_jitter_changes_channels_within_bounds():
    from galview.ml.augment import colour_jitter

    x = np.full((4, 8, 8, 3), 0.5, np.float32)
    out = colour_jitter(x, np.random.default_rng(0), 0.1)
    assert not np.allclose(out, x)
    assert np.all(out >= 0.5 * 0.9 - 0.02) and np.all(out <= 0.5 * 1.1 + 0.02)
    assert np.allclose(out, out[:, :1, :1, :])  # one gain and offset per sample and channel


def test_saved_models_carry_no_optimizer_state(trained, tmp_path):
    import zipfile

    _, loaded, folder = trained
    with zipfile.ZipFile(folder / "model.keras") as archive:
        archive.extract("model.weights.h5", tmp_path)
    names = []
    with h5py.File(tmp_path / "model.weights.h5") as weights:
        weights.visit(names.append)
    assert any(n.startswith("layers/conv2d") for n in names) and not any("optimizer" in n for n in names)


def test_cli_trains_on_the_label_store_leaving_unsure_out(tmp_path, capsys):
    import json

    from galview.cli import main
    from galview.io.label_store import open_label_store

    collection = _blobs(tmp_path / "blobs.npz", n=120)
    with open_label_store(collection) as store:
        store.set(range(20), -1)  # unsure: kept in the store, not trained on
        store.set([20, 21], 0)  # relabelled
    collection.close()
    args = ["train", str(tmp_path / "blobs.npz"), "--epochs", "1", "--batch-size", "16", "--no-augment"]
    assert main([*args, "-o", str(tmp_path / "m")]) == 0
    assert "(22 set in GalView, 20 unsure left out)" in capsys.readouterr().err
    card = json.loads((tmp_path / "m" / "model.json").read_text())
    sizes = card["training"]
    assert sizes["n_train"] + sizes["n_val"] + sizes["n_test"] == 100
    assert main([*args, "--labels", "file", "-o", str(tmp_path / "f")]) == 0
    card = json.loads((tmp_path / "f" / "model.json").read_text())
    assert sum(card["training"][k] for k in ("n_train", "n_val", "n_test")) == 120


def test_cli_train_refuses_the_store_of_another_collection_unless_forced(tmp_path, capsys):
    from galview.cli import main
    from galview.io.label_store import open_label_store

    store = tmp_path / "labels.sqlite"
    with _blobs(tmp_path / "a.npz", n=120, seed=0) as a, open_label_store(a, store) as s:
        s.set(range(20), -1)
    _blobs(tmp_path / "b.npz", n=120, seed=1).close()  # same size, other pixels
    before = store.read_bytes()
    args = ["train", str(tmp_path / "b.npz"), "--store", str(store), "--epochs", "1", "--batch-size", "16"]
    assert main([*args, "--no-augment", "-o", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "labels.sqlite: belongs to" in err and "b.npz" in err
    assert store.read_bytes() == before and not (tmp_path / "m" / "model.keras").exists()
    assert main([*args, "--no-augment", "--force", "-o", str(tmp_path / "m")]) == 0
    assert "(20 set in GalView, 20 unsure left out)" in capsys.readouterr().err
    with _blobs(tmp_path / "c.npz", n=120, seed=1) as c, open_label_store(c, store) as s:  # b's pixels
        assert len(s.rebindings()) == 1 and s.source == str(tmp_path / "b.npz")


@pytest.fixture
def compiled(monkeypatch):
    """The optimisers the models were compiled with, in order."""
    import keras

    optimizers = []
    original = keras.Model.compile
    monkeypatch.setattr(
        keras.Model, "compile", lambda self, **kw: optimizers.append(kw["optimizer"]) or original(self, **kw)
    )
    return optimizers


def test_another_optimiser_replaces_the_recipes_and_is_recorded(tmp_path, compiled):
    import keras

    collection = _blobs(tmp_path / "b.npz", n=64)
    config = TrainConfig(epochs=1, batch_size=16, optimizer="adam")
    loaded = train_model(collection, config, tmp_path / "m.keras")
    assert isinstance(compiled[-1], keras.optimizers.Adam)
    assert float(compiled[-1].learning_rate) == pytest.approx(1e-3)
    assert loaded.card.training["recipe"] == "adam" and loaded.card.training["learning_rate"] == 1e-3
    rate = train_model(collection, TrainConfig(epochs=1, batch_size=16), tmp_path / "d.keras").card.training
    assert rate["recipe"] == "adadelta" and rate["learning_rate"] == 0.1  # DeepShadows as published


def test_weight_average_keeps_the_averaged_weights_and_records_them(trained, tmp_path):
    """With momentum near 1 the average stays where training began (Keras starts it after the first
    step): the saved model must be that average, not the last weights, which moved on."""
    collection, parent, _ = trained
    start = [v.numpy().copy() for v in parent.model.trainable_weights]

    def moved(loaded):
        pairs = zip(loaded.model.trainable_weights, start, strict=True)
        return max(float(np.abs(v.numpy() - s).max()) for v, s in pairs)

    config = {"epochs": 2, "batch_size": 16, "optimizer": "adam"}
    plain = train_model(collection, TrainConfig(**config), tmp_path / "plain.keras", parent=parent)
    averaged = train_model(
        collection, TrainConfig(**config, weight_average=0.999999), tmp_path / "avg.keras", parent=parent
    )
    assert moved(averaged) < 0.3 * moved(plain), (moved(averaged), moved(plain))
    assert averaged.card.training["weight_average"] == 0.999999
    assert plain.card.training["weight_average"] == 0.0
    again = load_model(tmp_path / "avg.keras")
    for a, b in zip(again.model.get_weights(), averaged.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_cli_refuses_a_weight_average_outside_0_to_1(tmp_path, capsys):
    from galview.cli import main

    _blobs(tmp_path / "b.npz", n=32).close()
    for bad in ("1", "-0.1", "x"):
        with pytest.raises(SystemExit) as stopped:
            main(["train", str(tmp_path / "b.npz"), "--weight-average", bad, "-o", str(tmp_path / "m")])
        assert stopped.value.code == 2
    assert "--weight-average" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


def test_swapped_surroundings_keep_the_centre_and_take_the_rest_from_another_cutout():
    from galview.ml.augment import swap_surroundings

    images = np.stack([np.full((64, 64, 3), 10 * (k + 1), np.uint8) for k in range(4)])
    out = swap_surroundings(images, np.random.default_rng(0), probability=1.0, radius=(14.0, 14.0))
    assert out.dtype == np.uint8 and out.shape == images.shape
    for k in range(4):
        np.testing.assert_array_equal(out[k, 28:36, 28:36], images[k, 28:36, 28:36])  # the centre stays
        corner = int(out[k, 0, 0, 0])
        assert corner != images[k, 0, 0, 0] and corner in images[:, 0, 0, 0]  # another cutout's sky
    np.testing.assert_array_equal(swap_surroundings(images, np.random.default_rng(0), 0.0), images)
    many = np.random.default_rng(2).integers(0, 256, (400, 64, 64, 3), dtype=np.uint8)
    half = swap_surroundings(many, np.random.default_rng(1), 0.5)
    changed = np.mean([not np.array_equal(a, b) for a, b in zip(half, many, strict=True)])
    assert 0.42 < changed < 0.58


def test_cosine_schedule_takes_the_rate_to_zero_by_the_last_batch(tmp_path, compiled):
    collection = _blobs(tmp_path / "b.npz", n=64)
    config = TrainConfig(epochs=2, batch_size=16, optimizer="adam", lr_schedule="cosine", patience=5)
    loaded = train_model(collection, config, tmp_path / "m.keras")
    optimizer = compiled[-1]
    batches = -(-loaded.card.training["n_train"] // 16)
    assert int(optimizer.iterations) == 2 * batches  # the decay spans exactly the batches of both epochs
    assert float(optimizer.learning_rate) == pytest.approx(0.0, abs=1e-9)
    assert float(optimizer._learning_rate(0)) == pytest.approx(1e-3)
    assert loaded.card.training["lr_schedule"] == "cosine" and loaded.card.training["calibration"] is None


def test_calibration_is_fitted_on_the_validation_split_and_saved_in_the_model(trained, tmp_path):
    collection, parent, _ = trained
    config = TrainConfig(epochs=1, batch_size=16, optimizer="adam", calibrate=True)
    loaded = train_model(collection, config, tmp_path / "cal.keras", parent=parent)
    fit = loaded.card.training["calibration"]
    assert fit["fitted_on"] == "the validation split (24 cutouts)"
    assert fit["log_loss_after"] <= fit["log_loss_before"] + 1e-9
    assert fit["a"] != 1.0 or fit["c"] != 0.0
    again = load_model(tmp_path / "cal.keras")
    x = collection.get_batch(np.arange(20)).astype(np.float32) / 255
    np.testing.assert_allclose(
        again.model.predict(x, verbose=0), loaded.model.predict(x, verbose=0), atol=1e-6
    )


def test_schedule_and_calibration_are_refused_before_training_when_they_cannot_apply(tmp_path):
    collection = _blobs(tmp_path / "b.npz", n=64)
    with pytest.raises(ValueError, match="unknown learning-rate schedule"):
        train_model(collection, TrainConfig(epochs=1, lr_schedule="step"), tmp_path / "a.keras")
    with pytest.raises(ValueError, match="validation split, and this split is empty"):
        train_model(collection, TrainConfig(epochs=1, calibrate=True, val_split=0.0), tmp_path / "b.keras")
    assert not list(tmp_path.glob("*.keras"))


def test_cli_trains_with_cosine_and_calibration_and_says_so(tmp_path, capsys):
    from galview.cli import main

    _blobs(tmp_path / "b.npz", n=64).close()
    args = ["train", str(tmp_path / "b.npz"), "--epochs", "1", "--batch-size", "16", "--no-augment"]
    assert main([*args, "--lr-schedule", "cosine", "--calibrate", "-o", str(tmp_path / "m")]) == 0
    assert re.search(r"calibrated on the validation split \(\d+ cutouts\): logit ×", capsys.readouterr().err)
    card = load_model(tmp_path / "m").card
    assert card.training["lr_schedule"] == "cosine" and card.training["calibration"]["a"] > 0
    with pytest.raises(SystemExit):
        main([*args, "--lr-schedule", "step", "-o", str(tmp_path / "n")])


def test_cli_refuses_calibration_it_cannot_fit_in_one_line(tmp_path, capsys):
    from galview.cli import main

    _blobs(tmp_path / "b.npz", n=64).close()
    args = ["train", str(tmp_path / "b.npz"), "--epochs", "1", "--calibrate", "-o", str(tmp_path / "m")]
    assert main([*args, "--val-split", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "b.npz: calibration is fitted on the validation split" in err
    assert main([*args, "--arch", "deepshadows-3class"]) == 2
    assert "needs a binary model, not a multiclass one" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


def _folder_with_a_damaged_image(folder, n=6, damaged=2):
    from PIL import Image

    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)).save(folder / f"c{i}.png")
    data = (folder / f"c{damaged}.png").read_bytes()
    (folder / f"c{damaged}.png").write_bytes(data[: len(data) // 2])  # the header reads, the pixels do not
    return folder


def test_a_cutout_that_cannot_be_read_gets_an_empty_row_not_the_end_of_the_run(trained, tmp_path):
    from galview.core.errors import CollectionError

    _, loaded, _ = trained
    collection = open_collection(_folder_with_a_damaged_image(tmp_path / "pngs"))
    with pytest.raises(CollectionError, match="c2.png"):
        list(score_batches(loaded, collection, batch_size=4))  # as before where it is not asked for
    batches = list(score_batches(loaded, collection, batch_size=4, skip_unreadable=True))
    probs = np.concatenate([b.probs for b in batches])[:, 0]
    assert np.isnan(probs[2]) and np.isfinite(np.delete(probs, 2)).all()
    assert np.isnan(batches[0].embeddings[2]).all() and list(batches[0].unreadable) == [2]
    assert "c2.png: is not a readable PNG/JPEG image" in batches[0].unreadable[2]
    told = {}
    path = score_to_file(loaded, collection, tmp_path / "s.csv", batch_size=4, on_unreadable=told.__setitem__)
    with open(path) as handle:
        rows = list(csv.DictReader(handle))
    assert (rows[2]["prob"], rows[2]["predicted"]) == ("nan", "-1") and list(told) == [2]
    assert all(row["predicted"] in ("0", "1") for k, row in enumerate(rows) if k != 2)


def test_cli_score_warns_of_cutouts_it_could_not_read(trained, tmp_path, capsys):
    from galview.cli import main

    _, _, folder = trained
    data = _folder_with_a_damaged_image(tmp_path / "pngs")
    out = tmp_path / "scores.csv"
    assert main(["score", str(data), "--model", str(folder / "model.keras"), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "warning: 1 cutout could not be read and has no score (cutout 2: " in err and "c2.png" in err
    assert out.is_file()


def test_a_file_none_of_whose_cutouts_can_be_read_still_stops_the_run(trained, tmp_path):
    """Skipping is for single cutouts: a batch of which nothing reads means the file is at fault."""
    from galview.core.errors import CollectionError

    _, loaded, _ = trained
    folder = tmp_path / "pngs"
    _folder_with_a_damaged_image(folder, n=4, damaged=2)
    (folder / "c3.png").write_bytes((folder / "c2.png").read_bytes())
    collection = open_collection(folder)
    with pytest.raises(CollectionError, match="c2.png"):  # the batch of cutouts 2 and 3
        list(score_batches(loaded, collection, batch_size=2, skip_unreadable=True))


def test_training_leaves_out_labelled_cutouts_it_cannot_read_and_says_so(tmp_path, capsys):
    import json

    from galview.cli import main

    _blobs(tmp_path / "blobs.npz", n=120).close()
    with np.load(tmp_path / "blobs.npz") as data:
        images, labels = data["images"].astype(np.float32), data["labels"]
    images[[3, 50, 101]] = np.nan  # cutouts off the survey's footprint
    np.savez(tmp_path / "holes.npz", images=images, labels=labels)
    args = ["train", str(tmp_path / "holes.npz"), "--epochs", "1", "--batch-size", "16", "--no-augment"]
    assert main([*args, "-o", str(tmp_path / "m")]) == 0
    err = capsys.readouterr().err
    assert "warning: 3 cutouts could not be read and were left out of training (cutout 3 has no finite" in err
    training = json.loads((tmp_path / "m" / "model.json").read_text())["training"]
    assert training["unreadable"] == 3 and np.isfinite(
        json.loads((tmp_path / "m" / "model.json").read_text())["metrics"]["accuracy"]
    )


def test_cli_trains_a_folder_labelled_only_in_galview_and_refuses_one_with_no_labels(tmp_path, capsys):
    import json

    from galview.cli import main
    from galview.io.label_store import open_label_store
    from tests.ml.tiny_models import blob_pngs

    folder, labels = blob_pngs(tmp_path / "pngs", damaged=3)
    args = ["train", str(folder), "--epochs", "1", "--batch-size", "8", "--no-augment"]
    assert main([*args, "-o", str(tmp_path / "none")]) == 2
    assert (
        "has no labels in the file or a label store; training needs labelled cutouts"
        in capsys.readouterr().err
    )
    with open_collection(folder) as collection, open_label_store(collection) as store:
        store.set_many([(0, 1), (1, 1)], user="ana")  # one class: nothing to tell apart
    assert main([*args, "-o", str(tmp_path / "one")]) == 2 and not (tmp_path / "one").exists()
    assert (
        "needs labelled cutouts of at least two classes; the labels hold 2 of class 1"
        in capsys.readouterr().err
    )
    with open_collection(folder) as collection, open_label_store(collection) as store:
        store.set_many([(i, int(v)) for i, v in enumerate(labels[:30])], user="ana")  # 10 left unlabelled
    assert main([*args, "-o", str(tmp_path / "m")]) == 0
    err = capsys.readouterr().err
    assert "labels: from " in err and "(30 set in GalView, 0 unsure left out)" in err
    assert "warning: 1 cutout could not be read and was left out of training (cutout 3: " in err
    training = json.loads((tmp_path / "m" / "model.json").read_text())["training"]
    assert training["n_train"] + training["n_val"] + training["n_test"] == 30 and training["unreadable"] == 1


def test_a_patience_of_zero_is_kept_not_read_as_the_recipes(tmp_path, monkeypatch):
    """``--patience 0`` (stop at the first epoch that does not improve) reached early stopping as the
    recipe's patience, 0 being falsy."""
    import keras

    given = []
    original = keras.callbacks.EarlyStopping.__init__

    def spy(self, *args, **kwargs):
        given.append(kwargs["patience"])
        original(self, *args, **kwargs)

    monkeypatch.setattr(keras.callbacks.EarlyStopping, "__init__", spy)
    collection = _blobs(tmp_path / "b.npz", n=48)
    for patience, expected in ((0, 0), (None, 10)):  # the DeepShadows recipe's patience is 10
        config = TrainConfig(epochs=1, batch_size=16, patience=patience, augment=False)
        train_model(collection, config, tmp_path / f"m{patience}.keras")
        assert given[-1] == expected

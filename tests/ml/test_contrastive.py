"""The self-supervised encoder (issue 13): training without labels, saving, safe reloading, embeddings,
cancel, NaN, the views it learns from, and a training step under JAX. Tiny models: seconds in all."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from galview.core.jobs import Cancelled, CancelToken
from galview.jobs import get_job
from galview.ml import contrastive
from galview.ml.contrastive import EncoderSettings, encode, load_encoder, train_encoder
from galview.ml.contrastive_model import build_encoder, nt_xent
from galview.ml.contrastive_views import Augmentations, augment, prepare
from galview.ml.errors import ModelError, TrainingFailed

TINY = EncoderSettings(size=16, embedding_dim=8, width=4, projection_dim=8)


def _images(n: int = 64, seed: int = 0) -> np.ndarray:
    """(n, 20, 20, 3) uint8: noise with a blob of random size and position."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:20, 0:20]
    images = rng.normal(30, 5, (n, 20, 20, 3))
    for image in images:
        cy, cx, width = rng.uniform(6, 14), rng.uniform(6, 14), rng.uniform(2, 12)
        image += 180 * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / width)[..., None]
    return np.clip(images, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny encoder trained 2 epochs on 64 cutouts, its path, the in-memory model and the reports."""
    folder = tmp_path_factory.mktemp("encoder")
    images, kept, reports = _images(), {}, []
    real_save = contrastive.save_encoder

    def keep(encoder, card, out_dir):
        kept["model"] = encoder
        return real_save(encoder, card, out_dir)

    contrastive.save_encoder = keep
    try:
        path = train_encoder(images, folder / "enc", epochs=2, batch_size=16, seed=1, settings=TINY,
                             on_progress=reports.append)  # fmt: skip
    finally:
        contrastive.save_encoder = real_save
    return images, path, kept["model"], reports


def test_training_writes_an_encoder_and_its_card(trained):
    images, path, _, reports = trained
    assert path.name == "encoder.keras" and sorted(p.name for p in path.parent.iterdir()) == [
        "encoder.json",
        "encoder.keras",
    ]
    card = json.loads(path.with_name("encoder.json").read_text())
    assert card["space"] == "self-supervised" and card["embedding_dim"] == 8
    assert (card["size"], card["channels"], card["source_shape"]) == (16, 3, [20, 20, 3])
    assert card["training"]["epochs"] == 2 and card["training"]["n_images"] == 64
    assert np.isfinite(card["training"]["final_loss"]) and card["backend"] and card["created"]
    assert [r.done for r in reports] == list(range(1, 9)) and {r.unit for r in reports} == {"batches"}


def test_the_saved_encoder_reloads_safely_and_gives_the_same_unit_embeddings(trained):
    images, path, model, _ = trained
    loaded = load_encoder(path.parent)
    assert loaded.card.size == 16 and loaded.model.name == "contrastive_encoder"
    saved, in_memory = encode(path, images, batch_size=24), encode(model, images)
    assert saved.shape == (64, 8) and saved.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(saved, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(saved, in_memory, atol=1e-5)


def test_a_card_that_does_not_fit_or_is_not_a_card_is_refused(trained, tmp_path):
    _, path, _, _ = trained
    shutil.copytree(path.parent, tmp_path / "enc")
    card_file = tmp_path / "enc" / "encoder.json"
    card = json.loads(card_file.read_text())
    card_file.write_text(json.dumps({**card, "embedding_dim": 9}))
    with pytest.raises(ModelError, match="does not match its card"):
        load_encoder(tmp_path / "enc")
    card_file.write_text(json.dumps({**card, "schema": "galview-model-card/1"}))
    with pytest.raises(ModelError, match="not an encoder card"):
        load_encoder(tmp_path / "enc")


def test_encode_reports_cutouts_and_refuses_other_bands(trained):
    images, path, _, _ = trained
    seen = []
    encode(path, images[:10], batch_size=4, on_progress=seen.append)
    assert [p.done for p in seen] == [4, 8, 10] and seen[-1].unit == "cutouts"
    with pytest.raises(ModelError, match="takes 3 band"):
        encode(path, images[..., :1])


def test_a_damaged_image_in_a_folder_is_left_out_of_training_and_gets_no_embedding(trained, tmp_path, eager):
    from PIL import Image

    from galview.io import open_collection

    images, path, _, _ = trained
    folder = tmp_path / "pngs"
    folder.mkdir()
    for i, image in enumerate(images[:24]):
        Image.fromarray(image).save(folder / f"c{i:03d}.png")
    whole = (folder / "c005.png").read_bytes()
    (folder / "c005.png").write_bytes(whole[: len(whole) // 2])
    with open_collection(folder) as collection:
        vectors = encode(path, collection, batch_size=8)
        assert np.isnan(vectors[5]).all() and np.isfinite(np.delete(vectors, 5, axis=0)).all()
        np.testing.assert_allclose(vectors[:5], encode(path, images[:5]), atol=1e-5)
        unreadable = {}
        trained_here = train_encoder(
            collection,
            tmp_path / "enc",
            epochs=1,
            batch_size=12,
            settings=TINY,
            on_unreadable=unreadable.__setitem__,
        )
    assert trained_here.is_file()
    assert list(unreadable) == [5] and "c005.png" in unreadable[5]  # said, once


@pytest.fixture
def eager():
    """Run TensorFlow's functions eagerly: a one-batch fit without the seconds of graph tracing (what
    these tests check, the callbacks and what is written, does not depend on it)."""
    import keras

    if keras.backend.backend() != "tensorflow":
        yield
        return
    import tensorflow as tf

    tf.config.run_functions_eagerly(True)
    try:
        with warnings.catch_warnings():  # tf.data's own functions stay traced, as they should
            warnings.filterwarnings("ignore", message="Even though the `tf.config", category=UserWarning)
            yield
    finally:
        tf.config.run_functions_eagerly(False)


def test_cancel_stops_within_one_batch_and_writes_nothing(tmp_path, eager):
    token, seen = CancelToken(), []

    def progress(report):
        seen.append(report)
        token.cancel()

    with pytest.raises(Cancelled):
        train_encoder(_images(32), tmp_path / "enc", epochs=3, batch_size=8, settings=TINY,
                      on_progress=progress, cancel=token)  # fmt: skip
    assert len(seen) == 1
    assert list(tmp_path.iterdir()) == []


def test_a_nan_loss_is_reported_and_writes_nothing(tmp_path, eager):
    diverging = EncoderSettings(size=16, embedding_dim=8, width=4, projection_dim=8, learning_rate=1e30)
    with pytest.raises(TrainingFailed, match="loss became NaN at epoch 1"):
        train_encoder(_images(16), tmp_path / "enc", epochs=1, batch_size=8, settings=diverging)
    assert list(tmp_path.iterdir()) == []


def test_an_occupied_folder_is_refused_before_training(tmp_path):
    (tmp_path / "enc").mkdir()
    (tmp_path / "enc" / "model.keras").write_bytes(b"someone's model")
    with pytest.raises(ModelError, match="not empty"):
        train_encoder(_images(8), tmp_path / "enc", epochs=1, batch_size=4, settings=TINY)
    assert (tmp_path / "enc" / "model.keras").read_bytes() == b"someone's model"


def test_a_view_keeps_shape_and_dtype_and_is_not_the_cutout():
    prepared = prepare(_images(8), 16)
    view = augment(prepared, np.random.default_rng(0))
    assert view.shape == prepared.shape == (8, 16, 16, 3) and view.dtype == np.float32
    assert not np.allclose(view, prepared, atol=0.05)
    still = Augmentations(max_angle=0, max_zoom=0, max_shift=0, max_blur=0, max_noise=0, gain=0, offset=0,
                          colour=0)  # fmt: skip
    symmetric = augment(prepared, np.random.default_rng(0), still)  # only quarter turns and flips
    np.testing.assert_allclose(np.sort(symmetric.ravel()), np.sort(prepared.ravel()), atol=1e-6)


def test_prepare_resizes_crops_and_stretches_any_flux_scale():
    images = _images(4).astype(np.float32)
    images[0, 0, 0, 0] = np.nan
    linear = prepare(images, 16, "linear")
    assert linear.shape == (4, 16, 16, 3) and np.isfinite(linear).all()
    for other in (images * 1e-9, images * 3 + 1000):  # neither the units nor the sky level matter
        np.testing.assert_allclose(prepare(other, 16, "linear")[1:], linear[1:], atol=1e-4)
    assert prepare(images, 16, "asinh", field=0.5).shape == (4, 16, 16, 3)


def test_nt_xent_matches_a_numpy_reference():
    rng = np.random.default_rng(0)
    a, b = (v / np.linalg.norm(v, axis=1, keepdims=True) for v in rng.normal(size=(2, 3, 4)))
    z = np.concatenate([a, b], axis=1).astype(np.float32)
    views = np.concatenate([a, b])
    logits = views @ views.T / 0.2
    np.fill_diagonal(logits, -np.inf)
    log_softmax = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    pairs = np.concatenate([np.arange(3, 6), np.arange(3)])
    per_view = -log_softmax[np.arange(6), pairs]
    expected = (per_view[:3] + per_view[3:]) / 2
    np.testing.assert_allclose(np.asarray(nt_xent(z, 0.2)), expected, rtol=1e-5)


def test_encoder_is_a_flat_graph_and_the_job_is_listed():
    encoder = build_encoder(16, 2, embedding_dim=8, width=4)
    assert all(not hasattr(layer, "layers") for layer in encoder.layers)
    assert encoder.output.shape == (None, 8)
    assert get_job("train_encoder").function() is train_encoder
    assert get_job("encode").function() is encode


_JAX_SCRIPT = """
import sys
class Block:  # galview.ml needs no TensorFlow under JAX (Keras would import it only to seed it)
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "tensorflow":
            raise ImportError("blocked " + name)
sys.meta_path.insert(0, Block())
import numpy as np
from galview.ml.contrastive import EncoderSettings, encode, train_encoder
images = np.random.default_rng(0).integers(0, 255, (16, 16, 16, 3)).astype(np.uint8)
settings = EncoderSettings(size=16, embedding_dim=8, width=4, projection_dim=8)
path = train_encoder(images, {out!r}, epochs=1, batch_size=8, settings=settings)
print(encode(path, images).shape)
"""


@pytest.mark.slow  # XLA compiles every initializer and the step: 40–70 s on two busy cores
def test_training_runs_under_jax(tmp_path):
    pytest.importorskip("jax")
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    script = _JAX_SCRIPT.format(out=str(tmp_path / "enc"))
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "(16, 8)" in done.stdout
    assert json.loads((tmp_path / "enc" / "encoder.json").read_text())["backend"] == "jax"

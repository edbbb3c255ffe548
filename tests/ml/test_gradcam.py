"""Grad-CAM, saliency and ``galview explain`` on tiny models (any Keras backend)."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from PIL import Image

from galview.cli import main
from galview.ml.architectures import build_model
from galview.ml.errors import ModelError
from galview.ml.gradcam import GradCam, explain, guided_backprop, guided_gradcam, normalise, saliency
from galview.ml.guided import count_guided, guided_model
from galview.ml.loading import infer_card, load_model, save_model

TF_ONLY = pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="GradientTape reference")


def _spot_model(row: int, col: int) -> keras.Model:
    """16×16×1 → identity conv 'conv' (ReLU) → a readout summing a 5×5 window around (row, col) → sigmoid."""
    inputs = keras.Input((16, 16, 1), name="cutout")
    conv = keras.layers.Conv2D(1, 3, padding="same", use_bias=False, activation="relu", name="conv")
    x = keras.layers.Flatten()(conv(inputs))
    dense = keras.layers.Dense(1, activation="sigmoid", name="probability")
    model = keras.Model(inputs, dense(x))
    kernel = np.zeros((3, 3, 1, 1), np.float32)
    kernel[1, 1] = 1.0
    conv.set_weights([kernel])
    mask = np.zeros((16, 16), np.float32)
    mask[max(row - 2, 0) : row + 3, max(col - 2, 0) : col + 3] = 1.0
    dense.set_weights([mask.reshape(-1, 1), np.array([-1.0], np.float32)])
    return model


def _spot_image(row: int, col: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:16, 0:16]
    image = rng.uniform(0, 0.1, (16, 16)) + np.exp(-((yy - row) ** 2 + (xx - col) ** 2) / 2.0)
    return image[None, ..., None].astype(np.float32)


@pytest.fixture(scope="module")
def deepshadows():
    keras.utils.set_random_seed(3)
    return build_model("deepshadows", (24, 24, 3))


@pytest.fixture(scope="module")
def cutouts():
    return np.random.default_rng(1).uniform(0, 1, (50, 24, 24, 3)).astype(np.float32)


@pytest.mark.parametrize("row, col", [(3, 4), (8, 8), (12, 2), (13, 13)])
def test_heat_map_peaks_at_the_spot_the_model_responds_to(row, col):
    cam = GradCam(_spot_model(row, col), "conv")(_spot_image(row, col), class_index=1)
    peak = np.unravel_index(np.argmax(cam[0]), cam.shape[1:])
    assert abs(peak[0] - row) <= 2 and abs(peak[1] - col) <= 2, (peak, (row, col))


def test_zero_range_map_stays_zero_without_nan():
    # Class 0 scores 1 - p: every channel weight is negative, so the ReLU leaves an all-zero map.
    cam = GradCam(_spot_model(8, 8))(_spot_image(8, 8), class_index=0)
    assert cam.dtype == np.float32 and not np.isnan(cam).any() and not cam.any()
    assert not normalise(np.full((2, 3, 3), 7.0)).any()


@TF_ONLY
def test_tape_reference_agrees(deepshadows, cutouts):
    import tensorflow as tf

    conv = deepshadows.get_layer("conv3")
    reference_model = keras.Model(deepshadows.inputs, [conv.output, deepshadows.output])
    with tf.GradientTape() as tape:
        features, probs = reference_model(tf.constant(cutouts), training=False)
        score = probs[:, 0]
    grads = tape.gradient(score, features)
    pooled = tf.reduce_mean(grads, axis=(1, 2))
    heat = tf.nn.relu(tf.einsum("bhwk,bk->bhw", features, pooled))
    heat = tf.image.resize(heat[..., None], (24, 24), method="bilinear")[..., 0].numpy()
    heat /= np.maximum(heat.max(axis=(1, 2), keepdims=True), 1e-30)

    ours = GradCam(deepshadows, "conv3")(cutouts, class_index=1)
    compared = 0
    for mine, theirs in zip(ours, heat, strict=True):
        if theirs.max() == 0:
            assert not mine.any()
            continue
        assert np.corrcoef(mine.ravel(), theirs.ravel())[0, 1] >= 0.99
        compared += 1
    assert compared >= 25


def test_shapes_range_and_serving_model_untouched(deepshadows, cutouts):
    x = cutouts[:6]
    weights = [w.copy() for w in deepshadows.get_weights()]
    before = keras.ops.convert_to_numpy(deepshadows(x, training=False))
    n_layers = len(deepshadows.layers)
    cam = GradCam(deepshadows)
    assert cam.layer_name == "conv3"
    every = (
        cam(x),
        saliency(deepshadows, x),
        guided_gradcam(deepshadows, x),
        guided_backprop(deepshadows, x),
    )
    for maps in every:
        assert maps.shape == (6, 24, 24) and maps.dtype == np.float32
        assert maps.min() >= 0.0 and maps.max() <= 1.0 and not np.isnan(maps).any()
    after = keras.ops.convert_to_numpy(deepshadows(x, training=False))
    np.testing.assert_array_equal(before, after)
    assert len(deepshadows.layers) == n_layers
    assert deepshadows.layers[-1].activation is keras.activations.sigmoid
    for old, new in zip(weights, deepshadows.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)


@pytest.mark.parametrize("row, col", [(3, 4), (12, 11)])
def test_guided_backprop_peaks_at_the_spot(row, col):
    model = _spot_model(row, col)
    image = _spot_image(row, col)
    for maps in (guided_backprop(model, image, 1), guided_gradcam(model, image, 1)):
        peak = np.unravel_index(np.argmax(maps[0]), maps.shape[1:])
        assert abs(peak[0] - row) <= 2 and abs(peak[1] - col) <= 2, (peak, (row, col))


def test_guided_copy_replaces_every_relu_and_keeps_the_forward_pass(deepshadows, cutouts):
    n_relu = sum(getattr(layer, "activation", None) is keras.activations.relu for layer in deepshadows.layers)
    copy = guided_model(deepshadows)
    assert n_relu >= 4 and count_guided(copy) == n_relu and count_guided(deepshadows) == 0
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(copy(cutouts[:4], training=False)),
        keras.ops.convert_to_numpy(deepshadows(cutouts[:4], training=False)),
        rtol=1e-5,
        atol=1e-6,
    )


@TF_ONLY
def test_guided_backprop_agrees_with_a_tensorflow_reference(deepshadows, cutouts):
    """Reference: the model rebuilt layer by layer in eager TensorFlow with a tf.custom_gradient ReLU."""
    import tensorflow as tf

    @tf.custom_gradient
    def reference_relu(x):
        return tf.nn.relu(x), lambda dy: dy * tf.cast(x > 0, dy.dtype) * tf.cast(dy > 0, dy.dtype)

    def forward(x):
        for layer in deepshadows.layers[1:]:
            relu = getattr(layer, "activation", None) is keras.activations.relu
            if relu:
                layer.activation = keras.activations.linear
            try:
                x = layer(x, training=False)
            finally:
                if relu:
                    layer.activation = keras.activations.relu
            x = reference_relu(x) if relu else x
        return x

    x = tf.constant(cutouts)
    with tf.GradientTape() as tape:
        tape.watch(x)
        score = forward(x)[:, 0]
    reference = np.maximum(tape.gradient(score, x).numpy(), 0).max(axis=-1)
    ours = guided_backprop(deepshadows, cutouts, class_index=1)
    r = [np.corrcoef(a.ravel(), b.ravel())[0, 1] for a, b in zip(ours, reference, strict=True) if b.max() > 0]
    assert len(r) >= 25 and min(r) >= 0.99, min(r)
    assert deepshadows.layers[1].activation is keras.activations.relu


@TF_ONLY
def test_agrees_with_tf_keras_vis_on_the_shipped_model_and_real_cutouts(shared_data):
    """tf-keras-vis zooms its map with corners aligned (scipy), GalView with half-pixel centres (like
    tf.image.resize): the maps must agree exactly before upsampling and closely after it."""
    from tf_keras_vis.gradcam import Gradcam
    from tf_keras_vis.utils.scores import BinaryScore

    from galview.assets import models_dir
    from galview.io import open_collection
    from galview.ml.inputs import model_input

    loaded = load_model(models_dir() / "deepshadows_des_sim.keras")
    with open_collection(shared_data / "des_lsbg" / "des_lsbg_dev.npz") as collection:
        x = model_input(collection.get_batch(np.arange(0, 112, 3)), loaded.card.input)
    ours = GradCam(loaded.model, loaded.card.explain_layer)
    vis = Gradcam(loaded.model, clone=True)
    raw_vis = np.asarray(vis(BinaryScore(True), x, penultimate_layer=ours.layer_name, expand_cam=False))
    small = GradCam(loaded.model, ours.layer_name, upsample=False)(x, class_index=1)
    assert small.shape == raw_vis.shape
    full_vis = np.asarray(vis(BinaryScore(True), x, penultimate_layer=ours.layer_name))
    full_ours = ours(x, class_index=1)
    r_raw, r_full = [], []
    for a, b, c, d in zip(small, raw_vis, full_ours, full_vis, strict=True):
        if a.std() > 0 and b.std() > 0:
            r_raw.append(np.corrcoef(a.ravel(), b.ravel())[0, 1])
            r_full.append(np.corrcoef(c.ravel(), d.ravel())[0, 1])
    assert len(r_raw) >= 30
    assert min(r_raw) >= 0.99, (min(r_raw), np.median(r_full))
    assert np.median(r_full) >= 0.9, np.median(r_full)


def test_class_selection_and_default_is_predicted(deepshadows, cutouts):
    x = cutouts[:8]
    cam = GradCam(deepshadows, "conv2")
    zero, one = cam(x, class_index=0), cam(x, class_index=1)
    assert not np.allclose(zero, one)
    predicted = (keras.ops.convert_to_numpy(deepshadows(x, training=False))[:, 0] > 0.5).astype(int)
    np.testing.assert_allclose(cam(x), cam(x, class_index=predicted), atol=1e-6)
    with pytest.raises(ModelError, match="class 2"):
        cam(x, class_index=2)


def test_multiclass_index():
    keras.utils.set_random_seed(0)
    model = build_model("deepshadows", (16, 16, 3), n_outputs=3)
    x = np.random.default_rng(2).uniform(0, 1, (4, 16, 16, 3)).astype(np.float32)
    cam = GradCam(model)
    maps = [cam(x, class_index=k) for k in range(3)]
    assert all(m.shape == (4, 16, 16) for m in maps)
    assert not np.allclose(maps[0], maps[2])
    with pytest.raises(ModelError, match="0..2"):
        cam(x, class_index=3)
    with pytest.raises(ModelError, match="nope"):
        GradCam(model, "nope")


# -- the command line ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cli_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("explain")
    keras.utils.set_random_seed(5)
    model = build_model("deepshadows", (16, 16, 3))
    save_model(model, infer_card(model), folder / "m.keras")
    images = np.random.default_rng(4).integers(0, 255, (6, 16, 16, 3), dtype=np.uint8)
    np.savez(folder / "data.npz", images=images)
    return folder


def _explain(cli_files, *args):
    return main(["explain", "--model", str(cli_files / "m.keras"), str(cli_files / "data.npz"), *args])


def test_cli_writes_npy_maps(cli_files, tmp_path):
    assert _explain(cli_files, "--index", "3", "-o", str(tmp_path / "one.npy")) == 0
    one = np.load(tmp_path / "one.npy")
    assert one.shape == (16, 16) and one.dtype == np.float32
    expected = explain(load_model(cli_files / "m.keras"), np.load(cli_files / "data.npz")["images"][3:4])
    np.testing.assert_allclose(one, expected[0], atol=1e-6)
    assert _explain(cli_files, "--index", "3", "--index", "0", "-o", str(tmp_path / "two.npy")) == 0
    assert np.load(tmp_path / "two.npy").shape == (2, 16, 16)
    path = str(tmp_path / "all.npy")
    assert _explain(cli_files, "--all", "--method", "saliency", "--class", "1", "-o", path) == 0
    assert np.load(path).shape == (6, 16, 16)


def test_cli_writes_png_side_by_side(cli_files, tmp_path):
    assert _explain(cli_files, "--index", "1", "--index", "2", "-o", str(tmp_path / "x.png")) == 0
    with Image.open(tmp_path / "x.png") as image:
        assert image.mode == "RGB"
        array = np.asarray(image)
    height, width, _ = array.shape
    panel = height // 2  # two rows (one per cutout), each a square cutout and its overlay side by side
    assert height == 2 * panel and width == 2 * panel and panel >= 16
    assert not np.array_equal(array[:panel, :panel], array[:panel, panel:])


def test_cli_bad_index_is_one_line_exit_2(cli_files, tmp_path, capsys):
    assert _explain(cli_files, "--index", "6", "-o", str(tmp_path / "bad.npy")) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "index 6" in err
    assert _explain(cli_files, "--index", "0", "--class", "4", "-o", str(tmp_path / "bad.npy")) == 2
    assert not (tmp_path / "bad.npy").exists()


def test_cli_explanation_sheet(cli_files, tmp_path, capsys):
    labels = np.array([0, 1, 0, 1, 0, 1])
    images = np.load(cli_files / "data.npz")["images"]
    np.savez(tmp_path / "labelled.npz", images=images, labels=labels)
    args = ["explain", "--model", str(cli_files / "m.keras"), str(tmp_path / "labelled.npz"), "--sheet"]
    assert main([*args, "--per-group", "2", "-o", str(tmp_path / "sheet.png")]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in printed[:4]] == ["TP", "FP", "TN", "FN"]
    with Image.open(tmp_path / "sheet.png") as image:
        assert image.mode == "RGB" and image.height > 4 * 128
    assert main([*args, "-o", str(tmp_path / "sheet.npy")]) == 2  # a sheet is an image
    assert (
        main(
            [
                "explain",
                "--model",
                str(cli_files / "m.keras"),
                str(cli_files / "data.npz"),
                "--sheet",
                "-o",
                str(tmp_path / "x.png"),
            ]
        )
        == 2
    )  # no labels


def test_warm_up_traces_once_so_later_batches_do_not_retrace(cli_files):
    import keras

    from galview.ml.gradcam import _explainer, warm_up

    if keras.backend.backend() != "tensorflow":
        pytest.skip("counts TensorFlow traces")
    loaded = load_model(cli_files / "m.keras")
    warm_up(loaded)
    step = _explainer(loaded.model, loaded.card.explain_layer)._step
    compiled = step.__closure__  # the tf.function lives in the closure of the step
    function = next(
        c.cell_contents for c in compiled if hasattr(c.cell_contents, "experimental_get_tracing_count")
    )
    traced = function.experimental_get_tracing_count()
    images = np.load(cli_files / "data.npz")["images"]
    for size in (3, 5, 6):
        explain(loaded, images[:size])
    assert function.experimental_get_tracing_count() == traced


def test_odd_batch_sizes_give_the_same_maps_as_one_by_one(deepshadows, cutouts):
    """Under JAX batches are padded to a power of two; the padding must not leak into the results."""
    cam = GradCam(deepshadows)
    together = cam(cutouts[:5], class_index=[0, 1, 1, 0, 1])
    alone = np.concatenate([cam(cutouts[i : i + 1], class_index=k) for i, k in enumerate([0, 1, 1, 0, 1])])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    sal = saliency(deepshadows, cutouts[:3], 1)
    np.testing.assert_allclose(sal[2], saliency(deepshadows, cutouts[2:3], 1)[0], atol=1e-5)

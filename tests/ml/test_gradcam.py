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
    assert len(r_raw) >= 20  # of 38; maps with no positive evidence for the LSBG class are flat in both
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


def _balanced_model(bias: float) -> keras.Model:
    """8×8×1 → identity conv 'conv' (ReLU) → Dense(+1 at (2, 2) and (5, 5), -1 at (2, 5); ``bias``) → sigmoid.

    On :func:`_balanced_image` the two lit pixels cancel exactly, so the output is sigmoid(bias): exactly
    0.5 for ``bias = 0``. The weights sum to +1, so class 1 (score p) weights the channel positively and
    its map is not empty, while class 0 (score 1 - p) weights it negatively and its map is all zeros.
    """
    inputs = keras.Input((8, 8, 1), name="cutout")
    conv = keras.layers.Conv2D(1, 3, padding="same", use_bias=False, activation="relu", name="conv")
    dense = keras.layers.Dense(1, activation="sigmoid", name="probability")
    model = keras.Model(inputs, dense(keras.layers.Flatten()(conv(inputs))))
    kernel = np.zeros((3, 3, 1, 1), np.float32)
    kernel[1, 1] = 1.0
    conv.set_weights([kernel])
    weights = np.zeros((8, 8), np.float32)
    weights[2, 2] = weights[5, 5] = 1.0
    weights[2, 5] = -1.0
    dense.set_weights([weights.reshape(-1, 1), np.array([bias], np.float32)])
    return model


def _balanced_image() -> np.ndarray:
    image = np.zeros((1, 8, 8, 1), np.float32)
    image[0, 2, 2] = image[0, 2, 5] = 1.0
    return image


@pytest.mark.parametrize("bias, expected", [(0.0, 0), (-1e-6, 0), (1e-6, 1)])
def test_default_class_at_one_half_is_the_predicted_one(bias, expected):
    """p = 0.5 exactly is predicted negative (galview.core.scores.is_positive): Grad-CAM explains class 0."""
    from galview.core.scores import is_positive

    model = _balanced_model(bias)
    x = _balanced_image()
    p = keras.ops.convert_to_numpy(model(x, training=False))[0, 0]
    assert (p == 0.5) == (bias == 0.0) and int(is_positive(p)) == expected
    cam = GradCam(model, "conv")
    zero, one = cam(x, class_index=0), cam(x, class_index=1)
    assert not zero.any() and one.max() == 1.0  # the two classes' maps tell them apart
    np.testing.assert_array_equal(cam(x), one if expected else zero)


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


def test_cli_all_leaves_a_damaged_image_without_a_map_and_warns(cli_files, tmp_path, capsys):
    folder = tmp_path / "pngs"
    folder.mkdir()
    images = np.load(cli_files / "data.npz")["images"]
    for i, image in enumerate(images):
        Image.fromarray(image).save(folder / f"c{i}.png")
    whole = (folder / "c4.png").read_bytes()
    (folder / "c4.png").write_bytes(whole[: len(whole) // 2])
    model = ["explain", "--model", str(cli_files / "m.keras"), str(folder)]
    assert main([*model, "--all", "-o", str(tmp_path / "all.npy")]) == 0
    maps = np.load(tmp_path / "all.npy")
    assert np.isnan(maps[4]).all() and np.isfinite(np.delete(maps, 4, axis=0)).all()
    expected = explain(load_model(cli_files / "m.keras"), images[:2])
    np.testing.assert_allclose(maps[:2], expected, atol=1e-6)
    err = capsys.readouterr().err
    assert "warning: 1 cutout could not be read and was left out of the heat maps (cutout 4: " in err
    assert main([*model, "--all", "-o", str(tmp_path / "all.png")]) == 0
    with Image.open(tmp_path / "all.png") as image:
        assert image.height == 5 * image.width // 2  # five rows, one per readable cutout
    assert main([*model, "--index", "4", "-o", str(tmp_path / "four.npy")]) == 2  # asked for by number


def test_cli_bad_index_is_one_line_exit_2(cli_files, tmp_path, capsys):
    assert _explain(cli_files, "--index", "6", "-o", str(tmp_path / "bad.npy")) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "index 6" in err
    assert _explain(cli_files, "--index", "0", "--class", "4", "-o", str(tmp_path / "bad.npy")) == 2
    assert not (tmp_path / "bad.npy").exists()


def _brightness_model() -> keras.Model:
    """16×16×3 → 1×1 conv 'conv' (ReLU of brightness b and of 1 - b) → mean → sigmoid(10 mean(b) - 10 mean(1 - b)).

    Confident on bright (p > 0.99) and dark (p < 0.01) cutouts; class 1's Grad-CAM lights the pixels
    brighter than half, class 0's the darker ones, so every example of the sheet has a heat map.
    """
    inputs = keras.Input((16, 16, 3), name="cutout")
    conv = keras.layers.Conv2D(2, 1, activation="relu", name="conv")
    dense = keras.layers.Dense(1, activation="sigmoid", name="probability")
    model = keras.Model(inputs, dense(keras.layers.GlobalAveragePooling2D()(conv(inputs))), name="brightness")
    kernel = np.zeros((1, 1, 3, 2), np.float32)
    kernel[..., 0], kernel[..., 1] = 1 / 3, -1 / 3
    conv.set_weights([kernel, np.array([0.0, 1.0], np.float32)])
    dense.set_weights([np.array([[10.0], [-10.0]], np.float32), np.zeros(1, np.float32)])
    return model


@pytest.fixture(scope="module")
def sheet_files(tmp_path_factory):
    """The brightness model, and six noisy cutouts: bright ones (0, 1, 5) and dark ones (2, 3, 4),
    labelled so that the groups are TP {1, 5}, FP {0}, TN {2, 4}, FN {3}."""
    import dataclasses

    from galview.ml.cards import InputSpec

    folder = tmp_path_factory.mktemp("sheet")
    model = _brightness_model()
    card = dataclasses.replace(
        infer_card(model), input=InputSpec((16, 16, 3), dtype="uint8", scale="divide255")
    )
    save_model(model, card, folder / "m.keras")
    rng = np.random.default_rng(7)
    levels = np.array([200, 215, 45, 35, 55, 190])[:, None, None, None]
    images = np.clip(rng.normal(levels, 40, (6, 16, 16, 3)), 0, 255).astype(np.uint8)
    np.savez(folder / "labelled.npz", images=images, labels=np.array([0, 1, 0, 1, 0, 1]))
    np.savez(folder / "unlabelled.npz", images=images)
    return folder


def test_cli_explanation_sheet(sheet_files, tmp_path, capsys):
    """The sheet shows, row by row, each group's cutouts (as rendered) over their Grad-CAM overlays."""
    from galview.core.display import default_settings, render
    from galview.core.explanation import SHEET_GROUPS, sheet_examples, sheet_tile_origin
    from galview.io import open_collection
    from galview.ml.gradcam import overlay

    args = ["explain", "--model", str(sheet_files / "m.keras"), str(sheet_files / "labelled.npz"), "--sheet"]
    assert main([*args, "--per-group", "2", "-o", str(tmp_path / "sheet.png")]) == 0
    printed = capsys.readouterr().out.splitlines()
    groups = {
        name: [int(i) for i in rest.split()] for name, rest in (line.split(":") for line in printed[:4])
    }
    loaded = load_model(sheet_files / "m.keras")
    with open_collection(sheet_files / "labelled.npz") as collection:
        images, labels = collection.get_batch(np.arange(6)), collection.labels
        settings = default_settings(collection.dtype, 3)
        rgbs = [render(image, settings, collection.bands, collection.dtype) for image in images]
    probs = keras.ops.convert_to_numpy(loaded.model(images.astype(np.float32) / 255))[:, 0]
    expected = sheet_examples(labels, probs, k=2)
    assert groups == {name: expected[name].tolist() for name, *_ in SHEET_GROUPS}
    assert {name: set(v) for name, v in groups.items()} == {"TP": {1, 5}, "FP": {0}, "TN": {2, 4}, "FN": {3}}
    with Image.open(tmp_path / "sheet.png") as image:
        assert image.mode == "RGB"
        sheet = np.asarray(image).astype(np.int16)

    def tile(row, column, heat):
        top, left = sheet_tile_origin(row, column, heat)
        return sheet[top : top + 128, left : left + 128]

    def scaled(rgb):
        return rgb.repeat(8, axis=0).repeat(8, axis=1).astype(np.int16)  # 16 px → 128 px, pixel by pixel

    for row, (name, *_) in enumerate(SHEET_GROUPS):
        maps = explain(loaded, images[groups[name]])  # the same batch the sheet explained
        for column, (index, heat) in enumerate(zip(groups[name], maps, strict=True)):
            where = f"{name} column {column} (cutout {index})"
            assert heat.max() == 1.0, where  # a real heat map, not an empty one
            np.testing.assert_array_equal(tile(row, column, False), scaled(rgbs[index]), err_msg=where)
            blended = scaled(overlay(rgbs[index], heat))
            np.testing.assert_allclose(tile(row, column, True), blended, atol=1, err_msg=where)
            assert np.abs(blended - scaled(rgbs[index])).mean() > 5, where  # the overlay shows the map
        if len(groups[name]) < 2:  # the free slot of a short row is empty
            assert (tile(row, 1, False) == 24).all() and (tile(row, 1, True) == 24).all(), name
    assert main([*args, "-o", str(tmp_path / "sheet.npy")]) == 2  # a sheet is an image
    unlabelled = ["explain", "--model", str(sheet_files / "m.keras"), str(sheet_files / "unlabelled.npz")]
    assert main([*unlabelled, "--sheet", "-o", str(tmp_path / "x.png")]) == 2  # no labels


def test_cli_explanation_sheet_leaves_out_a_cutout_that_cannot_be_read(sheet_files, tmp_path, capsys):
    """A damaged file of a labelled folder is named in a warning and left off the sheet; the rest is drawn."""
    folder = tmp_path / "pngs"
    folder.mkdir()
    with np.load(sheet_files / "labelled.npz") as data:
        images, labels = data["images"], data["labels"]
    for i, image in enumerate(images):
        Image.fromarray(image).save(folder / f"c{i}.png")
    (folder / "labels.csv").write_text(
        "filename,label\n" + "".join(f"c{i}.png,{v}\n" for i, v in enumerate(labels))
    )
    whole = (folder / "c1.png").read_bytes()
    (folder / "c1.png").write_bytes(whole[: len(whole) // 2])  # cutout 1, a true positive, cut in half
    args = ["explain", "--model", str(sheet_files / "m.keras"), str(folder), "--sheet", "--per-group", "2"]
    assert main([*args, "-o", str(tmp_path / "sheet.png")]) == 0
    captured = capsys.readouterr()
    assert "warning: 1 cutout could not be read and was left out of the sheet (cutout 1: " in captured.err
    assert "c1.png" in captured.err
    lines = captured.out.splitlines()[:4]
    groups = {name: {int(i) for i in rest.split()} for name, rest in (line.split(":") for line in lines)}
    assert groups == {"TP": {5}, "FP": {0}, "TN": {2, 4}, "FN": {3}}  # all but cutout 1
    assert (tmp_path / "sheet.png").stat().st_size > 0


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


def test_saturated_prediction_still_has_a_map_because_the_logit_is_explained():
    """p rounds to exactly 1.0 in float32: the sigmoid's gradient is zero there, the logit's is not."""
    model = _spot_model(8, 8)
    dense = model.get_layer("probability")
    weights, bias = dense.get_weights()
    dense.set_weights([weights * 1000.0, bias])
    x = _spot_image(8, 8)
    assert keras.ops.convert_to_numpy(model(x, training=False))[0, 0] == 1.0
    cam = GradCam(model, "conv")(x, class_index=1)
    assert cam.max() == 1.0
    peak = np.unravel_index(np.argmax(cam[0]), cam.shape[1:])
    assert abs(peak[0] - 8) <= 2 and abs(peak[1] - 8) <= 2
    assert guided_backprop(model, x, class_index=1).max() == 1.0


def test_logit_output_reuses_the_last_layers_weights():
    from galview.ml.gradcam import logit_output

    model = _spot_model(4, 4)
    logits, on_logits = logit_output(model)
    assert on_logits
    x = _spot_image(4, 4)
    z = keras.ops.convert_to_numpy(keras.Model(model.inputs[0], logits)(x))
    p = keras.ops.convert_to_numpy(model(x))
    np.testing.assert_allclose(1 / (1 + np.exp(-z)), p, rtol=1e-5)
    linear = keras.Model(model.inputs[0], keras.layers.Dense(1, name="plain")(model.layers[-2].output))
    assert logit_output(linear) == (linear.output, False)

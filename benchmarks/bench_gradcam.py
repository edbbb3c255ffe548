"""Grad-CAM latency and agreement on the shipped model: GalView against tf-keras-vis and plain GradientTape.

    python benchmarks/bench_gradcam.py [--model models/deepshadows_des_sim.keras] [--repeats 30]

Cutouts: the 112 real DES cutouts of ../shared/data/des_lsbg (read, not copied). Three implementations
of the same Grad-CAM (class 1 = LSBG, the card's explain layer) run on the same model in one process:

- GalView (``GradCam``: a gradient function compiled once with tf.function);
- the straightforward eager GradientTape version (the keras-io example's recipe, gradient model built
  once, no tf.function);
- tf-keras-vis ``Gradcam`` (if importable; it is a test dependency).

Latency is the median of ``--repeats`` calls after two warm-up calls, for one cutout and a batch of 64.
Agreement is Pearson r per cutout between GalView's and each other implementation's map.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np

from galview.assets import default_model_path
from galview.io import open_collection
from galview.ml.gradcam import GradCam, normalise
from galview.ml.inputs import model_input
from galview.ml.loading import load_model

DES = Path(__file__).resolve().parents[2] / "shared" / "data" / "des_lsbg" / "des_lsbg_dev.npz"


def median_ms(call, repeats: int) -> float:
    call()
    call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times))


def tape_gradcam(model, layer_name: str, upsample: bool = True):
    """The keras-io recipe: eager GradientTape on a gradient model built once."""
    import keras
    import tensorflow as tf

    grad_model = keras.Model(model.inputs, [model.get_layer(layer_name).output, model.output])

    def run(x: np.ndarray) -> np.ndarray:
        with tf.GradientTape() as tape:
            features, probs = grad_model(tf.constant(x), training=False)
            score = probs[:, 0]
        grads = tape.gradient(score, features)
        pooled = tf.reduce_mean(grads, axis=(1, 2))
        heat = tf.nn.relu(tf.einsum("bhwk,bk->bhw", features, pooled))
        if upsample:
            heat = tf.image.resize(heat[..., None], x.shape[1:3], method="bilinear")[..., 0]
        return normalise(heat.numpy())

    return run


def minimal_gradcam(model, layer_name: str):
    """The least a compiled Grad-CAM can do: one tf.function, class 1, no class choice, no checks."""
    import keras
    import tensorflow as tf

    grad_model = keras.Model(model.inputs, [model.get_layer(layer_name).output, model.output])

    @tf.function(reduce_retracing=True)
    def step(x):
        with tf.GradientTape() as tape:
            features, probs = grad_model(x, training=False)
            score = probs[:, 0]
        grads = tape.gradient(score, features)
        cam = tf.nn.relu(tf.reduce_sum(features * tf.reduce_mean(grads, axis=(1, 2), keepdims=True), -1))
        return tf.image.resize(cam[..., None], tf.shape(x)[1:3], method="bilinear")[..., 0]

    return lambda x: normalise(step(tf.constant(x)).numpy())


def keras_vis_gradcam(model, layer_name: str):
    try:
        from tf_keras_vis.gradcam import Gradcam
        from tf_keras_vis.utils.scores import BinaryScore
    except ImportError:
        return None
    gradcam = Gradcam(model, clone=True)
    return lambda x: gradcam(BinaryScore(True), x, penultimate_layer=layer_name)


def correlation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    keep = [i for i in range(len(a)) if a[i].std() > 0 and b[i].std() > 0]
    return np.array([np.corrcoef(a[i].ravel(), b[i].ravel())[0, 1] for i in keep])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=str(default_model_path()))
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()

    loaded = load_model(args.model)
    layer = loaded.card.explain_layer
    with open_collection(DES) as collection:
        x = model_input(collection.get_batch(np.arange(len(collection))), loaded.card.input)
    batch = np.concatenate([x, x])[:64]
    ours = GradCam(loaded.model, layer)
    others = {
        "minimal tf.function": minimal_gradcam(loaded.model, ours.layer_name),
        "GradientTape (eager)": tape_gradcam(loaded.model, ours.layer_name),
    }
    vis = keras_vis_gradcam(loaded.model, ours.layer_name)
    if vis is not None:
        others["tf-keras-vis Gradcam"] = vis

    print(f"# {platform.node()} · {os.cpu_count()} CPUs · {platform.processor() or platform.machine()}")
    print(f"model {args.model}, layer {ours.layer_name}, {len(x)} real DES cutouts {x.shape[1:]}")
    reference = ours(x, class_index=1)
    one = median_ms(lambda: ours(x[:1], class_index=1), args.repeats)
    many = median_ms(lambda: ours(batch, class_index=1), args.repeats)
    print(
        f"{'implementation':24s} {'1 cutout ms':>12s} {'64 cutouts ms':>14s} {'r median':>9s} {'r min':>7s}"
    )
    print(f"{'GalView GradCam':24s} {one:12.2f} {many:14.2f} {'':>9s} {'':>7s}")
    for name, run in others.items():
        r = correlation(reference, np.asarray(run(x)))
        o1 = median_ms(lambda run=run: run(x[:1]), args.repeats)
        o64 = median_ms(lambda run=run: run(batch), args.repeats)
        print(f"{name:24s} {o1:12.2f} {o64:14.2f} {np.median(r):9.4f} {r.min():7.4f}")
        print(f"  ratio (theirs / GalView): 1 cutout {o1 / one:.1f}×, batch of 64 {o64 / many:.1f}×")
    if vis is not None:  # the same comparison before upsampling (tf-keras-vis zooms with corners aligned)
        from tf_keras_vis.gradcam import Gradcam
        from tf_keras_vis.utils.scores import BinaryScore

        raw = Gradcam(loaded.model, clone=True)(
            BinaryScore(True), x, penultimate_layer=ours.layer_name, expand_cam=False
        )
        r = correlation(tape_gradcam(loaded.model, ours.layer_name, upsample=False)(x), np.asarray(raw))
        print(
            f"  tf-keras-vis at feature-map resolution {raw.shape[1:]}: r median {np.median(r):.4f}, "
            f"min {r.min():.4f}"
        )
    forward = median_ms(lambda: loaded.model.predict_on_batch(batch), args.repeats)
    print(
        f"forward pass alone (predict_on_batch), 64 cutouts: {forward:.2f} ms "
        f"→ Grad-CAM costs {many / forward:.2f}× a forward pass"
    )
    for method in ("guided", "saliency"):
        run = ours.guided if method == "guided" else ours.saliency
        print(
            f"GalView {method:9s} 1 cutout {median_ms(lambda run=run: run(x[:1], 1), args.repeats):.2f} ms, "
            f"64 cutouts {median_ms(lambda run=run: run(batch, 1), args.repeats):.2f} ms"
        )


if __name__ == "__main__":
    main()

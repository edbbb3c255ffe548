"""Grad-CAM, guided backpropagation, guided Grad-CAM and input saliency, for any Keras 3 backend.

:class:`GradCam` is built once per loaded model. It makes one separate gradient model,
``keras.Model(model.input, [layer.output, model.output])``, that shares the serving model's layers and
weights; the serving model itself is never changed (its output activation stays). The only
backend-specific code is the gradient step (:func:`_tensorflow_step`, :func:`_jax_step`,
:func:`_torch_step`); class scores, channel weights, upsampling and normalisation are shared.

The class score is the model's *logit*, the output before its final sigmoid or softmax, when the model
ends in one (:func:`logit_output`): a saturated prediction (p = 1.0 in float32) has a zero gradient
through the sigmoid and would give a flat map, while the logit keeps its gradient. For a binary model
with one sigmoid unit, class 1 scores the logit ``z`` and class 0 scores ``-z`` (the logit of
``1 - p``); otherwise class ``k`` scores logit ``k``. A model with another last activation is scored on
its output (``p`` and ``1 - p`` for one unit). The default class is the predicted one, decided on the
probability (``p > 0.5`` as in :func:`galview.core.scores.is_positive`; the arg-max).
Guided backpropagation runs on a separate copy of the model with guided ReLUs (:mod:`galview.ml.guided`).

Every map is float32 in [0, 1], normalised per sample as ``(m - min) / (max - min)``; a map with no
range (e.g. all zeros, after the ReLU) stays all zeros rather than becoming NaN (tf-explain's fix).
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any

import numpy as np

from galview.core import colormaps
from galview.core.scores import DECISION_THRESHOLD
from galview.ml.adapt import adapt_for
from galview.ml.errors import ModelError
from galview.ml.inputs import model_input
from galview.ml.loading import last_conv_layer
from galview.ml.physical import heat_to_cutout

METHODS = ("gradcam", "guided", "backprop", "saliency")
"""Grad-CAM; guided Grad-CAM (Grad-CAM × guided backpropagation); guided backpropagation; saliency."""


class GradCam:
    """Grad-CAM (Selvaraju et al. 2017) for one model, with a gradient function compiled once.

    Parameters
    ----------
    model : keras.Model
        A flat functional model with one image input ``(B, H, W, C)``; not modified.
    layer_name : str, optional
        The convolution layer to explain (e.g. ``card.explain_layer``); default the last Conv2D.
    upsample : bool
        Maps at the input's resolution (default) or at the layer's feature-map resolution.

    Raises
    ------
    ModelError
        No such layer, no convolution layer, or a layer without an ``(H, W, C)`` feature map.
    """

    def __init__(self, model: Any, layer_name: str | None = None, upsample: bool = True):
        import keras

        name = layer_name or last_conv_layer(model)
        if name is None:
            raise ModelError(model.name, "has no 2-D convolution layer to explain; name one explicitly")
        try:
            layer = model.get_layer(name)
        except ValueError:
            raise ModelError(model.name, f"has no layer {name!r} to explain") from None
        if len(layer.output.shape) != 4:
            raise ModelError(model.name, f"layer {name!r} has no (H, W, C) feature map to explain")
        self.model_name = model.name  # no reference to the model: the cache below must not keep it alive
        self.layer_name = name
        self.n_outputs = int(model.output_shape[-1])
        self.input_hw = tuple(model.inputs[0].shape[1:3])
        self.map_hw = self.input_hw if upsample else tuple(layer.output.shape[1:3])
        self.backend = keras.backend.backend()
        scores, self.on_logits = logit_output(model)
        self.gradient_model = keras.Model(model.inputs, [layer.output, scores], name="gradcam")
        steps = {"tensorflow": _tensorflow_step, "jax": _jax_step, "torch": _torch_step}
        if self.backend not in steps:
            raise ModelError(model.name, f"Grad-CAM does not support the {self.backend!r} Keras backend")
        self._step = steps[self.backend](self.gradient_model, self.map_hw, self.on_logits)
        self._model_ref = weakref.ref(model)  # the guided copy is built from it on first use
        self._guided_step = None

    def class_indices(self, n: int, class_index: int | Sequence[int] | None) -> np.ndarray:
        """Per-sample class indices, ``-1`` meaning "the predicted class"; ModelError if out of range."""
        if class_index is None:
            return np.full(n, -1, np.int32)
        indices = np.broadcast_to(np.asarray(class_index, np.int32), (n,)).copy()
        n_classes = 2 if self.n_outputs == 1 else self.n_outputs
        bad = indices[(indices < 0) | (indices >= n_classes)]
        if bad.size:
            raise ModelError(
                self.model_name,
                f"class {int(bad[0])} does not exist; the model has classes 0..{n_classes - 1}",
            )
        return indices

    def maps(
        self, x: np.ndarray, class_index: int | Sequence[int] | None = None, wrt_input: bool = False
    ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        """Raw Grad-CAM (B, H, W) before normalising, ∂score/∂input (if ``wrt_input``), scores; numpy."""
        x = np.asarray(x, np.float32)
        if x.ndim != 4:
            raise ModelError(self.model_name, f"expected a prepared batch (B, H, W, C), got shape {x.shape}")
        indices = self.class_indices(len(x), class_index)
        return _in_buckets(self._step, x, indices, wrt_input, self.backend)

    def __call__(self, x: np.ndarray, class_index: int | Sequence[int] | None = None) -> np.ndarray:
        """Grad-CAM maps of a prepared float batch ``x`` (B, H, W, C): (B, H, W) float32 in [0, 1]."""
        return normalise(self.maps(x, class_index)[0])

    def saliency(self, x: np.ndarray, class_index: int | Sequence[int] | None = None) -> np.ndarray:
        """``|∂score/∂input|``, max over channels, normalised: (B, H, W) float32 in [0, 1]."""
        _, dx, _ = self.maps(x, class_index, wrt_input=True)
        return normalise(np.abs(dx).max(axis=-1))

    def guided_backprop(self, x: np.ndarray, class_index: int | Sequence[int] | None = None) -> np.ndarray:
        """Guided backpropagation: positive ∂score/∂input through guided ReLUs, max over channels.

        Computed on a separate copy of the model (:func:`galview.ml.guided.guided_model`), built once.
        """
        x = np.asarray(x, np.float32)
        _, dx, _ = self._guided(x, self.class_indices(len(x), class_index))
        return normalise(np.maximum(dx, 0.0).max(axis=-1))

    def guided(self, x: np.ndarray, class_index: int | Sequence[int] | None = None) -> np.ndarray:
        """Guided Grad-CAM (Selvaraju et al. 2017): Grad-CAM × guided backpropagation, normalised."""
        cam = _resize(self(x, class_index), np.shape(x)[1:3])  # a no-op unless upsample=False
        return normalise(cam * self.guided_backprop(x, class_index))

    def _guided(self, x: np.ndarray, indices: np.ndarray):
        if self._guided_step is None:
            import keras

            from galview.ml.guided import guided_model

            model = self._model_ref()
            if model is None:
                raise ModelError(self.model_name, "is no longer loaded")
            copy = guided_model(model)
            layer = copy.get_layer(self.layer_name)
            scores, on_logits = logit_output(copy)
            gradient_model = keras.Model(copy.inputs, [layer.output, scores], name="guided")
            steps = {"tensorflow": _tensorflow_step, "jax": _jax_step, "torch": _torch_step}
            self._guided_step = steps[self.backend](gradient_model, self.map_hw, on_logits)
        return _in_buckets(self._guided_step, x, indices, True, self.backend)


def saliency(model: Any, x: np.ndarray, class_index: int | Sequence[int] | None = None) -> np.ndarray:
    """Gradient saliency (Simonyan et al. 2014) of a prepared batch: (B, H, W) float32 in [0, 1].

    Uses the cached :class:`GradCam` of ``model`` (so ``model`` needs a convolution layer).
    """
    return _explainer(model, None).saliency(x, class_index)


def guided_gradcam(
    model: Any, x: np.ndarray, class_index: int | Sequence[int] | None = None, layer_name: str | None = None
) -> np.ndarray:
    """Guided Grad-CAM of a prepared batch: Grad-CAM × guided backpropagation, (B, H, W) in [0, 1]."""
    return _explainer(model, layer_name).guided(x, class_index)


def guided_backprop(model: Any, x: np.ndarray, class_index: int | Sequence[int] | None = None) -> np.ndarray:
    """Guided backpropagation of a prepared batch (Springenberg et al. 2015): (B, H, W) in [0, 1]."""
    return _explainer(model, None).guided_backprop(x, class_index)


def explain(
    loaded: Any,
    cutouts: Any,
    method: str = "gradcam",
    class_index: int | Sequence[int] | None = None,
    batch_size: int = 64,
    collection: Any = None,
) -> np.ndarray:
    """Heat maps of cutouts in their native dtype, at cutout resolution: (B, H, W) float32 in [0, 1].

    Parameters
    ----------
    loaded : LoadedModel
        Its card's InputSpec prepares the cutouts; ``card.explain_layer`` is the layer explained.
    cutouts : array-like, shape (B, H, W, C)
    method : {'gradcam', 'guided', 'backprop', 'saliency'}
    class_index : int or sequence of int, optional
        Default: each cutout's predicted class.
    collection : Collection, optional
        The collection the cutouts come from: when they fit the model only through the physical
        adapter, it is built from the collection (:func:`galview.ml.adapt.adapt_for`). A physical
        adapter's maps come back on the cutouts' grid, zero outside the field the model saw.
    """
    if collection is not None:
        loaded, _note = adapt_for(loaded, collection)
    if method not in METHODS:
        raise ModelError(loaded.path, f"unknown explanation method {method!r}; expected one of {METHODS}")
    cutouts = np.asarray(cutouts)
    if cutouts.ndim != 4:
        raise ModelError(loaded.path, f"expected cutouts (B, H, W, C), got shape {cutouts.shape}")
    cam = _explainer(loaded.model, loaded.card.explain_layer)
    run = {
        "gradcam": cam.__call__,
        "guided": cam.guided,
        "backprop": cam.guided_backprop,
        "saliency": cam.saliency,
    }[method]
    indices = None if class_index is None else cam.class_indices(len(cutouts), class_index)
    maps = [
        run(
            model_input(cutouts[i : i + batch_size], loaded.card.input),
            None if indices is None else indices[i : i + batch_size],
        )
        for i in range(0, len(cutouts), batch_size)
    ]
    if not maps:
        return np.zeros((0, *cutouts.shape[1:3]), np.float32)
    out, adapter = np.concatenate(maps), loaded.card.input.adapter or {}
    if "physical" in adapter:  # the model saw a resampled crop: put the maps back where it was
        return normalise(heat_to_cutout(out, adapter))
    if out.shape[1:] != cutouts.shape[1:3]:  # the card's adapter resized the cutouts
        out = normalise(_resize(out, cutouts.shape[1:3]))
    return out


def warm_up(loaded: Any) -> None:
    """Compile the Grad-CAM function of ``loaded`` now, so the first heat map in the window costs
    milliseconds: TensorFlow traces batches of 1 and 2 (later sizes reuse the relaxed trace); JAX
    compiles the sizes the window uses most (1, and the 16 of a prefetch batch)."""
    import keras

    spec = loaded.card.input
    sizes = (1, 16) if keras.backend.backend() == "jax" else (1, 2)
    zeros = np.zeros((max(sizes), *spec.shape), dtype=np.uint8 if spec.dtype == "uint8" else np.float32)
    for size in sizes:
        explain(loaded, zeros[:size])


def normalise(maps: np.ndarray) -> np.ndarray:
    """Scale each map of (B, ...) to [0, 1]; a map with no range becomes all zeros (never NaN)."""
    maps = np.nan_to_num(np.asarray(maps, np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    axes = tuple(range(1, maps.ndim))
    low = maps.min(axis=axes, keepdims=True)
    span = maps.max(axis=axes, keepdims=True) - low
    safe = np.where(span > 0, span, 1.0)
    return np.where(span > 0, (maps - low) / safe, 0.0).astype(np.float32)


def colourise(heat: np.ndarray, colormap: str = "inferno") -> np.ndarray:
    """A colour ramp (default inferno): (H, W) values in [0, 1] → (H, W, 3) uint8."""
    return colormaps.colourise(heat, colormap)


def overlay(rgb: np.ndarray, heat: np.ndarray, alpha: float = 0.5, colormap: str = "inferno") -> np.ndarray:
    """Blend the colourised heat map over an (H, W, 3) uint8 image; the heat map is resized to fit."""
    heat = np.asarray(heat, np.float32)
    if heat.shape != rgb.shape[:2]:
        heat = np.clip(_resize(heat[None], rgb.shape[:2])[0], 0.0, 1.0)
    return colormaps.blend(rgb, heat, alpha, colormap)


# -- shared pieces ----------------------------------------------------------------------------
_CACHE: weakref.WeakKeyDictionary[Any, dict[str | None, GradCam]] = weakref.WeakKeyDictionary()


def _explainer(model: Any, layer_name: str | None) -> GradCam:
    """The GradCam of ``model`` for ``layer_name``, built on first use and kept while the model lives."""
    per_model = _CACHE.setdefault(model, {})
    if layer_name not in per_model:
        per_model[layer_name] = GradCam(model, layer_name)
    return per_model[layer_name]


def _in_buckets(step: Any, x: np.ndarray, indices: np.ndarray, wrt_input: bool, backend: str):
    """Run ``step`` on a batch padded to the next power of two under JAX, which compiles once per
    batch size: a handful of compiled sizes instead of one per size the window happens to ask for."""
    n = len(x)
    if backend != "jax" or n == 0 or n & (n - 1) == 0:
        return step(x, indices, wrt_input)
    size = 1 << (n - 1).bit_length()
    pad = size - n
    x = np.concatenate([x, np.repeat(x[-1:], pad, axis=0)])
    indices = np.concatenate([indices, np.repeat(indices[-1:], pad)])
    return tuple(None if part is None else part[:n] for part in step(x, indices, wrt_input))


def _resize(maps: np.ndarray, size: Sequence[int]) -> np.ndarray:
    """Bilinear resize of (B, h, w) maps to (B, *size), float32 numpy."""
    import keras

    maps = np.asarray(maps, np.float32)
    if tuple(maps.shape[1:3]) == tuple(size):
        return maps
    out = keras.ops.image.resize(
        maps[..., None], tuple(int(s) for s in size), interpolation="bilinear", data_format="channels_last"
    )
    return keras.ops.convert_to_numpy(out)[..., 0].astype(np.float32)


def logit_output(model: Any) -> tuple[Any, bool]:
    """The symbolic output to explain: ``(logits, True)`` when ``model`` ends in a sigmoid or softmax.

    The last layer is re-applied without its activation by a copy that holds the same weights (a
    ``Dense(…, activation="sigmoid")`` becomes the same Dense with no activation); a separate final
    ``Activation`` layer is skipped. Any other model gives ``(model.output, False)``.
    """
    import keras

    last = model.layers[-1]
    activation = getattr(last, "activation", None)
    if activation not in (keras.activations.sigmoid, keras.activations.softmax):
        return model.output, False
    if isinstance(last, keras.layers.Activation):
        return last.input, True
    config = {**last.get_config(), "activation": None, "name": f"{last.name}_logits"}
    copy = last.__class__.from_config(config)
    logits = copy(last.input)
    copy.set_weights(last.get_weights())
    return logits, True


def _score(outputs: Any, indices: Any, on_logits: bool) -> Any:
    """Per-sample class scores; ``indices == -1`` picks the predicted class.

    ``outputs`` are logits when ``on_logits`` (class 0 of one sigmoid unit scores ``-z``), else
    probabilities (class 0 scores ``1 - p``). The predicted class is always decided on the probability.
    """
    from keras import ops

    if outputs.shape[-1] == 1:
        p = ops.sigmoid(outputs[:, 0]) if on_logits else outputs[:, 0]
        # galview.core.scores.is_positive in keras.ops (numpy cannot run in the compiled step): the same
        # threshold, the same strict comparison, so p == 0.5 explains class 0 as it is predicted class 0.
        idx = ops.where(indices < 0, ops.cast(ops.greater(p, DECISION_THRESHOLD), "int32"), indices)
        if on_logits:
            return ops.where(idx == 1, outputs[:, 0], -outputs[:, 0])
        return ops.where(idx == 1, p, 1.0 - p)
    idx = ops.where(indices < 0, ops.cast(ops.argmax(outputs, axis=-1), "int32"), indices)
    return ops.sum(outputs * ops.one_hot(idx, outputs.shape[-1], dtype=outputs.dtype), axis=-1)


def _cam(features: Any, grads: Any, size: Sequence[int]) -> Any:
    """Grad-CAM from feature maps A (B, h, w, K) and ∂s/∂A: ReLU(Σ_k mean(∂s/∂A_k)·A_k), upsampled to ``size``.

    Written with ``keras.ops`` so that it runs inside each backend's compiled gradient function.
    """
    from keras import ops

    weights = ops.mean(grads, axis=(1, 2), keepdims=True)  # (B, 1, 1, K): the channel importances
    cam = ops.relu(ops.sum(features * weights, axis=-1))
    if tuple(cam.shape[1:3]) != tuple(size):
        cam = ops.image.resize(cam[..., None], tuple(size), interpolation="bilinear")[..., 0]
    return cam


# -- the gradient step, one per backend: (x, indices, wrt_input) → (cam, ∂s/∂x or None, s), numpy ----
def _tensorflow_step(gradient_model: Any, size: Sequence[int], on_logits: bool) -> Any:
    import tensorflow as tf

    def step(x: Any, indices: Any, wrt_input: bool) -> Any:
        with tf.GradientTape() as tape:
            tape.watch(x)  # records the graph even for a model without trainable weights
            features, probs = gradient_model(x, training=False)
            score = _score(probs, indices, on_logits)
        targets = [features, x] if wrt_input else [features]
        grads = tape.gradient(score, targets)  # a vector target: the sum of independent samples' scores
        return _cam(features, grads[0], size), (grads[1] if wrt_input else tf.zeros([0])), score

    compiled = tf.function(step, reduce_retracing=True)  # traced once per (shape, wrt_input)

    def run(x: np.ndarray, indices: np.ndarray, wrt_input: bool) -> Any:
        cam, dx, score = compiled(tf.constant(x), tf.constant(indices), wrt_input)
        return cam.numpy(), dx.numpy() if wrt_input else None, score.numpy()

    return run


def _jax_step(gradient_model: Any, size: Sequence[int], on_logits: bool) -> Any:
    """JAX differentiates functions, not tapes: split the graph at the layer into body and head."""
    import jax
    import jax.numpy as jnp
    import keras

    body = keras.Model(gradient_model.inputs, gradient_model.outputs[0])
    head = keras.Model(gradient_model.outputs[0], gradient_model.outputs[1])

    def head_score(features: Any, tv: Any, ntv: Any, indices: Any) -> Any:
        probs, _ = head.stateless_call(tv, ntv, features, training=False)
        score = _score(probs, indices, on_logits)
        return jnp.sum(score), score

    def full_score(x: Any, tv: Any, ntv: Any, indices: Any) -> Any:
        (_, probs), _ = gradient_model.stateless_call(tv, ntv, x, training=False)
        score = _score(probs, indices, on_logits)
        return jnp.sum(score), score

    @jax.jit
    def cam_step(x: Any, body_state: Any, head_state: Any, indices: Any) -> Any:
        features, _ = body.stateless_call(*body_state, x, training=False)
        grads, score = jax.grad(head_score, has_aux=True)(features, *head_state, indices)
        return _cam(features, grads, size), score

    input_grad = jax.jit(jax.grad(full_score, has_aux=True))

    def state(model: Any) -> tuple[list[Any], list[Any]]:
        return [v.value for v in model.trainable_variables], [v.value for v in model.non_trainable_variables]

    def run(x: np.ndarray, indices: np.ndarray, wrt_input: bool) -> Any:
        x = jnp.asarray(x)
        idx = jnp.asarray(indices)
        cam, score = cam_step(x, state(body), state(head), idx)
        dx = np.asarray(input_grad(x, *state(gradient_model), idx)[0]) if wrt_input else None
        return np.asarray(cam), dx, np.asarray(score)

    return run


def _torch_step(gradient_model: Any, size: Sequence[int], on_logits: bool) -> Any:
    import keras
    import torch

    def run(x: np.ndarray, indices: np.ndarray, wrt_input: bool) -> Any:
        xt = keras.ops.convert_to_tensor(x).detach().requires_grad_(True)
        idx = keras.ops.convert_to_tensor(indices)
        with torch.enable_grad():
            features, probs = gradient_model(xt, training=False)
            score = _score(probs, idx, on_logits)
            targets = [features, xt] if wrt_input else [features]
            grads = torch.autograd.grad(score.sum(), targets)
        with torch.no_grad():
            cam = _cam(features.detach(), grads[0], size)
        dx = grads[1].detach().cpu().numpy() if wrt_input else None
        return cam.detach().cpu().numpy(), dx, score.detach().cpu().numpy()

    return run

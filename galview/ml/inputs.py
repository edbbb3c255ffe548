"""Turn a collection's cutouts into what a model was trained on, or say plainly why they don't fit.

A model's :class:`~galview.ml.cards.InputSpec` records the shape, dtype, bands and scaling of its
training cutouts. :func:`check_compatible` compares a collection against it; when they differ the
user chooses an explicit adapter (:func:`make_adapter`: band selection, greyscale, resize) that is
stored in the spec (``dataclasses.replace(spec, adapter=...)``) and recorded in the model card, or
GalView builds the physical adapter (:mod:`galview.ml.physical`, resolved by
:func:`galview.ml.adapt.adapt_for`) from the cutouts' WCS, bands and flux unit. Float fluxes never
reach a model of uint8 colours through a plain adapter. :func:`model_input` applies the physical
adapter, then scaling, then a plain adapter, to each batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from galview.ml.cards import InputSpec
from galview.ml.errors import CHOOSE_ADAPTER, ModelError

ADAPTER_KEYS = ("from", "select_bands", "greyscale", "resize", "physical")


def model_input(batch: Any, spec: InputSpec) -> np.ndarray:
    """Scale and adapt a batch of cutouts for ``model.predict``.

    Parameters
    ----------
    batch : array-like, shape (B, H, W, C)
        Cutouts in the collection's native dtype (uint8 or float); not modified.
    spec : InputSpec
        The model's input. A physical adapter (``spec.adapter["physical"]``) first turns fluxes into
        the model's representation (:func:`galview.ml.physical.apply_physical`); then
        ``spec.scale == 'divide255'`` divides by 255; then a plain ``spec.adapter`` selects bands,
        averages to greyscale, and resizes (bilinear, antialiased), in that order. NaN and ±inf
        pixels become 0 after scaling.

    Returns
    -------
    numpy.ndarray, float32, shape (B, *spec.shape)
    """
    if np.ndim(batch) != 4:
        raise ModelError(
            "model input", f"expected a batch of cutouts (B, H, W, C), got shape {np.shape(batch)}"
        )
    if spec.adapter and "physical" in spec.adapter:
        from galview.ml.physical import apply_physical

        _adapted_shape(np.shape(batch)[1:], spec.adapter, "adapter")  # validates the keys
        batch = apply_physical(batch, spec.adapter)
    x = np.array(batch, dtype=np.float32)  # always a copy: the in-place steps below never touch batch
    if spec.scale == "divide255":
        x *= np.float32(1 / 255)
    np.nan_to_num(x, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
    if spec.adapter and "physical" not in spec.adapter:
        x = _apply(x, spec.adapter)
    if x.shape[1:] != tuple(spec.shape):
        raise ModelError(
            "model input",
            f"cutouts are {_fmt(x.shape[1:])} after scaling and adapter; model expects {_fmt(spec.shape)}",
        )
    return x


def check_compatible(
    shape_hwc: Sequence[int],
    dtype: Any,
    bands: Sequence[str] | None,
    spec: InputSpec,
    where: str = "collection",
) -> None:
    """Raise ModelError unless a collection's cutouts can be fed to a model as ``spec`` says.

    Without an adapter the shape must match exactly, the dtype kind must match (uint8 with uint8,
    any float with float32) and the band names must match when both sides name them. With an
    adapter (an explicit choice by the user, or the physical adapter) the adapted shape must match,
    and float cutouts reach a uint8 model only through the physical adapter: a plain resize would
    feed it raw fluxes.

    Parameters
    ----------
    shape_hwc : sequence of int
        The collection's cutout shape ``(H, W, C)``.
    dtype : numpy dtype or str
        The collection's pixel dtype.
    bands : sequence of str or None
        The collection's band names, if known.
    spec : InputSpec
        The model's input.
    where : str
        Names the collection in the error message.
    """
    shape = tuple(int(s) for s in shape_hwc)
    if spec.adapter:
        _check_adapter(shape, spec, where)
        if "physical" not in spec.adapter and np.dtype(dtype).kind == "f" and spec.dtype == "uint8":
            raise ModelError(where, plain_adapter_refusal(spec))
        return
    problems = _mismatches(shape, np.dtype(dtype), tuple(bands or ()), spec)
    if problems:
        ours = _describe(shape, np.dtype(dtype).name, tuple(bands or ()))
        theirs = _describe(spec.shape, spec.dtype, spec.bands)
        raise ModelError(
            where,
            f"model expects {theirs} cutouts; this collection has {ours} — "
            + _hint(shape, spec, np.dtype(dtype), tuple(bands or ())),
        )


def make_adapter(
    shape_hwc: Sequence[int],
    spec: InputSpec,
    resize: bool = False,
    bands: Sequence[int] | None = None,
    greyscale: bool = False,
) -> dict[str, Any]:
    """Build an explicit adapter from a collection's cutouts to ``spec``'s shape.

    ``resize`` allows a bilinear resize to the model's ``H × W``; ``bands`` lists the channel
    indices to keep, in the model's order; ``greyscale`` averages the (selected) channels into one.
    Returns a JSON-ready dict such as ``{"from": {"shape": [256, 256, 3]}, "select_bands": [2, 1, 0],
    "resize": [64, 64]}``, where ``"from"`` records the cutouts ``(H, W, C)`` it was made for.
    ModelError if the result still would not fit the model.
    """
    h, w, c = (int(s) for s in shape_hwc)
    adapter: dict[str, Any] = {"from": {"shape": [h, w, c]}}
    if bands is not None:
        adapter["select_bands"] = [int(b) for b in bands]
    if greyscale:
        adapter["greyscale"] = True
    if (h, w) != tuple(spec.shape[:2]):
        if not resize:
            raise ModelError(
                "adapter", f"cutouts are {h}×{w} and the model takes {_fmt(spec.shape[:2])}: allow resize"
            )
        adapter["resize"] = [int(spec.shape[0]), int(spec.shape[1])]
    channels = _adapted_shape((h, w, c), adapter, "adapter")[2]
    if channels != spec.shape[2]:
        raise ModelError(
            "adapter",
            f"gives {channels} channel(s) and the model takes {spec.shape[2]}: "
            "select that many bands, or greyscale for a one-channel model",
        )
    return adapter


def plain_adapter_refusal(spec: InputSpec) -> str:
    """Why float cutouts may not reach a uint8 model through a plain adapter (resize, band selection)."""
    kind = spec.representation or "uint8 colours"
    if ": " in kind:
        kind = kind.replace(": ", " (", 1) + ")"
    return (
        f"a plain adapter would feed float fluxes to a model trained on {kind}; fluxes need the "
        "physical adapter (crop to the model's field, flux-conserving resample, its colour mapping)"
    )


def _check_adapter(shape: tuple[int, ...], spec: InputSpec, where: str) -> None:
    made_for = (spec.adapter.get("from") or {}).get("shape")
    if made_for is not None and tuple(made_for) != shape:
        raise ModelError(where, f"the adapter was made for {_fmt(made_for)} cutouts, not {_fmt(shape)}")
    adapted = _adapted_shape(shape, spec.adapter, where)
    if adapted != tuple(spec.shape):
        raise ModelError(
            where, f"the adapter gives {_fmt(adapted)} cutouts; model expects {_fmt(spec.shape)}"
        )


def _apply(x: np.ndarray, adapter: dict[str, Any]) -> np.ndarray:
    _adapted_shape(x.shape[1:], adapter, "adapter")  # validates keys and band indices
    if "select_bands" in adapter:
        x = x[..., list(adapter["select_bands"])]
    if adapter.get("greyscale"):
        x = x.mean(axis=-1, keepdims=True)
    if "resize" in adapter:
        import keras

        size = tuple(int(s) for s in adapter["resize"])
        resized = keras.ops.image.resize(
            x, size, interpolation="bilinear", antialias=True, data_format="channels_last"
        )
        x = keras.ops.convert_to_numpy(resized).astype(np.float32, copy=False)
    return np.ascontiguousarray(x)


def _adapted_shape(shape: Sequence[int], adapter: dict[str, Any], where: str) -> tuple[int, int, int]:
    """The (H, W, C) an adapter produces from ``shape``; ModelError for unknown keys or bad bands."""
    unknown = sorted(set(adapter) - set(ADAPTER_KEYS))
    if unknown:
        raise ModelError(where, f"unknown adapter step(s) {unknown}; known: {list(ADAPTER_KEYS[1:])}")
    h, w, c = (int(s) for s in shape)
    if "physical" in adapter:
        return _physical_shape(adapter, where)
    if "select_bands" in adapter:
        picks = adapter["select_bands"]
        if not picks or not all(isinstance(b, int) and 0 <= b < c for b in picks):
            raise ModelError(where, f"band selection {picks!r} must be indices 0..{c - 1} of the {c} bands")
        c = len(picks)
    if adapter.get("greyscale"):
        c = 1
    if "resize" in adapter:
        size = adapter["resize"]
        if not (isinstance(size, list | tuple) and len(size) == 2 and all(int(s) > 0 for s in size)):
            raise ModelError(where, f"resize must be [H, W], got {size!r}")
        h, w = int(size[0]), int(size[1])
    return h, w, c


def _physical_shape(adapter: dict[str, Any], where: str) -> tuple[int, int, int]:
    if set(adapter) != {"from", "physical"}:
        raise ModelError(
            where, "a physical adapter cannot be combined with band selection, greyscale or resize"
        )
    step = adapter["physical"]
    try:
        size = [int(s) for s in step["size"]]
        channels = 3 if step.get("colours") else len(step["select_bands"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(where, f"the physical adapter is incomplete or malformed ({exc!r})") from None
    return size[0], size[1], channels


def _mismatches(
    shape: tuple[int, ...], dtype: np.dtype, bands: tuple[str, ...], spec: InputSpec
) -> list[str]:
    problems = []
    if shape != tuple(spec.shape):
        problems.append("shape")
    want_uint8 = spec.dtype == "uint8"
    if (want_uint8 and dtype != np.uint8) or (not want_uint8 and dtype.kind != "f"):
        problems.append("dtype")
    if bands and spec.bands and tuple(bands) != tuple(spec.bands):
        problems.append("bands")
    return problems


def _hint(
    shape: tuple[int, ...], spec: InputSpec, dtype: np.dtype | None = None, bands: tuple[str, ...] = ()
) -> str:
    if dtype is not None and dtype.kind == "f" and spec.dtype == "uint8":
        return (
            "float fluxes become the model's uint8 colours only through the physical adapter, "
            "which needs the cutouts' pixel scale (a WCS), band names and flux unit"
        )
    steps = []
    if shape[:2] != tuple(spec.shape[:2]):
        steps.append("resize (--resize)")
    if shape[2] != spec.shape[2]:
        steps.append("band selection (--bands)")
        if spec.shape[2] == 1:
            steps.append("greyscale (--greyscale)")
    if not steps:  # the band names alone differ
        return (
            f"{CHOOSE_ADAPTER}band selection, naming the bands to feed in the model's order "
            f"(--bands {','.join(bands)} feeds them as they are)"
        )
    return CHOOSE_ADAPTER + ", ".join(steps)


def _describe(shape: Sequence[int], dtype: str, bands: Sequence[str]) -> str:
    text = f"{_fmt(shape)} {dtype}"
    return f"{text} ({','.join(bands)})" if bands else text


def _fmt(shape: Sequence[Any]) -> str:
    return "×".join(str(int(s)) for s in shape)

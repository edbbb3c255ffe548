"""Feeding cutouts to models: scaling, adapters, and plain refusals when they don't fit."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from galview.ml.cards import InputSpec
from galview.ml.errors import ModelError
from galview.ml.inputs import check_compatible, make_adapter, model_input

SHADOWS = InputSpec((64, 64, 3), ("R", "G", "B"), "uint8", "divide255")
GREY = InputSpec((8, 8, 1), ("grey",), "float32", "none")


def test_model_input_divides_by_255_without_touching_the_batch():
    batch = np.arange(2 * 64 * 64 * 3, dtype=np.int64).reshape(2, 64, 64, 3).__mod__(256).astype(np.uint8)
    original = batch.copy()
    out = model_input(batch, SHADOWS)
    assert out.dtype == np.float32 and out.shape == (2, 64, 64, 3)
    np.testing.assert_allclose(out, original / 255.0, rtol=1e-6)
    assert out.max() == pytest.approx(1.0) and np.array_equal(batch, original)
    floats = np.full((1, 8, 8, 1), 7.5, dtype=np.float32)
    assert np.array_equal(model_input(floats, GREY), floats) and model_input(floats, GREY) is not floats


def test_non_finite_pixels_become_zero_after_scaling():
    batch = np.ones((1, 8, 8, 1), dtype=np.float32)
    batch[0, 0, 0, 0], batch[0, 1, 1, 0], batch[0, 2, 2, 0] = np.nan, np.inf, -np.inf
    out = model_input(batch, dataclasses.replace(GREY, scale="divide255"))
    assert np.isfinite(out).all()
    assert out[0, 0, 0, 0] == out[0, 1, 1, 0] == out[0, 2, 2, 0] == 0
    assert out[0, 3, 3, 0] == pytest.approx(1 / 255)


def test_adapter_selects_bands_then_greyscale_then_resizes():
    rng = np.random.default_rng(0)
    batch = rng.random((2, 16, 16, 3), dtype=np.float32)
    spec = InputSpec((16, 16, 2), dtype="float32", adapter={"select_bands": [2, 0]})
    np.testing.assert_array_equal(model_input(batch, spec), batch[..., [2, 0]])
    spec = InputSpec((16, 16, 1), adapter={"select_bands": [0, 1], "greyscale": True})
    np.testing.assert_allclose(model_input(batch, spec)[..., 0], batch[..., :2].mean(axis=-1), rtol=1e-6)
    flat = np.full((1, 32, 32, 3), 0.25, dtype=np.float32)
    spec = InputSpec((8, 8, 3), adapter={"resize": [8, 8]})
    np.testing.assert_allclose(model_input(flat, spec), 0.25, rtol=1e-5)
    ramp = np.broadcast_to(np.linspace(0, 1, 32, dtype=np.float32)[None, None, :, None], (1, 32, 32, 1))
    small = model_input(ramp, InputSpec((32, 8, 1), adapter={"resize": [32, 8]}))[0, 0, :, 0]
    assert np.all(np.diff(small) > 0) and small.mean() == pytest.approx(0.5, abs=0.02)


def test_model_input_refuses_what_does_not_become_the_model_input():
    with pytest.raises(ModelError, match="model expects 64×64×3"):
        model_input(np.zeros((1, 32, 32, 3), np.uint8), SHADOWS)
    with pytest.raises(ModelError, match=r"\(B, H, W, C\)"):
        model_input(np.zeros((32, 32, 3), np.uint8), SHADOWS)
    with pytest.raises(ModelError, match="unknown adapter step"):
        model_input(np.zeros((1, 8, 8, 1)), dataclasses.replace(GREY, adapter={"rotate": 90}))
    with pytest.raises(ModelError, match="band selection"):
        model_input(np.zeros((1, 8, 8, 1)), dataclasses.replace(GREY, adapter={"select_bands": [3]}))


def test_matching_collections_pass():
    check_compatible((64, 64, 3), np.uint8, ("R", "G", "B"), SHADOWS)
    check_compatible((64, 64, 3), "uint8", None, SHADOWS)  # unnamed bands are not held against it
    check_compatible((8, 8, 1), np.float64, ("grey",), GREY)  # any float for a float32 model


def test_mismatch_message_says_what_each_side_is():
    with pytest.raises(ModelError) as info:
        check_compatible((256, 256, 3), np.float32, ("g", "r", "z"), SHADOWS, where="des.h5")
    assert str(info.value) == (  # float fluxes into uint8 colours: never "resize" (issue 11)
        "des.h5: model expects 64×64×3 uint8 (R,G,B) cutouts; this collection has 256×256×3 float32 "
        "(g,r,z) — float fluxes become the model's uint8 colours only through the physical adapter, "
        "which needs the cutouts' pixel scale (a WCS), band names and flux unit"
    )
    with pytest.raises(ModelError, match=r"— choose an adapter: resize \(--resize\)$"):
        check_compatible((256, 256, 3), np.uint8, ("R", "G", "B"), SHADOWS)
    with pytest.raises(
        ModelError,
        match=r"adapter: resize \(--resize\), band selection \(--bands\), greyscale \(--greyscale\)$",
    ):
        check_compatible((16, 16, 3), np.float32, None, GREY)
    with pytest.raises(ModelError, match="only through the physical adapter"):
        check_compatible((64, 64, 3), np.float32, None, SHADOWS)  # dtype alone: fluxes, not colours
    with pytest.raises(ModelError, match=r"band selection, .* \(--bands g,r,z feeds them as they are\)$"):
        check_compatible((64, 64, 3), np.uint8, ("g", "r", "z"), SHADOWS)  # bands alone


def test_make_adapter_builds_what_check_and_prepare_accept():
    adapter = make_adapter((256, 256, 3), SHADOWS, resize=True, bands=[2, 1, 0])
    assert adapter == {"from": {"shape": [256, 256, 3]}, "select_bands": [2, 1, 0], "resize": [64, 64]}
    spec = dataclasses.replace(SHADOWS, adapter=adapter)
    check_compatible((256, 256, 3), np.uint8, ("R", "G", "B"), spec)
    assert InputSpec.from_dict(spec.to_dict()) == spec  # survives the card's JSON
    out = model_input(np.zeros((2, 256, 256, 3), np.uint8), spec)
    assert out.shape == (2, 64, 64, 3)
    with pytest.raises(ModelError, match="made for 256×256×3 cutouts, not 128×128×3"):
        check_compatible((128, 128, 3), np.uint8, None, spec)
    accept = make_adapter((64, 64, 3), SHADOWS)  # same shape: an explicit acceptance of bands
    check_compatible((64, 64, 3), np.uint8, ("g", "r", "z"), dataclasses.replace(SHADOWS, adapter=accept))
    float_model = InputSpec((8, 8, 3), adapter=make_adapter((16, 16, 3), InputSpec((8, 8, 3)), resize=True))
    check_compatible((16, 16, 3), np.float32, None, float_model)  # a float model takes resized floats
    grey = make_adapter((8, 8, 3), GREY, greyscale=True)
    assert grey == {"from": {"shape": [8, 8, 3]}, "greyscale": True}


def test_make_adapter_refuses_what_cannot_work():
    with pytest.raises(ModelError, match="allow resize"):
        make_adapter((256, 256, 3), SHADOWS)
    with pytest.raises(ModelError, match="gives 1 channel"):
        make_adapter((64, 64, 3), SHADOWS, greyscale=True)
    with pytest.raises(ModelError, match="gives 2 channel"):
        make_adapter((64, 64, 3), SHADOWS, bands=[0, 1])
    with pytest.raises(ModelError, match="indices 0..2"):
        make_adapter((64, 64, 3), SHADOWS, bands=[0, 1, 5])


def test_a_plain_adapter_never_feeds_float_fluxes_to_a_uint8_colour_model():
    """A resize (or band selection, or an accepted difference) of float fluxes into a model of uint8
    viewer colours would give meaningless scores (issue 11: 0.2468–0.2481 for 12 real dwarfs)."""
    spec = dataclasses.replace(SHADOWS, representation="viewer colours: Legacy-Survey-like asinh grz mapping")
    for adapter in (make_adapter((256, 256, 3), spec, resize=True), make_adapter((64, 64, 3), spec)):
        shape = tuple(adapter["from"]["shape"])
        with pytest.raises(ModelError, match="plain adapter would feed float fluxes.*viewer colours"):
            check_compatible(shape, np.float32, ("g", "r", "z"), dataclasses.replace(spec, adapter=adapter))
        check_compatible(shape, np.uint8, ("R", "G", "B"), dataclasses.replace(spec, adapter=adapter))

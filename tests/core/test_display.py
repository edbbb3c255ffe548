"""Display scaling: stretches, intervals, composites, aids, NaN safety."""

from __future__ import annotations

import numpy as np
import pytest

from galview.core.display import (
    DisplaySettings,
    bin2x2,
    colour_planes,
    default_settings,
    limits,
    render,
    scale,
    smooth,
)


def test_uint8_rgb_shown_as_stored():
    rng = np.random.default_rng(1)
    cutout = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    out = render(cutout, default_settings(np.uint8, 3), ("R", "G", "B"))
    np.testing.assert_array_equal(out, cutout)


def test_float_defaults_use_asinh_composite():
    settings = default_settings(np.float32, 3)
    assert settings.mode == "colour" and settings.stretch == "asinh"
    assert default_settings(np.float32, 1).mode == "band"


@pytest.mark.parametrize("stretch", ["linear", "sqrt", "log", "asinh"])
@pytest.mark.parametrize("interval", ["minmax", "percentile", "zscale"])
def test_every_stretch_and_interval_is_monotonic_and_nan_safe(stretch, interval):
    ramp = np.tile(np.linspace(0, 100, 40, dtype=np.float32), (40, 1))[..., None]
    ramp[5, 5] = np.nan
    ramp[6, 6] = np.inf
    out = render(ramp, DisplaySettings(mode="band", stretch=stretch, interval=interval))
    assert out.dtype == np.uint8 and out.shape == (40, 40, 3)
    row = out[20, :, 0].astype(int)
    assert np.all(np.diff(row) >= 0) and row[-1] > row[0]
    assert out[5, 5, 0] == 0 and out[6, 6, 0] == 0


def test_non_linear_stretches_lift_faint_values():
    ramp = np.tile(np.linspace(0, 1, 101, dtype=np.float32), (4, 1))[..., None]
    lin = render(ramp, DisplaySettings(mode="band", stretch="linear", interval="minmax"))[0, 10, 0]
    for stretch in ("sqrt", "log", "asinh"):
        assert render(ramp, DisplaySettings(mode="band", stretch=stretch, interval="minmax"))[0, 10, 0] > lin


def test_interval_none_uses_dtype_range_for_integers():
    assert limits(np.array([3, 7], dtype=np.uint8), DisplaySettings(interval="none"), np.uint8) == (
        0.0,
        255.0,
    )
    assert limits(np.array([np.nan, 2.0, 4.0]), DisplaySettings(interval="minmax")) == (2.0, 4.0)
    assert limits(np.array([np.nan, np.nan]), DisplaySettings(interval="zscale")) == (0.0, 1.0)


def test_scale_guards_zero_range():
    assert np.all(scale(np.full((3, 3), 5.0), 5.0, 5.0, "asinh") == 0)


def test_composite_puts_reddest_band_in_red():
    assert colour_planes(("g", "r", "z"), 3) == (2, 1, 0)
    assert colour_planes(("z", "g", "r"), 3) == (0, 2, 1)
    assert colour_planes(("R", "G", "B"), 3) == (0, 1, 2)
    cutout = np.zeros((20, 20, 3), dtype=np.float32)
    cutout[..., 2] = np.linspace(0, 1, 20)[None, :]  # only z has signal
    cutout += np.random.default_rng(0).normal(0, 1e-3, cutout.shape).astype(np.float32)
    for method in ("lupton", "per-band"):
        out = render(cutout, DisplaySettings(colour=method, interval="minmax"), ("g", "r", "z"))
        assert out[10, 19, 0] > out[10, 19, 2], method


def test_legacy_mapping_weights_bands():
    cutout = np.full((10, 10, 3), 0.05, dtype=np.float32)
    out = render(cutout, DisplaySettings(colour="legacy"), ("g", "r", "z")).astype(int)
    assert out[5, 5, 2] > out[5, 5, 0]  # equal flux looks blue: g is weighted most, as in the viewer


def test_two_band_composite():
    cutout = np.random.default_rng(0).random((12, 12, 2)).astype(np.float32)
    assert render(cutout, DisplaySettings(), ("F814W", "F160W")).shape == (12, 12, 3)


def test_bin2x2_averages_and_ignores_nan():
    image = np.arange(16, dtype=np.float32).reshape(4, 4, 1)
    image[0, 0, 0] = np.nan
    out = bin2x2(image)
    assert out.shape == (2, 2, 1)
    assert out[0, 0, 0] == pytest.approx((1 + 4 + 5) / 3)
    assert out[1, 1, 0] == pytest.approx((10 + 11 + 14 + 15) / 4)
    assert render(np.ones((9, 9, 1), np.float32), DisplaySettings(bin2=True)).shape == (4, 4, 3)


def test_smoothing_reduces_noise_and_fills_nan():
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 1, (64, 64, 1)).astype(np.float32)
    noise[10, 10, 0] = np.nan
    out = smooth(noise, 2.0)
    assert np.isfinite(out[10, 10, 0])
    assert np.nanstd(out) < 0.5 * np.nanstd(noise)


def test_render_of_all_nan_is_black():
    out = render(np.full((8, 8, 3), np.nan, dtype=np.float32), DisplaySettings(), ("g", "r", "z"))
    assert out.max() == 0

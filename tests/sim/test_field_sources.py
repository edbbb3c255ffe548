"""The small sources around a candidate: counted and measured (simulator realism, issue 14)."""

from __future__ import annotations

import numpy as np

from galview.sim.field_sources import field_source_counts, field_source_line, field_source_shapes

OFF_CENTRE = [(6, 6), (6, 50), (50, 8), (52, 52), (30, 5)]


def sky(n: int = 1, seed: int = 0) -> np.ndarray:
    """Noisy flat sky, ``(n, 64, 64, 3)`` floats in grey levels."""
    return 32 + np.random.default_rng(seed).normal(0, 3, (n, 64, 64, 3))


def add_source(image: np.ndarray, row: int, col: int, sigma: float, colour=(1.0, 1.0, 1.0), amplitude=120.0):
    yy, xx = np.indices(image.shape[:2])
    blob = amplitude * np.exp(-((yy - row) ** 2 + (xx - col) ** 2) / (2 * sigma**2))
    image += blob[..., None] * np.asarray(colour)


def test_sources_around_the_centre_are_counted_and_the_candidate_is_not():
    images = sky()
    for row, col in OFF_CENTRE:
        add_source(images[0], row, col, 0.8)
    add_source(images[0], 32, 32, 3.0)  # the candidate
    assert field_source_counts(images).tolist() == [len(OFF_CENTRE)]


def test_flat_sky_and_a_bright_halo_have_no_sources():
    images = np.full((2, 64, 64, 3), 32.0)
    yy, xx = np.indices((64, 64))
    images[1] += (200 * np.exp(-np.hypot(yy - 70, xx - 70) / 15))[..., None]  # a smooth slope from outside
    assert field_source_counts(images).tolist() == [0, 0]


def test_sharp_sources_measure_sharper_than_broad_ones():
    sharp, broad = sky(1, 1), sky(1, 2)
    for row, col in OFF_CENTRE:
        add_source(sharp[0], row, col, 0.8)
        add_source(broad[0], row, col, 1.8)
    assert np.median(field_source_shapes(sharp)["sharpness"]) < 0.1
    assert np.median(field_source_shapes(broad)["sharpness"]) > 0.3


def test_red_and_blue_sources_are_told_apart():
    red, blue = sky(1, 3), sky(1, 4)
    for row, col in OFF_CENTRE:
        add_source(red[0], row, col, 0.8, colour=(1.3, 1.0, 0.7))
        add_source(blue[0], row, col, 0.8, colour=(0.7, 1.0, 1.3))
    assert np.all(field_source_shapes(red)["redness"] > 0.3)
    assert np.all(field_source_shapes(blue)["redness"] < -0.3)


def test_a_cutout_with_no_bright_source_gives_a_row_of_dashes():
    assert field_source_line("flat", np.full((3, 64, 64, 3), 32.0)) == "| flat | 0.00 | – | – | 0 |"

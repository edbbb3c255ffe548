"""Explanation settings, the sheet's choice of examples and its image; colour maps."""

from __future__ import annotations

import numpy as np
import pytest

from galview.core.colormaps import COLORMAPS, blend, colourise, lookup_table, rgba_table
from galview.core.explanation import (
    SHEET_CAPTION,
    SHEET_PAD,
    SHEET_TITLE,
    ExplainSettings,
    compose_sheet,
    sheet_examples,
    sheet_tile_origin,
)


def test_sheet_examples_pick_the_most_confident_of_each_group():
    labels = np.array([1, 1, 1, 0, 0, 0, 1, 0, np.nan, -1, 1, 0])
    probs = np.array([0.95, 0.85, 0.5, 0.99, 0.1, 0.01, 0.05, 0.15, 0.99, 0.99, np.nan, 0.81])
    groups = sheet_examples(labels, probs, k=2)
    assert groups["TP"].tolist() == [0, 1]  # 0.95 before 0.85; 0.5 is in no group
    assert groups["FP"].tolist() == [3, 11]  # unlabelled (8) and unsure (9) are left out
    assert groups["TN"].tolist() == [5, 4]  # lowest p first
    assert groups["FN"].tolist() == [6]
    swapped = sheet_examples(labels, 1 - probs, k=1, positive=0)
    assert swapped["TP"].tolist() == [5]
    with pytest.raises(ValueError, match="shape"):
        sheet_examples(labels, probs[:3])


def _tile(sheet, row, column, overlay, cell):
    top, left = sheet_tile_origin(row, column, overlay, cell)
    return sheet[top : top + cell, left : left + cell]


def test_compose_sheet_places_each_example_at_its_tile():
    """Every tile holds its own image scaled up pixel by pixel; tiles with no example hold none."""
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (side, side, 3), dtype=np.uint8) for side in (8, 8, 16, 16, 32, 32)]
    rows = [
        ("TP", [(images[0], images[1], "a"), (images[2], images[3], "b")]),
        ("FP", []),
        ("TN", [(images[4], images[5], "c")]),
    ]
    cell = 32
    sheet = compose_sheet(rows, cell=cell)
    row_height = SHEET_TITLE + 2 * cell + SHEET_CAPTION + SHEET_PAD
    assert sheet.dtype == np.uint8 and sheet.shape == (3 * row_height, SHEET_PAD + 2 * (cell + SHEET_PAD), 3)
    assert sheet_tile_origin(2, 1, True, cell) == (
        2 * row_height + SHEET_TITLE + cell,
        SHEET_PAD + cell + SHEET_PAD,
    )
    for r, (title, examples) in enumerate(rows):
        for c, (rgb, heat_rgb, _) in enumerate(examples):
            for overlay, image in ((False, rgb), (True, heat_rgb)):
                factor = cell // len(image)
                expected = image.repeat(factor, axis=0).repeat(factor, axis=1)
                np.testing.assert_array_equal(
                    _tile(sheet, r, c, overlay, cell), expected, err_msg=f"{title} {c} overlay={overlay}"
                )
    for r, c in ((1, 0), (1, 1), (2, 1)):  # an empty group, and a group shorter than the widest
        for overlay in (False, True):
            background = (_tile(sheet, r, c, overlay, cell) == 24).all(axis=-1)
            assert background.mean() > 0.8, (r, c, overlay)  # the rest is the "none in this group" note


def test_settings_validate():
    assert ExplainSettings().key == ("gradcam", None)
    for bad in ({"method": "nope"}, {"colormap": "nope"}, {"opacity": 1.5}):
        with pytest.raises(ValueError):
            ExplainSettings(**bad)


def test_colour_maps():
    for name in COLORMAPS:
        table = lookup_table(name)
        assert table.shape == (256, 3) and table.dtype == np.uint8
    assert tuple(colourise(np.array([0.0]), "grey")[0]) == (0, 0, 0)
    alpha = rgba_table()[:, 3]
    assert alpha[0] == 0 and alpha[-1] == 255 and (np.diff(alpha.astype(int)) >= 0).all()
    assert tuple(colourise(np.array([1.0, np.nan]), "grey")[0]) == (255, 255, 255)
    assert tuple(colourise(np.array([np.nan]), "grey")[0]) == (0, 0, 0)
    image = np.full((4, 4, 3), 100, np.uint8)
    assert (blend(image, np.zeros((4, 4)), 0.0) == image).all()
    assert (blend(image, np.ones((4, 4)), 1.0, "grey") == 255).all()
    assert (blend(image, np.full((4, 4), 0.1), 1.0, "grey")[..., 0] == 100 - round(0.2 * (100 - 26))).all()
    assert (blend(image, np.zeros((4, 4)), 1.0, "grey") == image).all()  # a cold map leaves the cutout
    with pytest.raises(ValueError):
        blend(image, np.zeros((3, 3)))
    with pytest.raises(ValueError, match="colour map"):
        lookup_table("rainbow")

"""Explanation settings, the sheet's choice of examples and its image; colour maps."""

from __future__ import annotations

import numpy as np
import pytest

from galview.core.colormaps import COLORMAPS, blend, colourise, lookup_table, rgba_table
from galview.core.explanation import ExplainSettings, compose_sheet, sheet_examples


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


def test_compose_sheet_places_each_example():
    red = np.zeros((8, 8, 3), np.uint8)
    red[..., 0] = 255
    blue = np.zeros((8, 8, 3), np.uint8)
    blue[..., 2] = 255
    sheet = compose_sheet([("TP", [(red, blue, "a"), (red, blue, "b")]), ("FP", [])], cell=32)
    assert sheet.dtype == np.uint8 and sheet.shape[1] == 6 + 2 * (32 + 6)
    top = 22  # title height
    assert tuple(sheet[top + 5, 10]) == (255, 0, 0) and tuple(sheet[top + 32 + 5, 10]) == (0, 0, 255)
    assert tuple(sheet[top + 5, 6 + 38 + 5]) == (255, 0, 0)


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

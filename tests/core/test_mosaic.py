"""A figure of cutouts: layout, tiles as the window draws them, captions, unreadable cutouts."""

from __future__ import annotations

import numpy as np
import pytest

from galview.core.collection import ArrayCollection
from galview.core.display import DisplaySettings, render
from galview.core.mosaic import (
    LINE,
    MAX_TILES,
    PAD,
    compose_mosaic,
    mosaic_layout,
    render_tiles,
    tile_captions,
)


def test_layout_is_near_square_or_as_asked():
    assert mosaic_layout(1) == (1, 1)
    assert mosaic_layout(10) == (3, 4)
    assert mosaic_layout(16) == (4, 4)
    assert mosaic_layout(10, columns=5) == (2, 5)
    assert mosaic_layout(3, columns=8) == (1, 3)  # no empty columns
    with pytest.raises(ValueError, match="at least one"):
        mosaic_layout(0)


def test_tiles_are_placed_in_reading_order_scaled_without_smoothing():
    tiles = [np.full((4, 4, 3), 10 * (k + 1), np.uint8) for k in range(5)]
    tiles[1][0, 0] = 255  # one bright pixel: 8 × 8 in a 32-px cell
    figure = compose_mosaic(tiles, [["a"]] * 5, columns=3, cell=32)
    tile_h = 32 + LINE + PAD
    assert figure.shape == (PAD + 2 * (tile_h + PAD), PAD + 3 * (32 + PAD), 3)
    for k in range(5):
        top, left = PAD + (k // 3) * (tile_h + PAD), PAD + (k % 3) * (32 + PAD)
        block = figure[top + 16 : top + 32, left + 16 : left + 32]
        assert (block == 10 * (k + 1)).all(), k
    second = figure[PAD : PAD + 32, PAD + 32 + PAD : PAD + 64 + PAD]
    assert (second[:8, :8] == 255).all() and (second[8:, 8:] == 20).all()
    with pytest.raises(ValueError, match="captions"):
        compose_mosaic(tiles, [["a"]] * 4)
    with pytest.raises(ValueError, match=f"at most {MAX_TILES}"):
        compose_mosaic(tiles * (MAX_TILES // 5 + 1), [["a"]] * 5 * (MAX_TILES // 5 + 1))


def test_captions_say_id_label_and_probability_where_known():
    captions = tile_captions(
        ["a", "b", "c", "d"], ["LSBG", "unlabelled", "", "artifact"], [0.856, 0.1, np.nan, np.nan]
    )
    assert captions == [["a", "LSBG · p 0.86"], ["b", "p 0.10"], ["c"], ["d", "artifact"]]
    assert tile_captions(["a"], ["artifact"], [0.2], "P(LSBG)") == [["a", "artifact · P(LSBG) 0.20"]]
    assert tile_captions(["a"], ["unsure"]) == [["a", "unsure"]]


def test_tiles_are_drawn_with_the_display_settings_and_an_unreadable_one_is_dark():
    rng = np.random.default_rng(0)
    images = rng.normal(1.0, 0.5, (4, 8, 8, 1)).astype(np.float32)
    images[2] = np.nan  # cannot be shown
    collection = ArrayCollection("memory", images, "NHWC")
    settings = DisplaySettings(mode="band", stretch="sqrt", interval="minmax")
    tiles, unreadable = render_tiles(collection, [3, 2, 0], settings)
    assert list(unreadable) == [1] and "no finite pixel" in unreadable[1]
    np.testing.assert_array_equal(tiles[0], render(images[3], settings, collection.bands, np.float32))
    np.testing.assert_array_equal(tiles[2], render(images[0], settings, collection.bands, np.float32))
    assert (tiles[1] == 40).all()

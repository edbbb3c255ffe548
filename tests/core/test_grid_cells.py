"""Display positions ↔ rectangles of grid cells (the grid's selection, without going cell by cell)."""

from __future__ import annotations

import numpy as np
import pytest

from galview.core.grid_cells import positions_in, rectangles


def _ranges(blocks):
    return [(top, bottom, left, right) for top, left, bottom, right in _listed(blocks)]


def _listed(blocks):
    return list(zip(*(a.tolist() for a in blocks), strict=True))


@pytest.mark.parametrize("columns", [1, 4, 9])
def test_rectangles_cover_exactly_the_positions_given(columns):
    rng = np.random.default_rng(columns)
    for _ in range(50):
        count = int(rng.integers(1, 300))
        wanted = np.unique(rng.choice(count, int(rng.integers(0, count + 1)), replace=True))
        blocks = rectangles(wanted, columns)
        np.testing.assert_array_equal(positions_in(_ranges(blocks), columns, count), wanted)
        cells = [(r, c) for top, left, bottom, right in _listed(blocks) for r in range(top, bottom + 1)
                 for c in range(left, right + 1)]  # fmt: skip
        assert len(cells) == len(set(cells)) == len(wanted)  # no cell twice


def test_consecutive_positions_are_a_few_rectangles_whatever_their_number():
    assert _listed(rectangles(np.arange(5, 100_005), 9)) == [
        (0, 5, 0, 8),
        (1, 0, 11_110, 8),
        (11_111, 0, 11_111, 5),
    ]
    assert _listed(rectangles(np.array([0, 1, 2, 9, 10]), 9)) == [(0, 0, 0, 2), (1, 0, 1, 1)]
    assert _listed(rectangles(np.array([7, 8, 9]), 9)) == [
        (0, 7, 0, 8),
        (1, 0, 1, 0),
    ]  # a run across a row's end
    assert _listed(rectangles(np.array([0, 1, 2, 3, 5, 6, 7, 8]), 4)) == [
        (0, 0, 0, 3),
        (1, 1, 1, 3),
        (2, 0, 2, 0),
    ]
    assert _listed(rectangles(np.empty(0, np.int64), 9)) == []


def test_positions_of_qt_rectangles_leave_out_the_empty_cells_after_the_last_cutout():
    # a 3 × 4 block from row 1, in a grid of 4 columns showing 14 cutouts: cells 12 and 13 exist, 14 and 15 not
    np.testing.assert_array_equal(positions_in([(1, 3, 0, 3)], 4, 14), np.arange(4, 14))
    np.testing.assert_array_equal(positions_in([(0, 0, 2, 2), (0, 0, 2, 2)], 4, 14), [2])  # twice: once
    assert positions_in([], 4, 14).size == 0

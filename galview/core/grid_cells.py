"""Which cells of the thumbnail grid a set of display positions covers, as few rectangles as will do.

The grid shows cutouts row by row, ``columns`` to a row; a position is ``row * columns + column``. Qt
keeps a selection as rectangles of cells, so a selection of consecutive positions is a run in each row it
touches, and full rows one after another are one rectangle. Working on the rectangles, not cell by cell,
keeps a selection of 100,000 cutouts from stalling the window (BENCHMARKS.md, "A large selection in the
grid").
"""

from __future__ import annotations

import numpy as np


def positions_in(ranges, columns: int, count: int) -> np.ndarray:
    """The sorted display positions inside ``ranges`` (``(top, bottom, left, right)`` rows and columns,
    inclusive, as Qt's selection ranges give them), less the empty cells after the last of ``count``."""
    if len(ranges) == 0:
        return np.empty(0, dtype=np.int64)
    r = np.asarray(ranges, dtype=np.int64).reshape(-1, 4)
    heights = r[:, 1] - r[:, 0] + 1
    rows = np.repeat(r[:, 0], heights) + _counting_up(heights)
    left, right = np.repeat(r[:, 2], heights), np.repeat(r[:, 3], heights)
    widths = right - left + 1
    positions = np.repeat(rows * columns + left, widths) + _counting_up(widths)
    positions = np.unique(positions)
    return positions[positions < count]


def rectangles(positions, columns: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(tops, lefts, bottoms, rights)``: rectangles of cells that cover exactly ``positions`` (sorted,
    unique), a run in each row and whole rows one after another merged."""
    p = np.asarray(positions, dtype=np.int64)
    if p.size == 0:
        return tuple(np.empty(0, dtype=np.int64) for _ in range(4))
    rows, cols = np.divmod(p, columns)
    new_run = np.ones(p.size, dtype=bool)
    new_run[1:] = (np.diff(p) != 1) | (rows[1:] != rows[:-1])
    starts = np.flatnonzero(new_run)
    ends = np.append(starts[1:], p.size) - 1
    row, left, right = rows[starts], cols[starts], cols[ends]
    whole = (left == 0) & (right == columns - 1)
    new_block = np.ones(row.size, dtype=bool)  # a whole row right below another whole row extends its block
    new_block[1:] = ~(whole[1:] & whole[:-1] & (row[1:] == row[:-1] + 1))
    first = np.flatnonzero(new_block)
    last = np.append(first[1:], row.size) - 1
    return row[first], left[first], row[last], right[last]


def _counting_up(lengths: np.ndarray) -> np.ndarray:
    """0, 1, …, n−1 for each n of ``lengths``, concatenated."""
    offsets = np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.arange(int(lengths.sum()), dtype=np.int64) - offsets

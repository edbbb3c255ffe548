"""The grid and the state agree on the selection both ways: the state's selection becomes the grid's cells
(as few rectangles as will do), and what the user Ctrl- or Shift-clicks becomes the state's selection."""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import Qt
from PyQt6.QtTest import QTest

from tests.qt.conftest import random_npz


def _cells(grid) -> list[int]:
    """The cutouts of the grid's selected cells, read cell by cell, in display order."""
    positions = sorted(grid.grid_model.position_at(cell) for cell in grid.selectionModel().selectedIndexes())
    return [int(grid.state.order[p]) for p in positions if p >= 0]


def _click(grid, cutout: int, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    rect = grid.visualRect(grid.grid_model.cell_of(cutout))
    QTest.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton, modifier, rect.center())


def test_the_states_selection_is_the_grids_cells_and_clicks_come_back(window, qtbot, tmp_path):
    window.open_path(random_npz(tmp_path / "a.npz", 60))
    qtbot.waitUntil(lambda: window.state.collection is not None and not window.runner.busy, timeout=20000)
    state, grid = window.state, window.grid
    columns = grid.grid_model.columns
    assert columns >= 2
    chosen = [1, *range(columns - 1, 3 * columns + 2), 40, 42]  # a cell, a run over whole rows, two apart
    state.set_selection(chosen)
    assert _cells(grid) == chosen
    assert len(grid.selectionModel().selection()) <= 6  # rectangles, not one range per cell
    _click(grid, 50, Qt.KeyboardModifier.ControlModifier)
    assert state.selection.tolist() == [*chosen, 50] == _cells(grid)
    _click(grid, 50, Qt.KeyboardModifier.ControlModifier)  # again: out of the selection
    assert state.selection.tolist() == chosen
    _click(grid, 3)
    _click(grid, columns + 4, Qt.KeyboardModifier.ShiftModifier)
    assert state.selection.tolist() == _cells(grid) and len(state.selection) > 2
    shown = state.selection.tolist()
    window.resize(window.width() + 3 * grid.verticalHeader().defaultSectionSize(), window.height())
    qtbot.waitUntil(lambda: grid.grid_model.columns != columns, timeout=5000)  # the model was reset
    assert _cells(grid) == shown == state.selection.tolist()
    _click(grid, 55, Qt.KeyboardModifier.ControlModifier)
    assert 55 not in shown and state.selection.tolist() == [*shown, 55] == _cells(grid)
    state.set_sorting(sort="random")
    state.set_selection(state.order[[0, 2, 3, 4]])
    assert _cells(grid) == state.order[[0, 2, 3, 4]].tolist()
    assert np.array_equal(state.selection, state.order[[0, 2, 3, 4]])

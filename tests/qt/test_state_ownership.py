"""The contract behind "one state": nothing in ``galview.qt`` holds labels, selection, order or scores
that :class:`~galview.core.state.ViewerState` does not. Widgets and controllers read them from the
state; a copy kept elsewhere goes stale the moment the state changes (the bug this rule replaced:
the grid kept its own order, scores and labels, written from four places)."""

from __future__ import annotations

import numpy as np

from tests.qt.conftest import random_npz

#: Attribute names that would mean a widget keeps its own copy of what the state owns.
OWNED_BY_STATE = {
    "order", "position", "labels", "user_labels", "user_set", "selection", "hide_labels", "blind",
    "scores", "suspects", "rankings", "current",
}  # fmt: skip


def _qt_objects(root):
    """Every object of a galview.qt class reachable from ``root`` through attributes."""
    seen, stack, found = set(), [root], []
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if not type(obj).__module__.startswith("galview.qt"):
            continue
        found.append(obj)
        for value in vars(obj).values():
            if type(value).__module__.startswith("galview.qt"):
                stack.append(value)
    return found


def test_no_qt_object_keeps_a_copy_of_the_states_data(window, qtbot, tmp_path):
    window.open_path(random_npz(tmp_path / "a.npz", 30))
    window.labelling.label(1, [3])
    window.state.select_first(4)
    objects = _qt_objects(window)
    assert len(objects) > 15  # the grid, its model, controllers, menus, panels were all visited
    n = window.state.n
    for obj in objects:
        for name, value in vars(obj).items():
            where = f"{type(obj).__module__}.{type(obj).__name__}.{name}"
            if obj is window and name == "state":
                continue
            assert name not in OWNED_BY_STATE, f"{where} duplicates the state's {name}"
            if isinstance(value, np.ndarray):
                assert value.shape[:1] != (n,), f"{where} holds a per-cutout array of its own"

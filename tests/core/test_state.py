"""Viewer state signals, links and paths."""

from __future__ import annotations

import numpy as np

from galview.core.collection import ArrayCollection
from galview.core.links import legacy_viewer_url
from galview.core.paths import config_dir, data_dir
from galview.core.state import ViewerState


def _collection(dtype=np.float32, n=5):
    return ArrayCollection("memory", np.ones((n, 8, 8, 3), dtype=dtype), "NHWC")


def test_state_emits_and_clips():
    state = ViewerState()
    seen = []
    state.current_changed.connect(seen.append)
    state.set_collection(_collection())
    assert state.current == 0 and seen == [0]
    state.set_current(99)
    assert state.current == 4 and seen[-1] == 4
    state.set_current(4)
    assert seen.count(4) == 1  # no signal when nothing changes


def test_state_display_defaults_follow_dtype():
    state = ViewerState()
    state.set_collection(_collection(np.uint8))
    assert state.display.interval == "none"
    changes = []
    state.display_changed.connect(changes.append)
    state.update_display(stretch="log")
    assert changes[-1].stretch == "log" and state.display.stretch == "log"


def test_new_collection_closes_previous():
    closed = []

    class Tracking(ArrayCollection):
        def close(self):
            closed.append(True)

    state = ViewerState()
    state.set_collection(Tracking("a", np.ones((2, 4, 4, 1), np.float32), "NHWC"))
    state.set_collection(_collection())
    assert closed == [True]


def test_legacy_url():
    url = legacy_viewer_url(55.18012, -18.64531)
    assert url.startswith("https://www.legacysurvey.org/viewer/?")
    assert "ra=55.180120" in url and "dec=-18.645310" in url
    assert legacy_viewer_url(float("nan"), 1.0) is None


def test_paths_follow_galview_home(isolated_home):
    assert config_dir() == isolated_home / "config" and config_dir().is_dir()
    assert data_dir() == isolated_home / "data"


def test_a_new_sort_drops_a_selection_its_top_will_replace_before_showing_the_order():
    """The grid selected 100,000 cells in the new order (0.9 s) only for the new top to replace them."""
    state = ViewerState()
    state.set_collection(_collection(n=100))
    selected_when_shown = []
    state.order_changed.connect(lambda _order: selected_when_shown.append(len(state.selection)))
    state.set_sorting(sort="random")
    state.set_selection(np.arange(1, 31))  # the file order's top, cutout 0, is not among them
    state.set_sorting(sort="file")
    assert selected_when_shown[-1] == 0 and state.selection.tolist() == [0] and state.current == 0
    state.set_sorting(sort="random")
    state.set_selection(np.arange(0, 30))  # holding the next top: moving through it keeps it
    state.set_sorting(sort="file")
    assert selected_when_shown[-1] == 30 and state.selection.tolist() == list(range(30))

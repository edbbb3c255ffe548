"""The window uses its space: the detail view fills its pane, what cannot be shown collapses, text that
does not fit is shortened (never widening the window), and several collections can be switched."""

from __future__ import annotations

import numpy as np
import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtTest import QTest
from PyQt6.QtWidgets import QScrollArea

from galview.core.collection import ArrayCollection
from tests.qt.conftest import random_npz


def _show(window, shape, dtype=np.uint8):
    window.state.set_collection(ArrayCollection("memory", np.full((3, *shape), 40, dtype), "NHWC"))
    QTest.qWait(50)
    return window.detail


@pytest.mark.parametrize("size", [16, 64])
def test_a_small_cutout_fills_its_pane_at_an_integer_zoom(window, size):
    detail = _show(window, (size, size, 3))
    zoom = detail.zoom()
    pane = min(detail.view.width(), detail.view.height())
    assert zoom >= 2 and abs(zoom - round(zoom)) < 1e-6, zoom  # crisp pixels
    assert size * zoom > pane - size * 1.01 - 2  # one step more would not fit: as large as it can be
    assert size * zoom <= pane + 1


def test_a_large_cutout_is_shrunk_to_fit_whole(window):
    detail = _show(window, (900, 600, 3))
    zoom = detail.zoom()
    assert zoom < 1
    assert 900 * zoom <= detail.view.height() + 1 and 600 * zoom <= detail.view.width() + 1
    assert 900 * zoom > 0.98 * detail.view.height() or 600 * zoom > 0.98 * detail.view.width()


def test_the_fit_follows_the_pane_until_the_user_zooms(window, qtbot):
    detail = _show(window, (32, 32, 3))
    before = detail.zoom()
    window.resize(1500, 950)
    qtbot.waitUntil(lambda: detail.zoom() != before, timeout=3000)
    assert abs(detail.zoom() - round(detail.zoom())) < 1e-6
    detail.view.scaleBy((0.5, 0.5))  # the user zooms in on the middle
    detail.view.sigRangeChangedManually.emit(detail.view.state["mouseEnabled"])
    centre = np.mean(detail.view.viewRange(), axis=1)
    window.resize(1200, 800)
    QTest.qWait(100)
    assert not detail._fitted  # not fitted again: the user's view stays where they put it
    np.testing.assert_allclose(np.mean(detail.view.viewRange(), axis=1), centre, atol=0.5)
    assert abs(detail.zoom() - round(detail.zoom())) > 1e-3 or detail.zoom() > 2 * before


def test_long_status_messages_are_shortened_with_the_whole_text_in_the_tooltip(window):
    bar = window.statusBar()
    text = "A very long message about a file " + "/deep" * 80 + "/cutouts.npz that does not fit"
    bar.showMessage(text)
    assert bar.currentMessage() == text and bar.toolTip() == text
    drawn = super(type(bar), bar).currentMessage()
    assert drawn.endswith("…") and len(drawn) < len(text)
    assert bar.fontMetrics().horizontalAdvance(drawn) <= bar.room()


def test_long_captions_do_not_widen_the_window(window):
    width = window.width()
    window.detail.caption.setText("Cutout 0 · " + "x" * 600)
    window.detail.overlay.set_caption("No heat map: " + "y" * 600)
    QTest.qWait(50)
    assert window.width() == width
    assert window.detail.caption.shown_text().endswith("…")


def test_the_sort_and_filter_bar_does_not_widen_the_window(window):
    """With the Show box it first asked 505 px (offscreen), and under Xvfb with the Retrain dock open the
    window no longer fitted 1,280 px: it asks no more than before the box (456 px), a long count is
    shortened."""
    bar = window.sort_controls
    window.state.set_collection(ArrayCollection("memory", np.ones((123456, 2, 2, 1), np.uint8), "NHWC"))
    window.state.set_sorting(show="class:1")  # none has a label: "0 of 123,456 shown"
    assert bar.minimumSizeHint().width() <= 460
    bar.resize(bar.minimumSizeHint())
    QTest.qWait(20)
    assert (
        bar.count_label.text() == "0 of 123,456 shown" and bar.count_label.toolTip() == "0 of 123,456 shown"
    )
    assert bar.count_label.shown_text().endswith("…")


def test_counts_say_one_cutout_and_colour_mapping_needs_colours(window):
    window.state.set_collection(ArrayCollection("memory", np.ones((1, 8, 8, 1), np.float32), "NHWC"))
    assert window.sort_controls.count_label.text() == "1 cutout"
    assert not window.controls.colour_combo.isEnabled()  # one band: nothing to map to colours
    window.state.set_collection(ArrayCollection("memory", np.ones((2, 8, 8, 3), np.float32), "NHWC"))
    assert window.sort_controls.count_label.text() == "2 cutouts"
    assert window.controls.colour_combo.isEnabled()
    window.state.update_display(mode="band", band=1)
    assert not window.controls.colour_combo.isEnabled()


def test_several_collections_are_listed_and_switched(window, qtbot, tmp_path):
    first = random_npz(tmp_path / "first.npz", 5)
    second = random_npz(tmp_path / "second.npz", 7)
    assert window.open_paths([first, second])
    assert window.state.collection.source == first and window.state.n == 5
    assert "2 collections" in window.statusBar().currentMessage()
    names = [a.text() for a in window.switcher.menu.actions() if a.isCheckable()]
    assert names == ["1. first.npz", "2. second.npz"]
    window.switcher.next_action.trigger()  # read in a thread: shown when it arrives
    assert window.state.n == 5 and "Opening second.npz" in window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: window.state.n == 7, timeout=10000)
    window.switcher.previous_action.trigger()
    qtbot.waitUntil(lambda: window.state.n == 5, timeout=10000)
    assert not window.open_paths([tmp_path / "missing.npz", second])
    assert "missing.npz: no such file or folder" in window.last_error
    assert window.state.n == 7  # the one that exists still opens


def test_the_histogram_legend_sits_over_the_lowest_bars(window, monkeypatch):
    hist = window.histogram
    placed = []
    monkeypatch.setattr(hist.legend, "anchor", lambda itemPos, parentPos, offset: placed.append(itemPos[0]))
    cases = ([9] * 6 + [0] * 8 + [9] * 6, [0] * 7 + [9] * 13, [9] * 14 + [0] * 6)
    for counts in cases:
        hist.counts = {1: np.array(counts), 0: np.zeros(20, int)}
        hist._place_legend()
    assert placed == [0.5, 0.0, 1.0]  # centre, left, right: wherever the bars are low


def test_the_histogram_cannot_be_squeezed_until_its_bars_vanish(window):
    """A dock dragged (or restored from an earlier session) to a sliver keeps a readable plot."""
    from galview.qt.histogram import MIN_PLOT_HEIGHT

    window.state.set_collection(ArrayCollection("memory", np.full((3, 64, 64, 3), 40, np.uint8), "NHWC"))
    window.retrain_dock.show()
    window.histogram_dock.show()
    window.resize(1300, 660)
    window.resizeDocks([window.histogram_dock], [20], Qt.Orientation.Vertical)
    QTest.qWait(100)
    assert window.histogram.plot.height() >= MIN_PLOT_HEIGHT
    restored = window.saveState()
    window.restoreState(restored)
    QTest.qWait(50)
    assert window.histogram.plot.height() >= MIN_PLOT_HEIGHT


def test_in_a_short_window_the_fields_scroll_and_the_cutout_keeps_its_room(window):
    from galview.qt.window import DETAIL_MIN_HEIGHT

    detail = _show(window, (64, 64, 3))
    window.retrain_dock.show()
    QTest.qWait(50)
    window.resize(1300, 480)
    QTest.qWait(100)
    below = window.findChild(QScrollArea, "belowTheCutout")
    assert window.height() < 520  # the premise: too short for the cutout and all the fields
    assert detail.height() >= DETAIL_MIN_HEIGHT
    assert detail.zoom() >= 2  # a 64-px cutout is still shown at least twice its size
    assert below.verticalScrollBar().maximum() > 0  # the fields scroll instead


def test_with_room_the_fields_show_whole_even_when_a_long_path_wraps(window):
    from galview.qt.window import DETAIL_MIN_HEIGHT

    window.state.set_collection(ArrayCollection("memory", np.full((3, 64, 64, 3), 40, np.uint8), "NHWC"))
    window.metadata.fields["Source"].setText("/a/rather/long/folder/" * 4 + "cutouts.h5")
    window.resize(1280, 860)
    QTest.qWait(100)
    below = window.findChild(QScrollArea, "belowTheCutout")
    assert below.verticalScrollBar().maximum() == 0  # nothing hidden below the last field
    assert window.detail.height() >= DETAIL_MIN_HEIGHT


def test_a_field_that_wraps_onto_more_lines_gets_their_height_at_once(window, qtbot):
    """Found on a screenshot: once measured, the photometry wrapped onto a second line cut in half (the
    form gave its height to other rows) until the window was resized, where the fields scroll."""
    window.state.set_collection(ArrayCollection("memory", np.full((3, 64, 64, 3), 40, np.uint8), "NHWC"))
    window.resize(1300, 560)
    QTest.qWait(100)
    below = window.findChild(QScrollArea, "belowTheCutout")
    assert below.verticalScrollBar().maximum() > 0  # the premise: the fields scroll (no height to spare)
    window.metadata.fields["Source"].setText("/work/shared/data/legacy_dwarfs")  # wrapped in its size hint
    window.metadata.fields["Model"].setText("deepshadows_des_sim (40e751)")
    QTest.qWait(100)
    field = window.metadata.fields["Photometry"]
    for words in (12, 1, 30):
        field.setText(" · ".join(f"μ0 24.{k} ± 0.03" for k in range(words)))
        QTest.qWait(100)
        cut = {
            name: (label.height(), label.heightForWidth(label.width()))
            for name, label in window.metadata.fields.items()
            if label.height() < label.heightForWidth(label.width())
        }
        assert not cut, (words, cut)
    assert field.height() >= 3 * field.fontMetrics().lineSpacing()  # the premise: it did wrap


def test_a_wide_dock_never_cuts_off_the_display_controls(window):
    window.state.set_collection(ArrayCollection("memory", np.full((3, 64, 64, 3), 40, np.uint8), "NHWC"))
    window.retrain_dock.show()
    window.resize(1100, 700)
    window.resizeDocks([window.retrain_dock], [900], Qt.Orientation.Horizontal)  # dragged wide
    QTest.qWait(100)
    below = window.findChild(QScrollArea, "belowTheCutout")
    assert below.widget().width() <= below.viewport().width()  # nothing hidden past the right edge


def test_a_retrained_versions_long_name_does_not_cut_off_the_display_controls(window):
    """Seen under Xvfb at 1400 px with the Retrain dock open: 'deepshadows_des_sim-20261206-160112' has no
    place Qt may wrap it (a hyphen before digits), so the fields took its width and the display controls
    beside them were cut off at the right."""
    window.state.set_collection(ArrayCollection("memory", np.full((3, 64, 64, 3), 40, np.uint8), "NHWC"))
    window.retrain_dock.show()
    window.resize(1400, 860)
    window.retrain_dock.setMinimumWidth(380)  # as wide as it was with the retraining's result in it
    window.metadata.show_score("deepshadows_des_sim-20261206-160112 (40e751)", None, 0)
    QTest.qWait(100)
    window.resize(1400, 860)
    QTest.qWait(100)
    assert window.width() <= 1400  # offscreen, the fields' minimum widened the window to 1,502 px
    below = window.findChild(QScrollArea, "belowTheCutout")
    assert below.widget().width() <= below.viewport().width()
    assert window.metadata.fields["Model"].text().replace("\u200b", "").startswith("deepshadows_des_sim-2026")


def test_first_sizes_fit_a_laptops_screen():
    """GalView asks for 1,280 × 800 at the first start: taller than a 1,366 × 768 laptop's screen."""
    from PyQt6.QtCore import QRect

    from galview.qt.screens import fitting_size

    class Screen:
        def availableGeometry(self):  # noqa: N802 (Qt API)
            return QRect(0, 0, 1366, 728)  # 768 less a 40-px panel

    class Widget:
        def screen(self):
            return Screen()

    assert fitting_size(Widget(), 1280, 800) == (1229, 655)
    assert fitting_size(Widget(), 700, 500) == (700, 500)


def test_a_name_copied_from_the_fields_has_no_invisible_breaks(window, qtbot):
    """Long names carry zero-width spaces so that they may wrap; copied from a field (to paste into a
    command) they came with them, and what was pasted was not the name."""
    from PyQt6.QtWidgets import QApplication

    window.metadata.show_score("deepshadows_des_sim-20261206-160112", None, 0)
    field = window.metadata.fields["Model"]
    assert "\u200b" in field.text()  # drawn with its breaks
    field.setSelection(0, len(field.text()))
    QTest.keyClick(field, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.clipboard().text() == "deepshadows_des_sim-20261206-160112"
    field.setSelection(0, 0)
    QApplication.clipboard().setText("")
    field.copy()  # the context menu's Copy with nothing selected: the whole field
    assert QApplication.clipboard().text() == "deepshadows_des_sim-20261206-160112"
    verdict = window.retrain_panel.verdict_label
    verdict.setText("<b>Better: deepshadows_\u200bdes_\u200bsim-\u200b2026</b>")
    verdict.copy()
    assert QApplication.clipboard().text() == "Better: deepshadows_des_sim-2026"

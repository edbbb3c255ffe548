"""Scores in the window: background scoring, badges, metadata, sorting, filtering, cancel, errors."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from PyQt6.QtCore import QPointF, QTimer

from galview.core.collection import ArrayCollection
from galview.ml.versions import versions_dir
from galview.qt.grid import BADGE_HEIGHT, ProbabilityRole, probability_colour
from tests.qt.conftest import random_npz

N = 300
SHAPE = (16, 16, 3)  # the tiny model's input (tests/qt/conftest.py)


def _npz(path, n=N, seed=0, shape=SHAPE):
    return random_npz(path, n, seed, shape)


@pytest.fixture
def scored_window(window, qtbot, tiny_model, tmp_path):
    """A window with the tiny model active and a small labelled collection fully scored."""
    window.scoring.load_model(tiny_model)
    qtbot.waitUntil(lambda: window.state.model is not None and not window.runner.busy, timeout=20000)
    window.scoring.batch_size = 32
    window.open_path(_npz(tmp_path / "small.npz"))
    _wait_scored(qtbot, window)
    return window


def _wait_scored(qtbot, window, timeout=20000):
    qtbot.waitUntil(
        lambda: not window.runner.busy and window.state.scores is not None and window.state.scores.complete,
        timeout=timeout,
    )


def _painted_cell(window, position) -> np.ndarray:
    """The cell at display ``position`` as the delegate paints it: (H, W, 4) uint8 RGBA."""
    from PyQt6.QtCore import QRect
    from PyQt6.QtGui import QImage, QPainter
    from PyQt6.QtWidgets import QStyleOptionViewItem

    grid, model = window.grid, window.grid.grid_model
    size = grid.itemDelegate().size
    image = QImage(size, size, QImage.Format.Format_RGBA8888)
    image.fill(0)
    option = QStyleOptionViewItem()
    option.rect = QRect(0, 0, size, size)
    painter = QPainter(image)
    grid.itemDelegate().paint(painter, option, model.cell_at_position(position))
    painter.end()
    buffer = image.constBits()
    buffer.setsize(image.sizeInBytes())
    return np.frombuffer(buffer, np.uint8).reshape(size, image.bytesPerLine() // 4, 4)[:, :size].copy()


def _cell_prob(window, position):
    model = window.grid.grid_model
    return model.data(model.cell_at_position(position), ProbabilityRole)


def test_default_model_from_environment_scores_in_background(qtbot, tiny_model, tmp_path, monkeypatch):
    from galview.qt.app import make_app
    from galview.qt.window import MainWindow

    monkeypatch.setenv("GALVIEW_MODEL", str(tiny_model))
    make_app()
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    try:
        win.scoring.batch_size = 16
        qtbot.waitUntil(lambda: win.state.model is not None and not win.runner.busy, timeout=20000)
        assert "tiny" in win.job_status.model_label.text()
        seen = []  # n_scored each time the event loop ran a timer tick
        timer = QTimer()
        timer.timeout.connect(lambda: seen.append(win.state.scores.n_scored if win.state.scores else 0))
        timer.start(10)
        win.open_path(_npz(tmp_path / "a.npz", n=2000))
        assert win.runner.busy  # auto-scoring started, in the background
        started, redraws = time.perf_counter(), win.histogram.redraws
        _wait_scored(qtbot, win)
        elapsed = time.perf_counter() - started
        timer.stop()
        qtbot.waitUntil(lambda: not win.histogram.pending)
        assert 1 <= win.histogram.redraws - redraws <= elapsed / 0.2 + 2  # throttled to ~5 per second
        assert sum(c.sum() for c in win.histogram.counts.values()) == 2000
        # The event loop kept running while scoring went on: timer ticks came between batches
        # (scoring on the GUI thread would let none through before the end). Counted in batches,
        # not seconds, so a busy machine cannot fail it.
        between = {n for n in seen if 0 < n < 2000}
        assert len(between) >= 3, sorted(between)
        assert win.state.scores.n_scored == 2000
        assert "Scored 2,000 cutouts" in win.statusBar().currentMessage()
    finally:
        win.close()


def test_the_histograms_shaded_range_and_the_p_boxes_filter_the_grid_together(scored_window, qtbot):
    win = scored_window
    qtbot.waitUntil(lambda: win.histogram.range.scene() is not None, timeout=3000)  # shown with the scores
    prob = win.state.scores.positive_prob()
    win.histogram.range.setRegion((0.3, 0.6049))  # as a drag of its edges ends
    win.histogram.range.sigRegionChangeFinished.emit(win.histogram.range)
    assert (win.state.sorting.p_min, win.state.sorting.p_max) == (0.3, 0.6)  # the P boxes' hundredths
    assert win.sort_controls.min_spin.value() == 0.3 and win.sort_controls.max_spin.value() == 0.6
    expected = np.flatnonzero((prob >= np.float32(0.3)) & (prob <= np.float32(0.6)))
    assert sorted(win.state.order.tolist()) == expected.tolist()
    assert win.histogram.range.getRegion() == (0.3, 0.6)
    win.sort_controls.max_spin.setValue(0.9)  # and the other way round
    assert win.histogram.range.getRegion() == (0.3, 0.9)

    class DoubleClick:
        def double(self):
            return True

    win.histogram._clicked(DoubleClick())
    assert win.state.sorting.full_range and len(win.state.order) == N


def test_badges_metadata_and_histogram_show_probabilities(scored_window, qtbot):
    win = scored_window
    scores = win.state.scores
    p0 = float(scores.probs[0, 0])
    assert _cell_prob(win, 0) == pytest.approx(p0)
    assert win.metadata.names["Score"].text() == "P(LSBG)"
    assert win.metadata.fields["Score"].text().startswith(f"{p0:.3f} → ")
    assert "tiny" in win.metadata.fields["Model"].text()
    win.state.set_current(7)
    assert win.metadata.fields["Score"].text().startswith(f"{scores.probs[7, 0]:.3f}")
    qtbot.waitUntil(lambda: sum(c.sum() for c in win.histogram.counts.values()) == N, timeout=3000)
    assert set(win.histogram.counts) == {0, 1}  # split by label
    # The delegate paints the badge: the strip along the bottom of the cell carries the colour of
    # the probability, and it is gone once the scores are.
    with_badge = _painted_cell(win, 0)
    colour = probability_colour(p0)
    strip = with_badge[-BADGE_HEIGHT + 2 :, :, :3].reshape(-1, 3).astype(int)
    target = np.array([colour.red(), colour.green(), colour.blue()])
    assert (np.abs(strip - target).sum(axis=1) < 40).sum() >= 10
    win.state.set_scores(None)
    without = _painted_cell(win, 0)[-BADGE_HEIGHT + 2 :, :, :3].reshape(-1, 3).astype(int)
    assert (np.abs(without - target).sum(axis=1) < 40).sum() < 10


def test_sorting_by_probability_reorders_grid(scored_window, qtbot):
    win = scored_window
    prob = win.state.scores.positive_prob()
    win.sort_controls.sort_combo.setCurrentIndex(win.sort_controls.sort_combo.findData("prob_desc"))
    model = win.grid.grid_model
    assert model.cutout_at_position(0) == int(np.argmax(prob))
    assert model.cutout_at_position(N - 1) == int(np.argmin(prob))
    assert _cell_prob(win, 0) == pytest.approx(prob.max())
    assert win.state.current == int(np.argmax(prob)) and win.grid.current_cutout() == win.state.current
    win.state.set_current(int(np.argmin(prob)))
    assert model.position_of(win.grid.current_cutout()) == N - 1  # selection follows the cutout
    win.grid.setFocus()
    from PyQt6.QtCore import Qt

    qtbot.keyClick(win.grid, Qt.Key.Key_Home)
    assert win.state.current == int(np.argmax(prob))  # Home is the first in display order
    qtbot.keyClick(win.grid, Qt.Key.Key_End)
    assert win.state.current == int(np.argmin(prob))
    win.sort_controls.sort_combo.setCurrentIndex(win.sort_controls.sort_combo.findData("uncertain"))
    assert model.cutout_at_position(0) == int(np.argmin(np.abs(prob - 0.5)))


def test_filtering_hides_cutouts(scored_window):
    win = scored_window
    prob = win.state.scores.positive_prob()
    threshold = round(float(np.median(prob)), 2)
    win.sort_controls.min_spin.setValue(threshold)
    expected = np.flatnonzero(prob >= np.float32(threshold))
    model = win.grid.grid_model
    assert model.count() == len(expected) < N
    shown = [model.cutout_at_position(p) for p in range(model.count())]
    assert shown == expected.tolist()
    assert model.position_of(int(np.argmin(prob))) == -1 and not model.cell_of(int(np.argmin(prob))).isValid()
    assert win.state.current in expected  # the current cutout is one that is shown
    assert f"{len(expected)} of {N} shown" in win.sort_controls.count_label.text()
    win.sort_controls.min_spin.setValue(0.0)
    assert model.count() == N


def test_cancel_stops_scoring_and_keeps_state_consistent(window, qtbot, tiny_model, tmp_path):
    window.scoring.load_model(tiny_model)
    qtbot.waitUntil(lambda: window.state.model is not None and not window.runner.busy, timeout=20000)
    window.scoring.batch_size = 8
    window.scoring.auto_limit = 10  # too big to score on opening: the user presses Score
    window.open_path(_npz(tmp_path / "big.npz", n=4000))
    assert not window.runner.busy and "Ctrl+R" in window.statusBar().currentMessage()
    window.state.set_sorting(sort="prob_desc")
    window.score_action.trigger()
    assert window.runner.busy and window.job_status.cancel_button.isVisibleTo(window)
    qtbot.waitUntil(lambda: window.state.scores.n_scored >= 16, timeout=20000)
    window.job_status.cancel_button.click()
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=20000)
    scores = window.state.scores
    assert 16 <= scores.n_scored < 4000
    assert "cancelled" in window.statusBar().currentMessage()
    scored = scores.scored
    np.testing.assert_array_equal(scores.predicted >= 0, scored)
    order = window.state.order
    assert sorted(order.tolist()) == list(range(4000))
    assert scored[order[: scores.n_scored]].all() and not scored[order[scores.n_scored :]].any()
    assert window.grid.grid_model.count() == 4000
    assert window.last_error is None
    # Score again: only the rest is scored.
    window.scoring.batch_size = 512
    assert window.scoring.score()
    _wait_scored(qtbot, window)


def test_bad_model_file_shows_error_and_app_keeps_running(window, qtbot, tmp_path, shared_data):
    window.open_path(shared_data / "des_lsbg" / "des_lsbg_dev.npz")
    bad = tmp_path / "broken.keras"
    bad.write_bytes(b"not a zip")
    window.scoring.load_model(bad)
    qtbot.waitUntil(lambda: window.last_error is not None, timeout=20000)
    assert "broken.keras" in window.last_error
    qtbot.waitUntil(lambda: not window.runner.busy)
    assert window.state.model is None and window.job_status.model_label.text() == "Model: none"
    assert not window.scoring.score() and "No model" in window.last_error
    window.state.set_current(3)
    assert window.metadata.fields["Index"].text().startswith("3 of 112")


def test_a_model_that_refuses_the_cutouts_offers_to_adapt_them(
    window, qtbot, tiny_model, shared_data, tmp_path
):
    """Cutouts of another size: the refusal comes with the steps that would fit, and nothing is
    adapted until the user says yes (then the adapted copy scores them, as its own version)."""
    window.scoring.load_model(tiny_model)
    qtbot.waitUntil(lambda: window.state.model is not None and not window.runner.busy, timeout=20000)
    model = window.state.model
    window.open_path(shared_data / "des_lsbg" / "des_lsbg_dev.npz")  # 64×64 cutouts, a 16×16 model
    qtbot.waitUntil(lambda: window.adapting.box is not None and not window.runner.busy, timeout=20000)
    question = window.adapting.box.text()
    assert "model expects 16×16×3" in question and "Resize each cutout from 64×64 to 16×16 pixels" in question
    assert "--resize" not in question  # the command line's option: no use in the window
    assert window.last_error is None and window.state.scores.n_scored == 0
    box = window.adapting.box
    assert window.adapting.offer("asked again") and window.adapting.box is box  # one question at a time
    window.adapting.answer(False)
    assert window.state.model is model and window.state.scores.n_scored == 0
    assert "Not adapted" in window.statusBar().currentMessage()
    window.adapt_action.trigger()  # asked again from the menu, and accepted
    assert window.adapting.box is not None and "model expects" not in window.adapting.box.text()
    window.adapting.answer(True)
    adapted = window.state.model
    assert adapted is not model and adapted.version != model.version
    assert adapted.card.input.adapter["resize"] == [16, 16] and model.card.input.adapter is None
    _wait_scored(qtbot, window)
    assert window.state.scores.model_version == adapted.version and window.last_error is None
    window.adapt_action.trigger()  # nothing more to adapt
    assert window.adapting.box is None
    assert window.statusBar().currentMessage() == "The model already takes these cutouts through its adapter"
    window.open_path(_npz(tmp_path / "fits.npz", n=8))  # 16×16 cutouts: the adapter was for 64×64
    qtbot.waitUntil(lambda: window.adapting.box is not None and not window.runner.busy, timeout=20000)
    assert "Drop the adapter made for 64×64×3 cutouts" in window.adapting.box.text()
    window.adapting.answer(True)
    assert window.state.model.version == model.version  # the model as it was: its kept scores apply
    _wait_scored(qtbot, window)


def test_a_refusal_with_nothing_plain_to_offer_is_shown_as_an_error(window, qtbot, tiny_model, tmp_path):
    """Five unnamed bands for a three-band model: which three is the user's call, so no offer."""
    window.scoring.load_model(tiny_model)
    qtbot.waitUntil(lambda: window.state.model is not None and not window.runner.busy, timeout=20000)
    window.open_path(_npz(tmp_path / "five.npz", n=8, shape=(16, 16, 5)))
    qtbot.waitUntil(lambda: window.last_error is not None and not window.runner.busy, timeout=20000)
    assert "model expects 16×16×3" in window.last_error and window.state.scores.n_scored == 0
    assert window.adapting.box is None


def test_opening_a_new_collection_clears_scores(scored_window, qtbot, tmp_path):
    win = scored_window
    win.state.set_sorting(sort="prob_asc", p_min=0.1)
    win.scoring.auto_limit = 0
    win.open_path(_npz(tmp_path / "other.npz", n=50, seed=1))
    assert win.state.scores is None and win.state.order.tolist() == list(range(50))
    assert win.grid.grid_model.count() == 50 and _cell_prob(win, 0) is None
    assert win.metadata.fields["Score"].text() == "—"
    assert not win.sort_controls.min_spin.isEnabled()  # no scores to filter by
    assert win.sort_controls.sort_combo.isEnabled()  # the label queues work without scores
    assert win.sort_controls.sort_combo.currentData() == "file"


def test_large_grid_order_stays_virtual(window, qtbot, monkeypatch):
    from galview.core.collection import ArrayCollection
    from galview.core.scores import Scores

    n = 1_000_000
    collection = ArrayCollection("memory", np.zeros((n, 2, 2, 1), np.uint8), "NHWC")
    model = window.grid.grid_model
    asked = set()  # cutouts whose thumbnail the view asked for
    original = model.cache.get
    monkeypatch.setattr(model.cache, "get", lambda i: (asked.add(i), original(i))[1])
    window.state.set_collection(collection)
    scores = Scores.empty(n, 1, "v")
    scores.set_rows(np.arange(0, n, 2), np.linspace(0, 1, n // 2, dtype=np.float32)[:, None])
    window.state.set_scores(scores)
    window.state.set_sorting(sort="prob_desc")
    window.grid.viewport().repaint()
    qtbot.wait(50)
    assert model.cutout_at_position(0) == n - 2 and model.cutout_at_position(n - 1) == n - 1
    assert window.grid.current_cutout() == window.state.current
    # Virtual: only the cells on screen were drawn (a few screens at most, never the million).
    on_screen = model.columns * (window.grid.viewport().height() // window.grid.rowHeight(0) + 2)
    assert 0 < len(asked) <= 3 * on_screen, (len(asked), on_screen)
    assert model.rowCount() == -(-n // model.columns)


def test_model_menu_lists_shipped_models_and_view_menu_toggles_histogram(
    qtbot, tiny_model, monkeypatch, tmp_path
):
    import galview.qt.window as window_module
    from galview.qt.app import make_app

    monkeypatch.setattr(window_module, "shipped_models", lambda: [tiny_model])
    make_app()
    win = window_module.MainWindow()
    qtbot.addWidget(win)
    win.show()
    try:
        (action,) = win.model_actions.actions()
        assert action.text() == "tiny"
        action.trigger()
        qtbot.waitUntil(lambda: win.state.model is not None and not win.runner.busy, timeout=20000)
        assert action.isChecked() and win.state.model.path == tiny_model
        assert not win.histogram_dock.isVisible()  # nothing scored: no empty plot taking the space
        win.open_path(_npz(tmp_path / "a.npz", n=40))
        qtbot.waitUntil(lambda: win.state.scores is not None and win.state.scores.complete, timeout=20000)
        assert win.histogram_dock.isVisible() and win.histogram_action.isChecked()
        win.histogram_action.trigger()
        assert not win.histogram_dock.isVisible()
        win.histogram_action.trigger()
        assert win.histogram_dock.isVisible()
        win.histogram_dock.close()  # its own close button: not wanted any more
        assert not win.histogram_action.isChecked()
    finally:
        win.close()


def test_replacing_the_collection_during_scoring_drops_the_late_batches(window, qtbot, tiny_model, tmp_path):
    window.scoring.load_model(tiny_model)
    qtbot.waitUntil(lambda: window.state.model is not None and not window.runner.busy, timeout=20000)
    window.scoring.batch_size = 8
    window.open_path(_npz(tmp_path / "first.npz", n=3000))
    qtbot.waitUntil(lambda: window.state.scores.n_scored >= 8, timeout=20000)
    second = ArrayCollection("memory", np.zeros((20, *SHAPE), np.uint8), "NHWC")
    window.state.set_collection(second)  # not through open_path: the controller cancels the job itself
    qtbot.waitUntil(lambda: window.state.scores is not None and window.state.scores.complete, timeout=20000)
    assert len(window.state.scores) == 20 and window.last_error is None


def test_the_histogram_legend_is_one_row_above_the_bars_under_it(scored_window, qtbot):
    """The demo's short, wide plot had its legend drawn over the bars in the middle."""
    win = scored_window
    win.histogram_dock.show()
    win.resize(1280, 800)
    hist = win.histogram
    qtbot.waitUntil(lambda: hist.isVisible() and not hist.pending and bool(hist.counts), timeout=3000)
    hist.counts = {1: np.full(20, 40), 0: np.full(20, 40)}  # bars as tall everywhere: no low third
    hist.edges = np.linspace(0, 1, 21)
    hist._fit_legend()
    qtbot.wait(50)
    box, legend = hist.plot.getViewBox(), hist.legend.sceneBoundingRect()
    assert legend.height() < 0.45 * box.sceneBoundingRect().height()  # one row, not a column of entries
    bar_top = box.mapViewToScene(QPointF(0.5, 40)).y()
    assert bar_top > legend.bottom()  # scene y grows downwards: the bars end below the legend


def test_the_model_is_adapted_to_the_collection_as_a_new_version_and_loaded(
    window, qtbot, tiny_model, tmp_path
):
    import json

    window.scoring.load_model(tiny_model)
    qtbot.waitUntil(lambda: window.state.model is not None and not window.runner.busy, timeout=20000)
    parent = window.state.model
    window.open_path(_npz(tmp_path / "other.npz", n=100, seed=3))
    _wait_scored(qtbot, window)  # not just "not busy": scoring starts a moment after the opening job ends
    window.adapt_model_action.trigger()
    qtbot.waitUntil(
        lambda: (
            window.state.model is not parent and not window.runner.busy and window.state.model is not None
        ),
        timeout=20000,
    )
    model = window.state.model
    card = json.loads(Path(model.path).with_suffix(".json").read_text())
    assert card["training"]["method"].endswith("(AdaBN)") and card["training"]["cutouts"] == 100
    assert card["parent"] == str(parent.path) and model.version != parent.version
    assert Path(model.path).parent.parent == versions_dir()


def test_a_model_adapted_to_a_collection_closed_meanwhile_is_kept_but_not_made_active(
    window, qtbot, tiny_model, tmp_path
):
    """Adapted to the first collection, the version is written; the second, opened meanwhile, keeps
    the model it is scored with, and the message says where the adapted version is."""
    window.scoring.load_model(tiny_model)
    qtbot.waitUntil(lambda: window.state.model is not None and not window.runner.busy, timeout=20000)
    parent = window.state.model
    window.open_path(_npz(tmp_path / "first.npz", n=100, seed=3))
    _wait_scored(qtbot, window)  # as above: an idle runner may be the moment before scoring starts
    said = []
    window.batchnorm_adapting.message.connect(said.append)
    window.adapt_model_action.trigger()
    window.runner.job.wait()  # the GUI thread waits: the adapted model's path is queued, not delivered
    window.open_path(_npz(tmp_path / "second.npz", n=90, seed=4))
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=20000)
    qtbot.wait(300)
    assert window.state.model is parent
    assert "first.npz" in said[-1] and "not made active" in said[-1]


def test_adapting_without_a_model_says_what_is_missing(window, tmp_path):
    window.open_path(_npz(tmp_path / "some.npz", n=80))
    window.state.set_model(None)
    assert not window.batchnorm_adapting.start()
    assert "load a model" in window.last_error


def test_rows_of_a_collection_left_while_it_was_scored_do_not_land_in_the_next(
    window, qtbot, tiny_model, tmp_path
):
    """The scoring job's batches reach the window queued: those still queued when another collection
    opens (scored by the same model) belong to the old one and must be dropped, not written into it."""
    window.scoring.load_model(tiny_model)
    qtbot.waitUntil(lambda: window.state.model is not None and not window.runner.busy, timeout=20000)
    window.scoring.auto_limit = 0
    second = random_npz(tmp_path / "second.npz", 40, seed=2)
    window.open_path(second)
    assert window.scoring.score()
    qtbot.waitUntil(lambda: not window.runner.busy and window.state.scores.complete, timeout=20000)
    kept = window.state.scores.probs.copy()

    window.open_path(random_npz(tmp_path / "first.npz", 70, seed=1))
    window.scoring.batch_size = 8
    assert window.scoring.score()
    window.runner.job.wait()  # the GUI thread waits: every batch's rows are queued, none delivered
    window.open_path(second)  # its kept scores come back
    qtbot.wait(300)  # the old job's queued rows arrive now
    np.testing.assert_array_equal(window.state.scores.probs, kept)


def test_a_damaged_image_in_a_folder_leaves_one_cutout_unscored_and_says_so(
    window, qtbot, tiny_model, tmp_path
):
    from PIL import Image

    folder = tmp_path / "pngs"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(6):
        Image.fromarray(rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)).save(folder / f"c{i}.png")
    data = (folder / "c2.png").read_bytes()
    (folder / "c2.png").write_bytes(data[: len(data) // 2])
    window.scoring.load_model(tiny_model)
    qtbot.waitUntil(lambda: window.state.model is not None and not window.runner.busy, timeout=20000)
    window.open_path(folder)
    qtbot.waitUntil(lambda: not window.runner.busy and window.state.scores is not None, timeout=20000)
    qtbot.waitUntil(lambda: window.state.scores.n_scored == 5, timeout=20000)
    assert not window.state.scores.scored[2]
    assert "1 cutout could not be read and has no score (cutout 2: " in window.last_error
    assert "c2.png" in window.last_error
    assert window.state.scores.complete and window.state.scores.unreadable.tolist() == [0, 0, 1, 0, 0, 0]
    assert window.histogram.plot.getPlotItem().titleLabel.text.startswith(
        "5 of 6 scored (1 could not be read) · "
    )
    window.state.set_current(2)
    assert window.metadata.fields["Score"].text() == "none: could not be read"

    # Opened again: its kept scores are complete, so it is neither scored nor warned about again.
    window.open_path(random_npz(tmp_path / "other.npz", 8, seed=3))
    qtbot.waitUntil(lambda: not window.runner.busy and window.state.scores.complete, timeout=20000)
    window.last_error = None
    window.open_path(folder)
    qtbot.wait(300)
    assert not window.runner.busy and window.last_error is None
    assert window.state.scores.unreadable[2] and window.state.scores.n_scored == 5
    assert not window.scoring.score()
    assert window.statusBar().currentMessage().endswith("(1 cutout could not be read)")


def test_a_damaged_image_left_out_of_the_adaptation_is_named(window, qtbot, tiny_model, tmp_path):
    """Adapting to a folder with one image cut in half: the version is made from the others, and the
    window says which cutout was left out (it was dropped without a word)."""
    from tests.ml.tiny_models import blob_pngs

    window.scoring.load_model(tiny_model)
    qtbot.waitUntil(lambda: window.state.model is not None and not window.runner.busy, timeout=20000)
    parent = window.state.model
    window.scoring.auto_limit = 0  # no scoring: its own warning about the same image would hide this one
    folder, _ = blob_pngs(tmp_path / "pngs", damaged=5, n=70)
    window.open_path(folder)
    qtbot.waitUntil(lambda: window.state.collection is not None and not window.runner.busy, timeout=20000)
    window.last_error = None
    window.adapt_model_action.trigger()
    qtbot.waitUntil(lambda: window.state.model is not parent and not window.runner.busy, timeout=20000)
    assert "1 cutout could not be read and was left out of the statistics (cutout 5" in window.last_error

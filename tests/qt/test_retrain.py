"""One-click retraining in the window (issue 12): the whole loop, driven as a user would.

Open a labelled collection with a model active, label, open Model ▸ Retrain…, press Retrain, watch
the progress and curves, Stop (the active model is unchanged, nothing written), Retrain again,
read the before/after, use the new model (its scores arrive without rescoring), switch back.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from galview.core.retrain_compare import FLIPPED, NEW_TASK, compare_scores
from galview.core.scores import Scores

N = 48
SHAPE = (16, 16, 3)  # the tiny model's input (tests/qt/conftest.py)


def _learnable_npz(path, n=N, seed=0):
    """Noise cutouts; label 1 has a bright centre (a task a few epochs can learn)."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 120, (n, *SHAPE), dtype=np.uint8)
    labels = np.arange(n) % 2
    images[labels == 1, 5:11, 5:11, :] = 250
    np.savez(path, images=images, labels=labels)
    return path


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def ready(window, qtbot, tiny_model, tmp_path):
    window.scoring.load_model(tiny_model)
    qtbot.waitUntil(lambda: window.state.model is not None and not window.runner.busy, timeout=20000)
    window.scoring.batch_size = 16
    window.open_path(_learnable_npz(tmp_path / "learnable.npz"))
    qtbot.waitUntil(
        lambda: not window.runner.busy and window.state.scores is not None and window.state.scores.complete,
        timeout=20000,
    )
    return window


def _other_version(model):
    """A version of ``model`` that calls every cutout the positive class, written among the versions."""
    from galview.ml.loading import load_model
    from galview.ml.versions import new_version_dir, write_version

    other = load_model(model.path)
    kernel, bias = other.model.layers[-1].get_weights()
    other.model.layers[-1].set_weights([kernel, bias + 20.0])  # calls every cutout the positive class
    return write_version(other.model, other.card, new_version_dir("tiny"))


def _choose(panel, mode, epochs, folds):
    from galview.qt.retrain_panel import MODE_CHOICES

    panel.mode.setCurrentIndex([data for data, _ in MODE_CHOICES].index(mode))
    panel.epochs.setValue(epochs)
    panel.folds.setValue(folds)


def test_retrain_loop_stop_retrain_use_and_switch_back(ready, qtbot, tiny_model):
    from galview.ml.versions import list_versions

    window, state = ready, ready.state
    parent, parent_digest = state.model, _digest(tiny_model)
    parent_scores = state.scores.copy()
    window.labelling.label(0, [1])  # a person corrects one label: used, and counted
    window.show_retrain()
    panel = window.retrain_panel
    assert window.retrain_dock.isVisible()
    assert f"{N} human labels" in panel.labels_label.text() and "labelled 1" in panel.labels_label.text()

    assert not panel.epochs.isEnabled() and "no epochs" in panel.epochs.toolTip()  # 48 labels: a probe
    _choose(panel, "head", 200, 2)  # long enough to be stopped part-way
    assert panel.epochs.isEnabled()
    batches = []
    window.runner.progressed.connect(lambda p: batches.append(p) if p.payload is not None else None)
    panel.retrain_button.click()
    assert window.runner.running("finetune") and not panel.retrain_button.isEnabled()
    qtbot.waitUntil(lambda: len(batches) >= 2, timeout=60000)
    assert window.labelling.label(1, [2])  # the window answers while training: label and browse
    state.set_current(5)
    panel.stop_button.click()
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=60000)
    assert state.model is parent and _digest(tiny_model) == parent_digest
    assert list_versions() == []
    assert "Stopped" in panel.progress.format() and panel.retrain_button.isEnabled()
    assert panel.curves.count("batch_loss") > 0

    _choose(panel, "head", 3, 2)
    panel.retrain_button.click()
    qtbot.waitUntil(lambda: window.retraining.comparison is not None, timeout=120000)
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=20000)
    result = window.retraining.result
    assert panel.result_box.isVisible() and result.verdict in panel.verdict_label.text()
    assert (
        "Accuracy difference:" in panel.metrics_label.text()
        and "at most 3 epochs" in panel.metrics_label.text()
    )
    assert panel.curves.isVisible()
    assert [v.path for v in list_versions()] == [result.path]
    assert _digest(tiny_model) == parent_digest and state.model is parent  # nothing switched by itself
    assert FLIPPED in state.rankings and panel.flipped_button.isEnabled()

    assert result.scored_version is not None  # the training process scored the collection too
    panel.use_button.click()  # loads the new model in the background, then switches
    qtbot.waitUntil(lambda: window.retraining.new_model is not None and not window.runner.busy, timeout=20000)
    new = window.retraining.new_model
    assert state.model is new and new.version == result.scored_version
    assert not window.runner.busy  # kept scores: no rescoring
    assert state.scores.model_version == new.version and state.scores.complete
    assert not np.allclose(state.scores.probs, parent_scores.probs)
    panel.flipped_button.click()
    assert state.sorting.sort == FLIPPED

    panel.back_button.click()
    assert state.model is parent and state.scores.complete and not window.runner.busy
    np.testing.assert_allclose(state.scores.probs, parent_scores.probs)

    window.versions.fill()  # Model ▸ Retrained versions lists it; one click switches
    actions = [a for a in window.versions.menu.actions() if a.data() == str(result.path)]
    assert len(actions) == 1
    actions[0].trigger()
    assert state.model is new


def test_retrain_needs_labels_of_two_classes(window, qtbot, tiny_model, tmp_path):
    window.scoring.load_model(tiny_model)
    qtbot.waitUntil(lambda: window.state.model is not None and not window.runner.busy, timeout=20000)
    rng = np.random.default_rng(1)
    np.savez(
        tmp_path / "one_class.npz",
        images=rng.integers(0, 255, (10, *SHAPE), dtype=np.uint8),
        labels=np.ones(10),
    )
    window.open_path(tmp_path / "one_class.npz")
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=20000)
    window.show_retrain()
    assert not window.retraining.start()
    assert "two classes" in (window.last_error or "")
    assert not window.runner.busy


def test_retraining_on_cutouts_the_model_cannot_read_is_refused_at_once(window, qtbot, tiny_model, tmp_path):
    window.scoring.load_model(tiny_model)
    qtbot.waitUntil(lambda: window.state.model is not None and not window.runner.busy, timeout=20000)
    rng = np.random.default_rng(2)
    np.savez(
        tmp_path / "wider.npz",
        images=rng.integers(0, 255, (N, 24, 24, 3), dtype=np.uint8),
        labels=np.arange(N) % 2,
    )
    window.open_path(tmp_path / "wider.npz")
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=20000)
    window.show_retrain()
    assert not window.retraining.start()
    assert "Cannot retrain on these cutouts" in window.last_error and "16×16×3" in window.last_error
    assert not window.runner.busy


def test_a_labelled_image_that_cannot_be_read_is_left_out_of_the_retraining_and_said_so(
    window, qtbot, tiny_model, tmp_path, monkeypatch
):
    monkeypatch.setenv("GALVIEW_RETRAIN_IN_PROCESS", "0")  # in this process: seconds, not a minute
    from galview.io import open_collection
    from galview.io.label_store import open_label_store
    from tests.ml.tiny_models import blob_pngs

    folder, labels = blob_pngs(tmp_path / "pngs", damaged=3)
    with open_collection(folder) as collection, open_label_store(collection) as store:
        store.set_many([(i, int(v)) for i, v in enumerate(labels)], user="ana")
    window.scoring.load_model(tiny_model)
    qtbot.waitUntil(lambda: window.state.model is not None and not window.runner.busy, timeout=20000)
    window.open_path(folder)
    qtbot.waitUntil(lambda: not window.runner.busy and window.state.scores.complete, timeout=20000)
    window.last_error = None
    window.show_retrain()
    _choose(window.retrain_panel, "probe", 1, 2)
    assert window.retraining.start()
    qtbot.waitUntil(lambda: window.retraining.result is not None, timeout=120000)
    assert window.last_error.startswith(
        "1 cutout could not be read and was left out of the training (cutout 3"
    )
    assert window.retraining.result.counts["total"] == 39
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=60000)


def test_comparison_lists_flipped_first():
    before = Scores.empty(4, 1, "a")
    after = Scores.empty(4, 1, "b")
    before.set_rows([0, 1, 2], [[0.9], [0.2], [0.6]])
    after.set_rows([0, 1, 2], [[0.1], [0.3], [0.7]])
    comparison = compare_scores(before, after)
    assert comparison.flipped.tolist() == [True, False, False, False] and comparison.compared == 3
    order = comparison.ranking().sort(np.arange(4))
    assert order.tolist() == [0, 1, 2, 3]  # flipped, then |Δp| 0.1, 0.1 in file order, unscored last
    assert "1 of 3 cutouts change class" in comparison.summary()


def test_versions_menu_switches_and_deletes_but_never_the_active_one(window, qtbot, tiny_model):
    from galview.ml.loading import load_model
    from galview.ml.versions import list_versions, new_version_dir, write_version

    loaded = load_model(tiny_model)
    first = write_version(loaded.model, loaded.card, new_version_dir("tiny"))
    second = write_version(loaded.model, loaded.card, new_version_dir("tiny"))
    window.versions.fill()
    listed = [a.data() for a in window.versions.menu.actions() if a.data()]
    assert listed == [str(second), str(first)]  # newest first
    [action] = [a for a in window.versions.menu.actions() if a.data() == str(first)]
    action.trigger()  # not loaded yet: loads in the background
    qtbot.waitUntil(lambda: window.state.model is not None and not window.runner.busy, timeout=20000)
    assert window.state.model.path == first
    versions = {v.path: v for v in list_versions()}
    assert not window.versions.delete(versions[first], confirm=False)  # the active model
    assert "cannot be deleted" in window.last_error and first.exists()
    assert window.versions.delete(versions[second], confirm=False)
    assert not second.exists() and [v.path for v in list_versions()] == [first]


def test_versions_menu_tells_versions_apart_by_their_before_and_after(window, tiny_model):
    import dataclasses

    from galview.ml.loading import load_model
    from galview.ml.versions import new_version_dir, write_version

    loaded = load_model(tiny_model)
    difference = {"accuracy_after": 0.7232, "accuracy_before": 0.6696, "n": 112}
    card = dataclasses.replace(
        loaded.card,
        metrics={"difference": difference, "verdict": "No difference the labels can show: …"},
        training={"mode": "probe", "source": "/data/des.npz", "parent": {"name": "shipped.keras"}},
    )
    path = write_version(loaded.model, card, new_version_dir("tiny"))
    window.versions.fill()
    [action] = [a for a in window.versions.menu.actions() if a.data() == str(path)]
    assert "probe" in action.text() and "accuracy 0.72 vs 0.67 before, 112 labels" in action.text()
    tip = action.toolTip()
    assert "No difference the labels can show" in tip and "/data/des.npz" in tip and "shipped.keras" in tip
    assert window.versions.menu.toolTipsVisible()
    ring = {**difference, "accuracy_before": 0.5, "baseline": "guessing the most common class"}  # a new task
    path = write_version(
        loaded.model, dataclasses.replace(card, metrics={"difference": ring}), new_version_dir("t")
    )
    window.versions.fill()
    [action] = [a for a in window.versions.menu.actions() if a.data() == str(path)]
    assert "accuracy 0.72 vs 0.50 by guessing, 112 labels" in action.text()


def test_retrain_in_the_window_thread_loads_and_scores_the_new_model_itself(ready, qtbot, monkeypatch):
    """Without the child process (``GALVIEW_RETRAIN_IN_PROCESS=0``) the window loads the new version
    and scores the collection with it before comparing; Use then switches at once."""
    monkeypatch.setenv("GALVIEW_RETRAIN_IN_PROCESS", "0")
    window, state = ready, ready.state
    parent = state.model
    window.show_retrain()
    panel = window.retrain_panel
    _choose(panel, "probe", 1, 2)
    panel.retrain_button.click()
    qtbot.waitUntil(lambda: window.retraining.comparison is not None, timeout=60000)
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=20000)
    assert window.retraining.result.scored_version is None and window.retraining.new_model is not None
    assert "probe anchored at the starting model (C = " in panel.metrics_label.text()
    assert "each cutout seen in 8 orientations" in panel.metrics_label.text()
    assert "epochs" not in panel.metrics_label.text()
    assert not panel.curves.isVisible()  # a probe has no epochs to draw
    panel.use_button.click()
    assert state.model is window.retraining.new_model and state.model is not parent
    assert state.scores.complete and not window.runner.busy


def test_the_panel_fits_a_narrow_dock(qtbot):
    """The longest mode's text must not make the dock scroll sideways; its list still shows it whole."""
    from PyQt6.QtWidgets import QScrollArea

    from galview.qt.retrain_panel import MODE_CHOICES, RetrainPanel

    panel = RetrainPanel()
    qtbot.addWidget(panel)
    assert panel.mode.minimumSizeHint().width() < 300
    panel.result_box.show()  # its buttons once set the width: every text was cut at a 390-px dock
    content = panel.findChild(QScrollArea).widget()
    assert content.minimumSizeHint().width() <= 360
    assert panel.minimumWidth() > content.minimumSizeHint().width()  # the dock never scrolls sideways
    longest = max(panel.mode.fontMetrics().horizontalAdvance(text) for _, text in MODE_CHOICES)
    assert panel.mode.view().minimumWidth() >= longest


def test_the_curves_are_in_view_while_training_in_a_dock_of_ordinary_height(qtbot):
    """Seen under Xvfb at 1400 × 860: with the plan's texts wrapping, the dock's content took its preferred
    height, the curves' 480 px, so their lower half (the x axis, the latest batches) was below the fold."""
    from galview.qt.retrain_panel import RetrainPanel

    panel = RetrainPanel()
    qtbot.addWidget(panel)
    panel.resize(370, 610)
    panel.parent_label.setText("deepshadows_des_sim (40e751)")
    panel.labels_label.setText("112 human labels: 58 labelled 1, 54 labelled 0")
    panel.why_label.setText(
        "112 labels, head as asked: dense layers only at Adam 1e-05, convolutional layers frozen; no "
        "validation split (under 300 labels it is too small to trust)"
    )
    panel.show()
    panel.set_running(True)
    qtbot.waitUntil(lambda: panel.curves.isVisible())
    qtbot.wait(50)
    viewport = panel._scroll.viewport()
    bottom = panel.curves.mapTo(viewport, panel.curves.rect().bottomLeft()).y()
    assert bottom <= viewport.height()
    assert panel.curves.height() >= 160


def test_the_panels_progress_text_fits_a_narrow_dock(qtbot):
    from galview.core.jobs import Progress
    from galview.qt.retrain_panel import RetrainPanel

    panel = RetrainPanel()
    qtbot.addWidget(panel)
    panel.resize(panel.minimumWidth(), 610)
    panel.show()
    panel.set_running(True)
    qtbot.wait(50)
    panel.show_progress(Progress(58, 289, message="fold 2/5, epoch 3/15, 28 s left", unit="batches"))
    shown, bar = panel.progress.format(), panel.progress
    assert bar.fontMetrics().horizontalAdvance(shown) <= bar.width() and shown.endswith("58 / 289 batches")
    assert panel.progress.toolTip() == "fold 2/5, epoch 3/15, 28 s left: 58 / 289 batches"


def test_the_results_buttons_are_in_view_when_the_result_is_shown(qtbot):
    """Under the figures, the agreement text and the plot, 'Use this model' was below the fold of a
    610-px dock: the decision the panel asks for was out of sight."""
    from galview.qt.retrain_panel import RetrainPanel

    panel = RetrainPanel()
    qtbot.addWidget(panel)
    panel.resize(380, 610)
    panel.labels_label.setText("112 human labels: 58 labelled 1, 54 labelled 0")
    panel.show()
    verdict = (
        "No difference the labels can show: accuracy 0.768 after vs 0.759 before (+0.9 points, 95% "
        "interval -1.8 points to +4.5 points; 5-fold cross-validation on 112 labels); the interval includes 0."
    )
    metrics = (  # as the real run wrote them (112 real DES cutouts, head mode)
        "Before: accuracy 0.759 [0.68–0.84], ROC AUC 0.821 [0.73–0.89]<br>After (cross-validated): "
        "accuracy 0.768 [0.69–0.85], ROC AUC 0.819 [0.73–0.89]<br>Accuracy difference: +0.9 points [-1.8 "
        "to +4.5]<br>head, 5 folds, at most 15 epochs, on CPU (TensorFlow) in 42 s"
    )
    panel.show_result(verdict, metrics)
    panel.change_label.setText("4 of 112 cutouts change class; median |Δp| 0.02")
    panel.show_agreement(
        "Your 112 labels: 85 agree with deepshadows_des_sim (40e751), 87 agree with "
        "deepshadows_des_sim-20261206-155942 (which learnt from 112 of them); of the cutouts that change "
        "class, 3 agree with you only by deepshadows_des_sim-20261206-155942 and 1 only by "
        "deepshadows_des_sim (40e751). A model looks better than it is on labels it learnt from: its card's "
        "held-out or cross-validated figures are the fair measure"
    )
    qtbot.wait(100)
    viewport = panel._scroll.viewport()
    for button in (panel.use_button, panel.flipped_button):
        top = button.mapTo(viewport, button.rect().topLeft()).y()
        assert 0 <= top and top + button.height() <= viewport.height()


def test_the_dock_asks_for_a_reading_width_not_its_longest_paragraph(qtbot):
    """With the result's paragraphs the dock asked for ~400 px and took them from the cutout and its
    fields in a 1,400-px window (seen under Xvfb); it asks for its reading width, or what its widgets need."""
    from galview.qt.retrain_panel import READING_WIDTH, RetrainPanel

    panel = RetrainPanel()
    qtbot.addWidget(panel)
    panel.show_result("No difference the labels can show: " * 6, "Before: accuracy 0.759 [0.68–0.84]. " * 6)
    panel.show_agreement("Your 112 labels: 85 agree with deepshadows_des_sim (40e751). " * 6)
    qtbot.wait(50)
    assert panel.sizeHint().width() == max(panel.minimumWidth(), READING_WIDTH)


def test_compare_the_active_model_with_another_version_and_use_it(ready, qtbot, monkeypatch):
    """Model ▸ Retrained versions ▸ Compare the active model with: the other model is loaded and scores
    the collection in the background, the panel shows what changed and both models against the
    user's labels, the grid sorts flipped first, and "Use this model" switches to it."""
    from galview.assets import shipped_default_path
    from galview.core.model_names import model_name, path_name

    window, state = ready, ready.state
    active = state.model
    state.set_ranking(compare_scores(state.scores, state.scores).ranking("an older title"))
    path = _other_version(active)
    monkeypatch.setattr("galview.qt.retrain.COMPARE_LIMIT", 8)  # asked for: compared whatever the size

    window.versions.fill()
    assert window.versions.compare_menu.isEnabled()
    window.versions._fill_compare()
    choices = [a.data() for a in window.versions.compare_menu.actions()]
    assert choices == [str(path), str(shipped_default_path())] and str(active.path) not in choices
    window.versions.compare_menu.actions()[0].trigger()
    panel, controller = window.retrain_panel, window.retraining
    assert window.retrain_dock.isVisible() and panel.result_box.title() == "Two models compared"
    qtbot.waitUntil(lambda: controller.comparison is not None and not window.runner.busy, timeout=30000)

    before = state.scores.positive_prob() >= 0.5
    expected = int((~before).sum())  # every cutout the active model called negative flips
    assert controller.comparison.n_flipped == expected
    assert FLIPPED in state.rankings and panel.flipped_button.isEnabled()
    labels = np.arange(N) % 2
    right_before = int(((before.astype(int)) == labels).sum())
    first, second = model_name(active), model_name(controller.new_model)
    assert f"Your {N} labels: {right_before} agree with {first}, {N // 2} agree with {second}" in (
        panel.agreement_label.text()
    )
    combo = window.sort_controls.sort_combo
    assert path_name(path) in combo.itemText(combo.findData(FLIPPED))  # the ranking names the other model
    assert state.model is active  # comparing changes nothing until the user chooses
    score_row = window.metadata.fields["Score"]
    other_line = score_row.text().splitlines()[-1]  # the compared model's, below
    assert other_line.endswith(" by the compared model") and "→" in other_line
    assert score_row.toolTip() == f"Second line: the compared model, {second}"  # its long name: not cut
    blink = window.compared_map_action  # Explain ▸ Map of the compared model (B): flip between the maps
    assert blink.isEnabled() and not blink.isChecked()
    blink.trigger()
    assert window.explaining.heatmaps.key[0] == controller.new_model.version
    assert second in window.detail.overlay.caption.text()
    blink.trigger()
    assert (
        window.explaining.heatmaps.key[0] == active.version
        and second not in window.detail.overlay.caption.text()
    )
    both, explaining = window.both_maps_action, window.explaining  # Explain ▸ Both models' maps (Shift+B)
    pane_a, pane_b = window.detail.overlay, window.detail.overlay_b
    assert both.isEnabled() and not pane_b.isVisibleTo(window)
    both.trigger()
    assert pane_b.isVisibleTo(window) and pane_a.isVisibleTo(window)
    assert explaining.second.key[0] == controller.new_model.version
    assert explaining.heatmaps.key[0] == active.version
    qtbot.waitUntil(lambda: pane_a.heat is not None and pane_b.heat is not None, timeout=30000)
    assert pane_a.caption.text().startswith(f"A: {first} · ")
    assert pane_b.caption.text().startswith(f"B: {second} · ")
    assert window.detail._heat_readout(1, 1).startswith("heat A=")
    blink.trigger()  # flipping in one pane ends the two panes
    assert blink.isChecked() and not both.isChecked() and not pane_b.isVisibleTo(window)
    assert explaining.heatmaps.key[0] == controller.new_model.version
    both.trigger()  # and two panes end the flipping
    assert both.isChecked() and not blink.isChecked() and explaining.override is None
    assert pane_b.isVisibleTo(window)
    assert panel.use_button.isEnabled()  # left on: using the other model brings one pane back
    panel.use_button.click()
    assert state.model.path == path and state.scores.model_version == controller.new_model.version
    assert score_row.toolTip().endswith(f", {first}")  # now the other model is the one compared with
    assert not both.isChecked() and explaining.second_model is None and both.isEnabled()
    assert not pane_b.isVisibleTo(window) and not pane_a.caption.text().startswith("A: ")
    assert not blink.isChecked() and window.explaining.override is None and blink.isEnabled()
    assert window.explaining.heatmaps.key[0] == state.model.version
    window.retraining.compare_with(path)  # the active one now: refused with a message
    assert "That is the active model" in window.last_error
    broken = path.parent.parent / "broken.keras"
    broken.write_bytes(b"not a zip archive")
    assert window.retraining.compare_with(broken)
    qtbot.waitUntil(lambda: "could not be compared" in (window.last_error or ""), timeout=20000)
    assert state.model.path == path and "broken.keras" in window.last_error  # nothing changed


def test_retraining_on_labels_of_other_named_classes_shows_what_the_new_model_says(ready, qtbot, monkeypatch):
    """The collection names its classes otherwise than the model (another task): the panel says the
    new model takes the collection's names; "before" is guessing, since the starting model's classes
    are not these; nothing is called flipped: the panel shows the new model's probabilities and the
    grid lists its positive class first."""
    monkeypatch.setenv("GALVIEW_RETRAIN_IN_PROCESS", "0")
    window, state = ready, ready.state
    state.collection.set_class_names(("dim", "LSB blob"))
    window.show_retrain()
    panel = window.retrain_panel
    assert "New model's classes: dim, LSB blob, the collection's" in panel.labels_label.text()
    _choose(panel, "probe", 1, 2)
    panel.retrain_button.click()
    qtbot.waitUntil(lambda: NEW_TASK in state.rankings, timeout=60000)
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=20000)
    retraining = window.retraining
    assert retraining.new_model.card.class_names == ("dim", "LSB blob")
    assert "Before, by guessing the most common class" in panel.metrics_label.text()
    assert "by guessing the most common class" in panel.verdict_label.text()
    assert FLIPPED not in state.rankings and retraining.comparison is None
    assert "no cutout can change class" in panel.change_label.text()
    assert "probability of LSB blob, new model" == panel.change_plot.getAxis("bottom").labelText
    scores = state.kept_scores.get(state.fingerprint, retraining.new_model.version)
    ranking = state.rankings[NEW_TASK]
    np.testing.assert_allclose(ranking.values, scores.positive_prob().astype(np.float64))
    assert ranking.title == "LSB blob by the retrained model, most probable first"
    assert (
        "agree with" in panel.agreement_label.text()
        and "which learnt from them" in panel.agreement_label.text()
    )
    assert panel.flipped_button.text() == "LSB blob first" and panel.flipped_button.isEnabled()
    panel.flipped_button.click()
    assert state.sorting.sort == NEW_TASK
    assert state.current == int(np.nanargmax(ranking.values))


def test_a_comparison_whose_collection_was_closed_while_it_scored_compares_nothing(ready, qtbot, tmp_path):
    """Comparing two models scores the open collection with the other one; if the user opens another
    collection meanwhile, the old collection's scores must not be compared with the new one's."""
    from galview.qt.retrain import SCORING

    window, state = ready, ready.state
    path = _other_version(state.model)
    assert window.retraining.compare_with(path)
    qtbot.waitUntil(lambda: window.runner.running(SCORING), timeout=20000)
    window.runner.job.wait()  # the other model's scores of the first collection are queued, not delivered
    window.open_path(_learnable_npz(tmp_path / "second.npz", n=30, seed=5))
    qtbot.waitUntil(
        lambda: not window.runner.busy and state.scores is not None and state.scores.complete, timeout=20000
    )
    qtbot.wait(200)
    assert window.retraining.comparison is None
    assert FLIPPED not in state.rankings
    assert "Another collection was opened" in window.retraining.panel.change_label.text()


def test_a_model_retrained_on_a_collection_closed_meanwhile_is_kept_not_compared_with_the_next(
    ready, qtbot, tmp_path
):
    """Trained on the first collection's labels; the user opened another meanwhile: the version is
    written and listed, but not scored on or compared with the other collection."""
    window, state = ready, ready.state
    parent = state.model
    window.show_retrain()
    panel = window.retrain_panel
    _choose(panel, "probe", 1, 2)
    said = []
    window.retraining.message.connect(said.append)
    panel.retrain_button.click()
    window.runner.job.wait()  # the GUI thread waits: the result is queued, not delivered
    window.open_path(_learnable_npz(tmp_path / "second.npz", n=30, seed=5))
    qtbot.waitUntil(
        lambda: not window.runner.busy and state.scores is not None and state.scores.complete, timeout=30000
    )
    qtbot.wait(300)
    assert window.retraining.result is not None and window.retraining.result.path.is_file()
    assert window.retraining.comparison is None and FLIPPED not in state.rankings
    assert state.model is parent
    assert "learnable.npz" in said[-1] and "second.npz" not in said[-1]


def test_a_finished_comparison_is_forgotten_when_another_collection_opens(ready, qtbot, tmp_path):
    """The compared model's scores are of the collection compared: with another one open (of the same
    size) they must not be shown as its cutouts' "other opinion"."""
    window, state = ready, ready.state
    assert window.retraining.compare_with(_other_version(state.model))
    qtbot.waitUntil(
        lambda: window.retraining.comparison is not None and not window.runner.busy, timeout=30000
    )
    assert window.retraining.other_opinion(0) is not None
    window.open_path(_learnable_npz(tmp_path / "same_size.npz", n=N, seed=7))
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=30000)
    assert window.retraining.comparison is None and window.retraining.other_opinion(0) is None
    assert (
        " by " not in window.metadata.fields["Score"].text() and not window.metadata.fields["Score"].toolTip()
    )
    assert "Another collection was opened" in window.retraining.panel.change_label.text()

"""Similarity rankings in the window (issue 13): rank by this cutout, by the selection, by a file; the
embedding space reuses kept embeddings; a bad reference file is a message, not a crash."""

from __future__ import annotations

import numpy as np
import pytest

from tests.qt.conftest import TINY_SHAPE, random_npz


def _with_rotated_copies(path, n=24, seed=3):
    """Random cutouts, plus cutout 0 turned a quarter (index n) and flipped (index n + 1)."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 120, (n, *TINY_SHAPE), dtype=np.uint8)
    images[0, 2:6, 3:12] = 250  # something asymmetric, so orientations differ
    images = np.concatenate([images, np.rot90(images[:1], 1, axes=(1, 2)), images[:1, ::-1]])
    np.savez(path, images=images, labels=np.arange(len(images)) % 2)
    return path


def _rank(window, qtbot, action):
    action.trigger()
    qtbot.waitUntil(lambda: not window.runner.busy and window.similarity.result is not None, timeout=30000)
    return window.similarity.result


def test_rank_by_this_cutout_finds_its_turned_and_flipped_copies(window, qtbot, tmp_path):
    window.open_path(_with_rotated_copies(tmp_path / "copies.npz"))
    state, n = window.state, 24
    window.similarity.set_space("pixel")
    state.set_current(0)
    result = _rank(window, qtbot, window.similarity.this_action)
    assert state.sorting.sort == "similar" and "similar" in state.rankings
    assert set(state.order[:3].tolist()) == {0, n, n + 1}  # itself and its copies, all at 1.0
    assert result.scores[n] == pytest.approx(1.0, abs=1e-5)
    state.set_current(n)
    assert "matched rot" in window.metadata.fields["Similarity"].text()
    assert "similar" in [
        window.sort_controls.sort_combo.itemData(i) for i in range(window.sort_controls.sort_combo.count())
    ]
    assert "Sorted by similarity" in window.statusBar().currentMessage()
    assert "the most similar other cutout: 1.000 (#" in window.statusBar().currentMessage()


def test_rank_by_the_selection_averages_and_orientations_can_be_turned_off(window, qtbot, tmp_path):
    window.open_path(_with_rotated_copies(tmp_path / "copies.npz"))
    state = window.state
    state.set_selection([1, 2])
    window.similarity.set_orientations(False)
    result = _rank(window, qtbot, window.similarity.this_action)
    assert len(result.references) == 2 and result.combine == "mean" and result.orientation is None
    np.testing.assert_allclose(result.scores, result.per_reference.mean(axis=0), rtol=1e-6)
    assert result.scores[24] < 0.999  # cutout 0's turned copy is no longer a perfect match


def test_rank_by_a_file_with_a_centre_mask(window, qtbot, tmp_path, shared_data):
    window.open_path(_with_rotated_copies(tmp_path / "copies.npz"))
    messages = []
    window.similarity.message.connect(messages.append)
    leda = shared_data / "leda074886" / "leda074886_50px.fits"
    assert window.similarity.rank_like_file(leda, mask_centre=4)
    qtbot.waitUntil(lambda: not window.runner.busy and window.similarity.result is not None, timeout=30000)
    reference = window.similarity.result.references[0]
    assert reference.image.shape == TINY_SHAPE and reference.mask is not None
    pinned = window.detail.reference
    assert pinned.isVisible() and "leda074886" in pinned.caption.text()
    assert "50×50" in pinned.toolTip()  # how the file was brought to the cutouts, beside it
    assert any("leda074886" in m and "50×50" in m for m in messages)  # the steps were shown
    assert np.isfinite(window.similarity.result.scores).all()
    best = int(window.similarity.result.top(1)[0])
    assert messages[-1].endswith(
        f"; the most similar cutout: {window.similarity.result.scores[best]:.3f} (#{best})"
    )


def test_a_bad_reference_file_is_reported_and_the_window_goes_on(window, qtbot, tmp_path):
    window.open_path(_with_rotated_copies(tmp_path / "copies.npz"))
    bad = tmp_path / "broken.fits"
    bad.write_bytes(b"SIMPLE  =                    T" + b"\0" * 50)
    assert not window.similarity.rank_like_file(bad)
    assert "broken.fits" in (window.last_error or "") and not window.runner.busy
    window.state.set_current(3)
    assert _rank(window, qtbot, window.similarity.this_action) is not None


def _scored_with_embeddings(window, qtbot, tiny_model, tmp_path):
    """The window's state once the rotated copies are scored by ``tiny_model``, embeddings kept."""
    window.scoring.load_model(tiny_model)
    qtbot.waitUntil(lambda: window.state.model is not None and not window.runner.busy, timeout=20000)
    window.open_path(_with_rotated_copies(tmp_path / "copies.npz"))
    state = window.state
    qtbot.waitUntil(
        lambda: state.scores is not None and state.scores.complete and not window.runner.busy, timeout=20000
    )
    return state


def test_the_embedding_space_reuses_the_kept_embeddings(window, qtbot, tiny_model, tmp_path):
    state = _scored_with_embeddings(window, qtbot, tiny_model, tmp_path)
    assert state.scores.embeddings is not None
    window.similarity.set_space("embedding")
    progress = []
    window.runner.progressed.connect(progress.append)
    state.set_current(5)
    result = _rank(window, qtbot, window.similarity.this_action)
    assert progress == []  # nothing was computed: the scoring job's embeddings were the index
    assert "penultimate" in result.space or "embedding" in result.space
    assert int(np.nanargmax(result.scores)) == 5


def test_kept_embeddings_too_large_for_memory_are_said_by_the_job_and_the_window_goes_on(
    window, qtbot, tiny_model, tmp_path, monkeypatch
):
    import galview.core.feature_index as feature_index

    state = _scored_with_embeddings(window, qtbot, tiny_model, tmp_path)
    window.similarity.set_space("embedding")
    monkeypatch.setattr(feature_index, "available_memory", lambda: 1000)
    state.set_current(2)
    window.similarity.this_action.trigger()
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=30000)
    said = window.last_error or ""
    assert said.startswith(f"Similarity search failed: {tmp_path / 'copies.npz'}: its 26 cutouts' features")
    assert "of memory and 1000 bytes is free" in said and window.similarity.result is None
    monkeypatch.setattr(feature_index, "available_memory", lambda: None)
    assert int(np.nanargmax(_rank(window, qtbot, window.similarity.this_action).scores)) == 2


def test_the_context_menu_offers_ranking_by_the_cutout(window, qtbot, tmp_path, monkeypatch):
    from PyQt6.QtWidgets import QMenu

    window.open_path(_with_rotated_copies(tmp_path / "copies.npz"))
    shown = []
    monkeypatch.setattr(QMenu, "popup", lambda menu, _pos, _at=None: shown.append(menu))
    grid = window.grid
    cell = grid.grid_model.cell_of(7)
    grid.customContextMenuRequested.emit(grid.visualRect(cell).center())
    assert window.state.current == 7 and shown
    texts = [a.text() for a in shown[0].actions()]
    assert texts[0] == "Rank by similarity to this"
    shown[0].actions()[0].trigger()
    qtbot.waitUntil(lambda: window.similarity.result is not None and not window.runner.busy, timeout=30000)
    assert window.state.order[0] == 7 or window.similarity.result.scores[
        window.state.order[0]
    ] == pytest.approx(1)


def test_a_self_supervised_encoder_is_trained_then_the_last_ranking_is_rebuilt_with_it(
    window, qtbot, tmp_path
):
    window.open_path(_with_rotated_copies(tmp_path / "copies.npz"))
    similarity, state = window.similarity, window.state
    similarity.set_space("self-supervised")
    state.set_current(0)
    assert not similarity.rank_like_current()  # no encoder yet: said, not crashed
    assert "Train a self-supervised encoder" in (window.last_error or "")
    similarity.set_space("pixel")
    first = _rank(window, qtbot, similarity.this_action)
    assert similarity.train_encoder(epochs=1, batch_size=8)
    qtbot.waitUntil(lambda: similarity.result is not first and not window.runner.busy, timeout=60000)
    assert similarity.space_name == "self-supervised" and similarity.encoder_path() is not None
    assert similarity.result.space.startswith("self-supervised")
    assert similarity.result.scores[0] == pytest.approx(1.0, abs=1e-5)
    assert state.sorting.sort == "similar"


def test_the_reference_is_pinned_beside_the_cutout_turned_as_it_matched(window, qtbot, tmp_path):
    """Issue 13: the reference stays beside the detail view while the ranking is open; on a turned copy
    of it, the reference is shown turned the same way, so the two panels show the same picture."""
    from galview.core.display import render

    window.open_path(_with_rotated_copies(tmp_path / "copies.npz"))
    state, n, panel = window.state, 24, window.detail.reference
    window.similarity.set_space("pixel")
    assert panel.isHidden()  # no ranking yet
    state.set_current(0)
    _rank(window, qtbot, window.similarity.this_action)
    assert panel.isVisible() and "Reference: cutout 0" in panel.caption.text()
    for copy in (n, n + 1):  # a quarter turn and a flip of the reference
        state.set_current(copy)
        shown = render(state.collection.get(copy), state.display, state.collection.bands, np.uint8)
        np.testing.assert_array_equal(panel.rgb, shown)
        assert "as it matched this cutout" in panel.caption.text()
    window.detail.view.scaleBy((0.5, 0.5))  # zoomed in on the cutout: the reference follows
    # to a twentieth of a cutout pixel: panels that split the width unevenly by a screen pixel keep
    # their aspect by a slightly other range
    np.testing.assert_allclose(panel.view.viewRange(), window.detail.view.viewRange(), rtol=0, atol=0.05)
    assert np.ptp(panel.view.viewRange()[1]) == pytest.approx(TINY_SHAPE[0] / 2, abs=0.5)  # zoomed, both
    state.set_current(5)  # an unrelated cutout: the reference as the best orientation found for it
    assert panel.isVisible() and panel.rgb.shape == (*TINY_SHAPE[:2], 3)
    window.similarity.reference_action.trigger()  # Similarity ▸ Show the reference… off
    assert panel.isHidden()
    window.similarity.reference_action.trigger()
    assert panel.isVisible()
    state.set_current(n)
    window.state.update_display(stretch="asinh")  # the display settings apply to the reference at once
    np.testing.assert_array_equal(
        panel.rgb, render(state.collection.get(n), state.display, state.collection.bands, np.uint8)
    )


def test_the_reference_panel_goes_when_the_collection_does(window, qtbot, tmp_path):
    window.open_path(_with_rotated_copies(tmp_path / "copies.npz"))
    window.state.set_current(0)
    _rank(window, qtbot, window.similarity.this_action)
    assert window.detail.reference.isVisible()
    window.open_path(random_npz(tmp_path / "other.npz", 30))
    assert window.detail.reference.isHidden()


def test_several_references_by_their_best_match_and_the_closest_is_pinned(window, qtbot, tmp_path):
    window.open_path(_with_rotated_copies(tmp_path / "copies.npz"))
    state, n = window.state, 24
    window.similarity.set_space("pixel")
    next(a for a in window.similarity.combine_group.actions() if a.data() == "max").trigger()
    state.set_selection([0, 7])
    result = _rank(window, qtbot, window.similarity.this_action)
    assert result.combine == "max"
    np.testing.assert_allclose(result.scores, result.per_reference.max(axis=0), rtol=1e-6)
    assert result.scores[n] == pytest.approx(1.0, abs=1e-5)  # like cutout 0, whatever cutout 7 says
    state.set_current(n)
    caption = window.detail.reference.caption.text()
    assert "cutout 0" in caption and "the closest of 2" in caption
    assert window.settings.value("similarity/combine") == "max"


def test_pixel_space_options_are_chosen_used_and_remembered(window, qtbot, tmp_path):
    from galview.qt.pixel_options import PixelOptions, PixelOptionsDialog
    from galview.qt.similarity import _saved_pixel_options

    window.open_path(_with_rotated_copies(tmp_path / "copies.npz"))
    dialog = PixelOptionsDialog(window.similarity.pixel_options, side=16, parent=window)
    assert dialog.crop.maximum() == 16 and dialog.sky.isChecked()
    dialog.sky.setChecked(False)
    dialog.normalisation.setCurrentIndex(dialog.normalisation.findData("zscore"))
    dialog.crop.setValue(8)
    assert not dialog.colour.isChecked()
    dialog.colour.setChecked(True)
    chosen = dialog.options()
    assert chosen == PixelOptions(False, "zscore", 8, colour=True)
    window.similarity.set_pixel_options(chosen)
    window.similarity.set_space("pixel")
    window.state.set_current(0)
    result = _rank(window, qtbot, window.similarity.this_action)
    assert result.space == "pixel (colour, no sky subtraction, zscore normalisation, central 8 px)"
    assert _saved_pixel_options(window.settings) == chosen  # the next window starts with them
    with pytest.raises(ValueError, match="2 pixels or more"):
        PixelOptions(crop=1)


def test_a_ranking_finished_after_another_collection_of_the_same_size_opened_is_dropped(
    window, qtbot, tmp_path
):
    """Two fields of the same number of cutouts: the first one's ranking must not sort the second."""
    window.open_path(random_npz(tmp_path / "field_a.npz", 30, seed=1))
    window.similarity.set_space("pixel")
    window.state.set_current(0)
    window.similarity.this_action.trigger()
    window.runner.job.wait()  # the GUI thread waits: the result is queued, not delivered
    window.open_path(random_npz(tmp_path / "field_b.npz", 30, seed=2))
    qtbot.wait(300)  # the old search's result arrives now
    assert "similar" not in window.state.rankings and window.state.sorting.sort != "similar"
    assert window.similarity.result is None


def test_opening_another_collection_during_a_search_neither_breaks_it_nor_leaves_the_file_open(
    window, qtbot, tmp_path
):
    """The search still reads the first collection: it is closed when the search ends, not under it
    (which showed "Similarity search failed: 'NoneType' object is not subscriptable")."""
    import h5py

    path = tmp_path / "field.h5"
    rng = np.random.default_rng(0)
    with h5py.File(path, "w") as handle:
        handle["images"] = rng.integers(0, 255, (3000, 32, 32, 3), dtype=np.uint8)
    errors, closed = [], []
    window.similarity.error.connect(errors.append)
    window.open_path(path)
    first = window.state.collection
    close = first.close
    first.close = lambda: closed.append(True) or close()
    window.similarity.set_space("morphology")
    window.similarity.this_action.trigger()
    qtbot.waitUntil(lambda: window.runner.busy, timeout=5000)
    window.open_path(random_npz(tmp_path / "other.npz", 30))
    assert window.runner.busy and not closed  # still being read
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=60000)
    qtbot.wait(100)
    assert closed == [True] and errors == []
    assert "similar" not in window.state.rankings


def test_a_cutout_that_cannot_be_read_is_said_in_the_status_bar(window, qtbot, tmp_path):
    """A folder with one damaged image: the ranking leaves it out and says which, not silently."""
    from tests.ml.tiny_models import blob_pngs

    folder, _labels = blob_pngs(tmp_path / "pngs", damaged=3, n=10)
    window.open_path(folder)
    window.similarity.set_space("pixel")
    window.state.set_current(0)
    result = _rank(window, qtbot, window.similarity.this_action)
    assert result.not_compared().tolist() == [3]
    message = window.statusBar().currentMessage()
    assert "9 cutouts compared" in message and "1 could not be read and is not ranked (#3)" in message
    assert 3 not in window.state.order[:9].tolist()


def test_the_cutouts_searched_from_are_read_by_the_job_and_a_damaged_one_is_said(
    window, qtbot, tmp_path, monkeypatch
):
    """A window's thread reading a 424 × 424 PNG waited 313 ms on the thread it shares the GIL with."""
    import threading

    from galview.core import similarity_job
    from tests.ml.tiny_models import blob_pngs

    folder, _labels = blob_pngs(tmp_path / "pngs", damaged=3, n=10)
    window.open_path(folder)
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=30000)
    window.similarity.set_space("pixel")
    read_in = []
    real = similarity_job._cutout_read
    monkeypatch.setattr(
        similarity_job,
        "_cutout_read",
        lambda *args: read_in.append(threading.current_thread() is threading.main_thread()) or real(*args),
    )
    window.state.set_selection([0, 5])
    assert _rank(window, qtbot, window.similarity.this_action).references[1].name.startswith("cutout 5")
    assert read_in == [False, False]
    window.similarity.result, window.last_error = None, None
    window.state.set_selection([])
    window.state.set_current(3)
    window.similarity.this_action.trigger()
    qtbot.waitUntil(lambda: not window.runner.busy and window.last_error is not None, timeout=30000)
    said = window.last_error
    assert said.startswith("Similarity search failed: ") and "c003.png: is not a readable PNG/JPEG" in said
    assert window.similarity.result is None


def test_an_encoder_is_not_trained_on_a_single_cutout(window, tmp_path):
    """Contrastive training compares each cutout with the others of its batch: one cutout is refused up front."""
    path = tmp_path / "one.npz"
    np.savez(path, images=np.zeros((1, 16, 16, 3), np.uint8))
    window.open_path(path)
    assert not window.similarity.train_encoder(epochs=1)
    assert not window.runner.busy
    assert "needs at least 2 cutouts" in window.statusBar().currentMessage()


def test_a_damaged_image_left_out_of_the_encoders_training_is_named(window, qtbot, tmp_path):
    from tests.ml.tiny_models import blob_pngs

    window.scoring.auto_limit = 0
    folder, _ = blob_pngs(tmp_path / "pngs", damaged=3, n=12)
    window.open_path(folder)
    qtbot.waitUntil(lambda: window.state.collection is not None and not window.runner.busy, timeout=20000)
    window.last_error = None
    assert window.similarity.train_encoder(epochs=1, batch_size=4)
    qtbot.waitUntil(
        lambda: window.similarity.encoder_path() is not None and not window.runner.busy, timeout=60000
    )
    assert "1 cutout could not be read and was left out of the training (cutout 3" in window.last_error


def test_a_search_that_would_not_fit_in_memory_is_said_and_the_window_goes_on(
    window, qtbot, tmp_path, monkeypatch
):
    import galview.core.feature_index as feature_index

    window.open_path(_with_rotated_copies(tmp_path / "copies.npz"))
    window.similarity.set_space("pixel")
    monkeypatch.setattr(feature_index, "available_memory", lambda: 1000)
    window.state.set_current(0)
    window.similarity.this_action.trigger()
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=30000)
    said = window.last_error or ""
    assert said.startswith(f"Similarity search failed: {tmp_path / 'copies.npz'}: its 26 cutouts' features")
    assert "of memory and 1000 bytes is free" in said
    assert window.similarity.result is None and window.state.sorting.sort != "similar"
    monkeypatch.setattr(feature_index, "available_memory", lambda: None)
    assert _rank(window, qtbot, window.similarity.this_action) is not None  # the next search runs

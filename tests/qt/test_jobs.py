"""Every job the window runs goes through the one runner: progress in its own units, and Cancel.

One test per job (loading a model, scoring, suspected label errors, the explanation sheet,
simulation): the status bar shows the job's progress in its unit, the Cancel button stops it, and
what a cancelled job leaves behind is consistent. Plus: heat maps computed while a job scores give
the same maps and scores as each computed alone (the one overlap GalView allows).
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from tests.qt.conftest import random_npz

SHAPE = (16, 16, 3)


class JobWatch:
    """Records what the status bar says for each progress report, and how jobs end.

    With ``cancel`` set, the user clicks Cancel at the job's first progress report; the job's
    thread waits after that report until the click has happened, so a fast job cannot finish
    before the user gets to click (the test does not depend on the machine's speed).
    """

    def __init__(self, window, monkeypatch, cancel: bool = False):
        from galview.qt.workers import JobThread

        self.window = window
        self.cancel = cancel
        self.clicked = threading.Event()
        self.formats: list[str] = []
        self.units: list[str] = []
        self.ended: list[tuple[str, str]] = []
        window.runner.progressed.connect(self._progressed)
        window.runner.finished.connect(lambda name, outcome: self.ended.append((name, outcome)))
        original = JobThread._report

        def report(thread, progress) -> bool:
            passed = original(thread, progress)
            if passed and self.cancel:
                self.clicked.wait(10)
            return passed

        monkeypatch.setattr(JobThread, "_report", report)

    def _progressed(self, progress) -> None:
        self.formats.append(self.window.job_status.progress.format())
        self.units.append(progress.unit)
        if self.cancel and not self.clicked.is_set():
            assert self.window.job_status.cancel_button.isVisibleTo(self.window)
            self.window.job_status.cancel_button.click()
            self.clicked.set()

    def again(self, cancel: bool = False) -> None:
        """Watch the next job afresh."""
        self.cancel, self.formats, self.units, self.ended = cancel, [], [], []
        self.clicked.clear()

    def wait(self, qtbot, name: str, timeout=30000) -> str:
        qtbot.waitUntil(lambda: any(n == name for n, _ in self.ended), timeout=timeout)
        qtbot.waitUntil(lambda: not self.window.runner.busy, timeout=timeout)
        return next(outcome for n, outcome in self.ended if n == name)


def _load(window, qtbot, model):
    window.scoring.load_model(model)
    qtbot.waitUntil(lambda: window.state.model is not None and not window.runner.busy, timeout=20000)


def _scored(window, qtbot, path, batch_size=64):
    window.scoring.batch_size = batch_size
    window.open_path(path)
    qtbot.waitUntil(
        lambda: not window.runner.busy and window.state.scores is not None and window.state.scores.complete,
        timeout=30000,
    )


def test_loading_a_model_shows_steps_and_can_be_cancelled(window, qtbot, tiny_model, monkeypatch):
    watch = JobWatch(window, monkeypatch, cancel=True)
    assert window.scoring.load_model(tiny_model)
    assert watch.wait(qtbot, "load_model") == "cancelled"
    assert watch.formats[0].startswith("Reading the model: 0 / 3 steps")
    assert window.state.model is None  # a cancelled load activates nothing
    assert not window.job_status.progress.isVisible()
    watch.again()
    _load(window, qtbot, tiny_model)  # and it still loads when not cancelled
    assert set(watch.units) == {"steps"}


def test_scoring_shows_cutouts_and_can_be_cancelled(window, qtbot, tiny_model, tmp_path, monkeypatch):
    _load(window, qtbot, tiny_model)
    window.scoring.batch_size = 8
    window.scoring.auto_limit = 0
    window.open_path(random_npz(tmp_path / "a.npz", 3000, shape=SHAPE))
    watch = JobWatch(window, monkeypatch, cancel=True)
    assert window.scoring.score()
    assert watch.wait(qtbot, "score") == "cancelled"
    assert "Scoring: 8 / 3,000 cutouts" in watch.formats[0]
    scored = window.state.scores.n_scored
    assert 8 <= scored < 3000  # what was scored before the cancel is kept
    assert f"{scored:,} of 3,000" in window.statusBar().currentMessage()


def test_suspects_use_kept_embeddings_show_folds_and_can_be_cancelled(
    window, qtbot, tiny_model, tmp_path, monkeypatch
):
    _load(window, qtbot, tiny_model)
    _scored(window, qtbot, random_npz(tmp_path / "a.npz", 60, shape=SHAPE))
    assert window.state.scores.embeddings is not None  # scoring kept them
    watch = JobWatch(window, monkeypatch, cancel=True)
    assert window.triage.find_suspects()
    assert watch.wait(qtbot, "suspects") == "cancelled"
    assert "suspects" not in window.state.rankings
    watch.again()
    assert window.triage.find_suspects()
    assert watch.wait(qtbot, "suspects") == "done"
    assert "suspects" in window.state.rankings
    # Only folds: the embeddings were not computed again (that phase counts cutouts).
    assert set(watch.units) == {"folds"}, watch.units
    assert any("/ 4 folds" in text for text in watch.formats)


def test_suspects_without_kept_embeddings_count_cutouts_then_folds(
    window, qtbot, tiny_model, tmp_path, monkeypatch
):
    _load(window, qtbot, tiny_model)
    window.scoring.embedding_budget = 0  # too big to keep: the job computes them itself
    _scored(window, qtbot, random_npz(tmp_path / "a.npz", 60, shape=SHAPE))
    assert window.state.scores.embeddings is None
    watch = JobWatch(window, monkeypatch)
    assert window.triage.find_suspects()
    assert watch.wait(qtbot, "suspects") == "done"
    assert watch.units[0] == "cutouts" and watch.units[-1] == "folds"


def test_the_explanation_sheet_shows_groups_and_can_be_cancelled(
    window, qtbot, tiny_model, tmp_path, monkeypatch
):
    _load(window, qtbot, tiny_model)
    _scored(window, qtbot, random_npz(tmp_path / "a.npz", 40, shape=SHAPE))
    watch = JobWatch(window, monkeypatch, cancel=True)
    assert window.explaining.make_sheet()
    assert watch.wait(qtbot, "explanation_sheet") == "cancelled"
    assert "0 / 4 groups" in watch.formats[0]
    assert window.explaining.sheet_dialog is None


def test_simulation_shows_cutouts_can_be_cancelled_and_opens_its_file(window, qtbot, tmp_path, monkeypatch):
    path = tmp_path / "sim.h5"
    watch = JobWatch(window, monkeypatch, cancel=True)
    assert window.simulation.simulate(path, "des", 200, seed=1, workers=1)
    assert watch.wait(qtbot, "simulate", timeout=60000) == "cancelled"
    assert "64 / 200 cutouts" in watch.formats[0]
    assert list(tmp_path.iterdir()) == []  # nothing left behind, not even the partial file
    watch.again()
    assert window.simulation.simulate(path, "des", 70, seed=1, workers=1)
    qtbot.waitUntil(lambda: window.state.collection is not None and window.state.n == 70, timeout=60000)
    assert window.state.collection.source == path


def test_simulation_in_processes_below_the_windows_priority_only_where_spawning_is_safe(window, monkeypatch):
    import galview.core.spawning as spawning

    started = []
    monkeypatch.setattr(window.runner, "start", lambda *args, **options: started.append(options) or object())
    monkeypatch.setattr(spawning, "spawn_is_safe", lambda: True)
    assert window.simulation.simulate("a.h5", "des", 70)
    monkeypatch.setattr(spawning, "spawn_is_safe", lambda: False)  # a script without a main guard
    assert window.simulation.simulate("b.h5", "des", 70)
    assert window.simulation.simulate("c.h5", "des", 70, workers=3)
    assert [options["workers"] for options in started] == [None, 1, 3]  # None: every core
    assert {options["niceness"] for options in started} == {10}  # below the window


def test_a_second_job_waits_for_the_first(window, qtbot, tiny_model, tmp_path):
    _load(window, qtbot, tiny_model)
    window.scoring.batch_size = 8
    window.scoring.auto_limit = 0
    window.open_path(random_npz(tmp_path / "a.npz", 2000, shape=SHAPE))
    assert window.scoring.score()
    assert not window.simulation.simulate(tmp_path / "s.h5", "des", 70)
    assert "Busy (scoring)" in window.statusBar().currentMessage()
    window.runner.cancel()
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=20000)


@pytest.mark.slow
def test_heat_maps_computed_during_scoring_equal_those_computed_alone(window, qtbot, tiny_model, tmp_path):
    from galview.ml.gradcam import explain
    from galview.ml.inputs import model_input

    _load(window, qtbot, tiny_model)
    window.scoring.batch_size = 16
    window.scoring.auto_limit = 0
    path = random_npz(tmp_path / "a.npz", 1500, shape=SHAPE)
    window.open_path(path)
    window.state.update_explain(grid=True)
    assert window.scoring.score()
    heatmaps = window.explaining.heatmaps
    wanted = list(range(0, 1500, 25))
    heatmaps.request(wanted)  # while scoring runs
    qtbot.waitUntil(
        lambda: not window.runner.busy and all(heatmaps.get(i, request=False) is not None for i in wanted),
        timeout=60000,
    )
    loaded, collection = window.state.model, window.state.collection
    alone = explain(loaded, collection.get_batch(wanted))
    together = np.stack([heatmaps.get(i, request=False) for i in wanted])
    np.testing.assert_allclose(together, alone, atol=1 / 255 + 1e-6)
    probs = loaded.model.predict(
        model_input(collection.get_batch(np.arange(1500)), loaded.card.input), verbose=0
    )
    np.testing.assert_allclose(window.state.scores.probs, probs, atol=1e-5)


@pytest.mark.parametrize("refusal", [True, False])
def test_a_refusal_is_logged_as_a_warning_and_a_crash_as_an_error_with_its_traceback(caplog, refusal):
    """A job the window refuses with a one-line message (a model that does not fit, say) is not an error
    on the console; an unexpected exception is, with its traceback for the bug report."""
    from types import SimpleNamespace

    from galview.core.errors import UserFacingError
    from galview.qt.workers import FAILED, JobThread

    def job(on_progress, cancel):
        if refusal:
            raise UserFacingError("cutouts.npz", "the collection does not fit the model")
        raise RuntimeError("the collection does not fit the model")

    spec = SimpleNamespace(name="score", title="Scoring", function=lambda: job)
    thread = JobThread(spec, (), {})
    errors = []
    thread.errored.connect(errors.append)
    with caplog.at_level("INFO", logger="galview.qt.workers"):
        thread.run()  # in this thread: the same code a started thread runs
    assert thread.outcome == FAILED and len(errors) == 1
    (record,) = [r for r in caplog.records if "does not fit" in r.getMessage()]
    assert record.levelname == ("WARNING" if refusal else "ERROR")
    assert (record.exc_info is not None) == (not refusal)


def test_suspects_are_refused_up_front_when_a_class_has_one_label(window, qtbot, tiny_model, tmp_path):
    """Seven of one class and one of the other: no fold could learn both classes, so nothing starts."""
    _load(window, qtbot, tiny_model)
    path = tmp_path / "lopsided.npz"
    labels = np.array([0] * 7 + [1] + [np.nan] * 4)
    np.savez(
        path, images=np.random.default_rng(0).integers(0, 256, (12, *SHAPE), dtype=np.uint8), labels=labels
    )
    _scored(window, qtbot, path)
    assert not window.triage.find_suspects() and not window.runner.busy
    assert "two or more of each of two classes" in window.statusBar().currentMessage()
    window.labelling.label(1, indices=[8])  # a second label of class 1: now it can start
    assert window.triage.find_suspects()
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=30000)
    assert "suspects" in window.state.rankings


def test_a_long_progress_text_is_shortened_in_the_middle_to_the_status_bar(window, qtbot):
    """Seen under Xvfb while retraining: 'Fold 2/5, epoch 3/15, 28 s left: 58 / 289 batches' was drawn on
    two lines in the status bar's bar, its counts cut off below. Now it fits, keeping its start and its
    counts; the tooltip has it whole."""
    from galview.core.jobs import Progress

    status = window.job_status
    status.progress.setFixedWidth(260)
    window.resize(1400, 860)
    window.show()
    status._started("finetune", "Retraining")
    qtbot.waitUntil(lambda: status.progress.isVisible())
    status._progressed(Progress(58, 289, message="fold 2/5, epoch 3/15, 28 s left", unit="batches"))
    shown = status.progress.format()
    assert status.progress.fontMetrics().horizontalAdvance(shown) <= status.progress.width()
    assert shown.startswith("Fold 2/5") and shown.endswith("58 / 289 batches")
    assert "Fold 2/5, epoch 3/15, 28 s left: 58 / 289 batches" in status.progress.toolTip()
    status._progressed(Progress(5, 10, unit="folds"))  # a short one is left whole
    assert status.progress.format() == "Retraining: 5 / 10 folds"


RELEASE = __import__("threading").Event()


def _wait_for_release(on_progress=None, cancel=None):
    return RELEASE.wait(20)


def _double(value, on_progress=None, cancel=None):
    if value < 0:
        raise ValueError("a negative value")
    return value * 2


def test_file_work_asked_for_while_a_job_runs_is_done_at_once_and_its_failure_reported(qapp, monkeypatch):
    """start_or_run_here: a job when the runner is free; else the same function in this thread, its result
    or its exception handed to the same callbacks."""
    from galview import jobs
    from galview.jobs import JobSpec
    from galview.qt.workers import JobRunner

    for name, target in (("wait", "_wait_for_release"), ("double", "_double")):
        monkeypatch.setitem(jobs.JOBS, name, JobSpec(name, name.title(), f"{__name__}:{target}", "steps"))
    RELEASE.clear()
    runner, got = JobRunner(), []
    assert runner.start_or_run_here("wait", on_returned=got.append) == "started"
    assert runner.start_or_run_here("double", 21, on_returned=got.append) == "ran here" and got == [42]
    assert runner.start_or_run_here("double", -1, on_errored=got.append) == "ran here"
    assert isinstance(got[-1], ValueError)
    RELEASE.set()
    assert runner.wait(20)

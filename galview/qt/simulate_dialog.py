"""File ▸ Simulate a survey…: ask what to simulate, run the simulation job, open the result."""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtCore import QObject, pyqtSignal
from PyQt6.QtWidgets import QComboBox, QDialog, QFileDialog, QFormLayout, QSpinBox

from galview.qt.dialog_buttons import answer_buttons

SIMULATE = "simulate"


class SimulationDialog(QDialog):
    """Survey, number of cutouts and seed."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Simulate a survey")
        form = QFormLayout(self)
        self.survey = QComboBox()
        self.survey.addItem("DES-like (0.263″, g r z)", "des")
        self.survey.addItem("HSC-like (0.168″, g r i, deeper)", "hsc")
        self.count = QSpinBox()
        self.count.setRange(10, 1_000_000)
        self.count.setValue(600)
        self.count.setSingleStep(100)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        form.addRow("Survey", self.survey)
        form.addRow("Cutouts (half LSBGs, half artifacts)", self.count)
        form.addRow("Seed", self.seed)
        buttons = answer_buttons(self)
        form.addRow(buttons)

    def choice(self) -> tuple[str, int, int]:
        return self.survey.currentData(), self.count.value(), self.seed.value()


class SimulationController(QObject):
    """Runs the simulation job on the window's runner and opens the file it writes.

    Signals
    -------
    message(str), error(str)
    """

    message = pyqtSignal(str)
    error = pyqtSignal(str)

    def __init__(self, window, runner, parent: QObject | None = None):
        super().__init__(parent)
        self.window, self.runner = window, runner

    def ask(self) -> None:
        dialog = SimulationDialog(self.window)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        survey, count, seed = dialog.choice()
        path, _ = QFileDialog.getSaveFileName(
            self.window, "Write the simulated survey to", f"{survey}_sim_{count}.h5", "HDF5 (*.h5)"
        )
        if path:
            self.simulate(path, survey, count, seed)

    def simulate(self, path, survey: str = "des", count: int = 600, seed: int = 0, workers=None) -> bool:
        """Simulate ``count`` cutouts of ``survey`` into ``path`` in the background, then open it.

        ``workers`` default: every core, below the window's priority, where spawning processes is safe
        (:func:`~galview.core.spawning.spawn_is_safe`); else the job's own thread.
        """
        from galview.core.spawning import WORKER_NICENESS, spawn_is_safe
        from galview.sim.surveys import SURVEYS

        if workers is None and not spawn_is_safe():
            workers = 1

        job = self.runner.start(
            SIMULATE,
            Path(path),
            SURVEYS[survey],
            int(count),
            int(seed),
            workers=workers,
            niceness=WORKER_NICENESS,
            on_returned=self._on_written,
            on_errored=lambda exc: self.error.emit(f"The simulation failed: {exc}"),
        )
        if job is None:
            self.message.emit(self.runner.busy_message())
            return False
        self.message.emit(f"Simulating {count:,} {survey.upper()}-like cutouts into {path}…")
        return True

    def _on_written(self, path) -> None:
        self.message.emit(f"Simulated survey written to {path}")
        self.window.open_path(path)

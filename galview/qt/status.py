"""Status-bar widgets: the active model, and the running job's progress with a Cancel button."""

from __future__ import annotations

from PyQt6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from galview.qt.scoring import SCORING, model_name


class JobStatus(QWidget):
    """``Model: name`` and, while a job runs, a progress bar and a Cancel button."""

    def __init__(self, state, runner, parent=None):
        super().__init__(parent)
        self.runner = runner
        self.model_label = QLabel()
        self.model_label.setObjectName("activeModel")
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop after the current batch; scores so far are kept")
        self.cancel_button.clicked.connect(runner.cancel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.progress)
        layout.addWidget(self.cancel_button)
        layout.addWidget(self.model_label)
        runner.started.connect(self._started)
        runner.progressed.connect(self._progressed)
        runner.finished.connect(self._finished)
        state.model_changed.connect(self._model_changed)
        self._model_changed(state.model)
        self._finished("", "")

    def _model_changed(self, model) -> None:
        if model is None:
            self.model_label.setText("Model: none")
            self.model_label.setToolTip("Choose a model in the Model menu")
        else:
            self.model_label.setText(f"Model: {model_name(model)}")
            self.model_label.setToolTip(f"{model.path}\n{model.card.architecture}, {model.card.task}")

    def _started(self, name: str) -> None:
        self.progress.setRange(0, 0)  # busy until the first progress report
        self.progress.setFormat(f"{name}…")
        self.progress.show()
        self.cancel_button.setVisible(name == SCORING)  # loading a model cannot be interrupted

    def _progressed(self, progress) -> None:
        self.progress.setRange(0, max(1, progress.total))
        self.progress.setValue(progress.done)
        self.progress.setFormat(f"{progress.message.capitalize()} %v / %m")

    def _finished(self, _name: str, _outcome: str) -> None:
        self.progress.hide()
        self.cancel_button.hide()

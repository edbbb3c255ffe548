"""Status-bar widgets: the active model, and the running job's progress with a Cancel button."""

from __future__ import annotations

from PyQt6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from galview.core.model_names import model_name
from galview.qt.elide import set_progress_text


class JobStatus(QWidget):
    """``Model: name`` and, while any job runs, its progress in its own units and a Cancel button."""

    def __init__(self, state, runner, parent=None):
        super().__init__(parent)
        self.runner = runner
        self.title = ""
        self.model_label = QLabel()
        self.model_label.setObjectName("activeModel")
        self.progress = QProgressBar()
        self.progress.setMinimumWidth(260)
        self.progress.setMaximumWidth(380)
        self.progress.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the running job after its current step; what it finished is kept")
        self.cancel_button.clicked.connect(self._cancel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.progress)
        layout.addWidget(self.cancel_button)
        layout.addWidget(self.model_label)
        # A job starting or ending must not change the status bar's size: that re-lays out and repaints
        # the whole window (measured: ~100 ms when Retrain was pressed, BENCHMARKS.md issue 12).
        for widget in (self.progress, self.cancel_button):
            policy = widget.sizePolicy()
            policy.setRetainSizeWhenHidden(True)
            widget.setSizePolicy(policy)
        self.setFixedHeight(max(self.progress.sizeHint().height(), self.cancel_button.sizeHint().height()))
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

    def _started(self, _name: str, title: str) -> None:
        self.title = title
        self.progress.setRange(0, 0)  # busy until the first progress report
        self.progress.setFormat(f"{title}…")
        self.progress.show()
        self.cancel_button.setEnabled(True)
        self.cancel_button.show()

    def _progressed(self, progress) -> None:
        self.progress.setRange(0, max(1, progress.total))
        self.progress.setValue(min(progress.done, max(1, progress.total)))
        text = progress.text()
        text = f"{self.title}: {text}" if not progress.message else text[0].upper() + text[1:]
        values = ", ".join(f"{k} {v:.4g}" for k, v in progress.values.items() if isinstance(v, int | float))
        self.progress.setToolTip("\n".join(part for part in (text, values) if part))
        set_progress_text(self.progress, text)

    def _cancel(self) -> None:
        self.runner.cancel()
        self.cancel_button.setEnabled(False)  # asked; the job stops at its next step
        self.progress.setFormat(f"{self.title}: cancelling…")

    def _finished(self, _name: str, _outcome: str) -> None:
        self.progress.hide()
        self.cancel_button.hide()

"""The Retrain panel's widgets: what will be used, the recipe, live curves, and the before/after view.

The panel only shows and asks; :class:`galview.qt.retrain.RetrainController` does the work and
fills it in. It has three parts, top to bottom: the plan (starting model, the human labels that
will be used, mode, epochs, folds, and why the default mode was chosen), the run (progress, Stop,
loss and accuracy curves), and the result (before/after metrics with intervals, the verdict, a
histogram of probability changes, "Use this model" and "Flipped first").
"""

from __future__ import annotations

from html import escape

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QEvent, QSize, QTimer
from PyQt6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from galview.qt.elide import SelectableLabel, breakable, set_progress_text
from galview.qt.training_curves import TrainingCurves

#: The width the dock asks for (px): its texts wrap to it; narrower only down to what its widgets need.
READING_WIDTH = 360
#: The result's sort button after a comparison: (text, tooltip).
FLIPPED_FIRST = ("Flipped first", "Sort the grid: cutouts whose predicted class changed first")

#: Mode choices: (data, text). ``None`` lets GalView choose for the label count.
MODE_CHOICES = (
    (None, "Automatic"),  # the text under Folds says what it chose for the label count, and why
    ("probe", "probe — the last layer refitted on frozen features, starting from the model's (seconds)"),
    ("head", "head — dense layers trained, convolutions frozen"),
    ("full", "full — every layer, low learning rate, after a head warm-up"),
    ("scratch", "scratch — a fresh network, the published recipe"),
)


def _wrapping_label(text: str = "") -> QLabel:
    return SelectableLabel(text)


class RetrainPanel(QWidget):
    """Widgets of the Retrain dock; see the module docstring."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.parent_label = _wrapping_label()
        self.labels_label = _wrapping_label()
        self.labels_label.setObjectName("retrainLabels")
        self.mode = QComboBox()
        for data, text in MODE_CHOICES:
            self.mode.addItem(text, data)
        # the longest choice must not set the dock's width: the box is narrow, its list shows it all
        self.mode.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.mode.setMinimumContentsLength(12)
        longest = max(self.mode.fontMetrics().horizontalAdvance(text) for _, text in MODE_CHOICES)
        self.mode.view().setMinimumWidth(longest + 32)
        self.epochs = QSpinBox()
        self.epochs.setRange(0, 500)
        self.epochs.setSpecialValueText("default")
        self.epochs.setToolTip("Most epochs per fit (early stopping may end sooner); 'default': the recipe's")
        self.folds = QSpinBox()
        self.folds.setRange(0, 10)
        self.folds.setSpecialValueText("default")
        self.folds.setToolTip(
            "Cross-validation folds for the before/after estimate (each fold is fine-tuned from the same "
            "starting model); 'default': the recipe's"
        )
        self.why_label = _wrapping_label()
        self.why_label.setObjectName("retrainWhy")
        self.retrain_button = QPushButton("Retrain")
        self.retrain_button.setDefault(True)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip(
            "Stop after the current batch; nothing is written, the active model stays"
        )
        self.stop_button.setEnabled(False)

        plan = QGroupBox("Retrain the active model on your labels")
        form = QFormLayout(plan)
        form.addRow("Starts from:", self.parent_label)
        form.addRow("Uses:", self.labels_label)
        form.addRow("Mode:", self.mode)
        form.addRow("Epochs:", self.epochs)
        form.addRow("Folds:", self.folds)
        form.addRow("", self.why_label)
        buttons = QHBoxLayout()
        buttons.addWidget(self.retrain_button)
        buttons.addWidget(self.stop_button)
        buttons.addStretch(1)
        form.addRow(buttons)

        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setFormat("Not started")
        self.progress.setValue(0)
        self.curves = TrainingCurves()
        self.curves.setMinimumHeight(160)

        self.result_box = QGroupBox("Before and after")
        result_layout = QVBoxLayout(self.result_box)
        self.verdict_label = _wrapping_label()
        self.verdict_label.setObjectName("retrainVerdict")
        self.metrics_label = _wrapping_label()
        self.metrics_label.setObjectName("retrainMetrics")
        self.change_label = _wrapping_label()
        self.agreement_label = _wrapping_label()
        self.agreement_label.setObjectName("retrainAgreement")
        self.change_plot = pg.PlotWidget()
        self.change_plot.setMenuEnabled(False)
        self.change_plot.setMouseEnabled(x=False, y=False)
        self.change_plot.setLabel("bottom", "change of probability (after − before)")
        self.change_plot.setLabel("left", "cutouts")
        self.change_plot.setMinimumHeight(150)
        self.change_plot.setMaximumHeight(240)  # the figures and buttons around it matter more
        self.change_bars = pg.BarGraphItem(x=[], height=[], width=0.04, brush=(110, 160, 240))
        self.change_plot.addItem(self.change_bars)
        self.use_button = QPushButton("Use this model")
        self.use_button.setEnabled(False)
        self.flipped_button = QPushButton()
        self.set_first_button(FLIPPED_FIRST)
        self.back_button = QPushButton("Back to the previous model")
        self.back_button.setEnabled(False)
        # two rows: the three side by side would set the dock's width and cut every text in it
        result_buttons = QGridLayout()
        result_buttons.addWidget(self.use_button, 0, 0)
        result_buttons.addWidget(self.flipped_button, 0, 1)
        result_buttons.addWidget(self.back_button, 1, 0, 1, 2)
        result_buttons.setColumnStretch(2, 1)
        # the verdict, then what to do about it: below the figures and the plot the buttons were out of
        # view in a dock of ordinary height
        result_layout.addWidget(self.verdict_label)
        result_layout.addLayout(result_buttons)
        for widget in (self.metrics_label, self.change_label, self.agreement_label, self.change_plot):
            result_layout.addWidget(widget)
        self.result_box.hide()

        content = QWidget()  # scrolls when the dock is short: nothing is squeezed over anything else
        layout = QVBoxLayout(content)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(plan)
        layout.addWidget(self.progress)
        layout.addWidget(self.curves, stretch=1)
        layout.addWidget(self.result_box, stretch=1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        # the dock scrolls up and down, never sideways: it stays at least as wide as what it holds,
        # which changes with the texts shown (refitted whenever the content's layout is redone)
        self._scroll, self._content = scroll, content
        content.installEventFilter(self)
        self._fit_width()

    def _fit_width(self) -> None:
        scroll = self._scroll
        needed = self._content.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width()
        needed += 2 * scroll.frameWidth() + 2
        if needed != self.minimumWidth():
            self.setMinimumWidth(needed)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        """A reading width, not the width its longest paragraphs would like: the dock took ~400 px of a
        1,400-px window from the cutout and its fields when the result was shown."""
        return QSize(max(self.minimumWidth(), READING_WIDTH), super().sizeHint().height())

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt API)
        if watched is self._content and event.type() == QEvent.Type.LayoutRequest:
            self._fit_width()
        return super().eventFilter(watched, event)

    # -- what the controller calls --------------------------------------------------------
    def chosen_mode(self) -> str | None:
        return self.mode.currentData()

    def chosen_epochs(self) -> int | None:
        return self.epochs.value() or None

    def chosen_folds(self) -> int | None:
        return self.folds.value() or None

    def set_running(self, running: bool, curves: bool = True) -> None:
        """Retrain and the plan's fields are off while a run goes on; Stop is on.

        ``curves`` False hides the training curves for the run (a probe has no epochs to draw).
        """
        for widget in (self.retrain_button, self.mode, self.epochs, self.folds):
            widget.setEnabled(not running)
        self.stop_button.setEnabled(running)
        if running:
            self.progress.setRange(0, 0)
            self.progress.setFormat("Starting…")
            self.result_box.hide()
            self.curves.clear()
            self.curves.setVisible(curves)

    def show_progress(self, progress) -> None:
        self.progress.setRange(0, max(1, progress.total))
        self.progress.setValue(min(progress.done, max(1, progress.total)))
        self.progress.setToolTip(progress.text())
        set_progress_text(self.progress, progress.text())

    def show_stopped(self, text: str) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setToolTip(text)
        set_progress_text(self.progress, text)

    def show_result(self, verdict: str, metrics: str) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.progress.setFormat("Done")
        self.verdict_label.setText(f"<b>{verdict}</b>")
        self.metrics_label.setText(metrics)
        self.change_label.setText("Scoring the collection with the new model…")
        self.clear_changes()
        self.change_plot.setLabel("bottom", "change of probability (after − before)")
        self.set_first_button(FLIPPED_FIRST)
        self.result_box.setTitle("Before and after")
        self.result_box.show()
        self._show_results()

    def show_comparing(self, active: str, other: str) -> None:
        """The result box for a comparison of the active model with another one (no training)."""
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.progress.setFormat("Comparing two models")
        self.curves.hide()
        self.result_box.setTitle("Two models compared")
        self.verdict_label.setText(
            f"<b>{breakable(escape(active))}</b> (active) against <b>{breakable(escape(other))}</b>"
        )
        self.metrics_label.setText("")
        self.change_label.setText(f"Loading {other} and its scores of this collection…")
        self.clear_changes()
        self.change_plot.setLabel("bottom", "change of probability (other − active)")
        self.set_first_button(FLIPPED_FIRST)
        for button in (self.use_button, self.flipped_button, self.back_button):
            button.setEnabled(False)
        self.result_box.show()
        self._show_results()

    def _show_results(self) -> None:
        """Scroll the dock to the result box once it is laid out (the plan above it can fill the dock)."""
        QTimer.singleShot(0, self._scroll_to_results)  # a bound slot: dropped if the panel is gone

    def _scroll_to_results(self) -> None:
        self._scroll.verticalScrollBar().setValue(self.result_box.y())

    def clear_changes(self) -> None:
        self.change_bars.setOpts(x=[], height=[])
        self.agreement_label.setText("")

    def show_agreement(self, text: str) -> None:
        self.agreement_label.setText(text)

    def set_first_button(self, words: tuple[str, str], enabled: bool = False) -> None:
        """The button that sorts the grid by the result's ranking: (text, tooltip)."""
        self.flipped_button.setText(words[0])
        self.flipped_button.setToolTip(words[1])
        self.flipped_button.setEnabled(enabled)

    def show_probabilities(self, probs: np.ndarray, summary: str, axis: str) -> None:
        """Histogram of one model's probabilities in [0, 1] (NaN ignored) instead of the changes."""
        self._histogram(probs, 20, (0.0, 1.0))
        self.change_plot.setLabel("bottom", axis)
        self.change_label.setText(summary)

    def show_changes(self, change: np.ndarray, summary: str) -> None:
        """Histogram of the probability changes (NaN ignored) and a one-line summary."""
        self._histogram(change, 40, (-1.0, 1.0))
        self.change_label.setText(summary)

    def _histogram(self, values: np.ndarray, bins: int, span: tuple[float, float]) -> None:
        counts, edges = np.histogram(values[np.isfinite(values)], bins=bins, range=span)
        self.change_bars.setOpts(x=(edges[:-1] + edges[1:]) / 2, height=counts, width=edges[1] - edges[0])
        self.change_plot.setYRange(0, max(1, int(counts.max(initial=0))), padding=0.05)

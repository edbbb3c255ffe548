"""Live loss and accuracy curves of a training run (pyqtgraph), fed with the job's ``FitEvent``s.

Each stage of a retraining (``fold 2/5``, then ``final``) starts the curves afresh; the x axis is
epochs, with batches placed at fractions of an epoch once the first epoch's length is known.
"""

from __future__ import annotations

import pyqtgraph as pg
from PyQt6.QtCore import QSize
from PyQt6.QtWidgets import QVBoxLayout, QWidget

TRAIN, VALIDATION, BATCH = (90, 150, 240), (240, 150, 60), (150, 150, 150)


class TrainingCurves(QWidget):
    """Two plots, loss and accuracy, train against validation, redrawn as events arrive."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.layout_widget = pg.GraphicsLayoutWidget()
        self.loss_plot = self.layout_widget.addPlot(row=0, col=0, title="loss")
        self.accuracy_plot = self.layout_widget.addPlot(row=0, col=1, title="accuracy")
        self.curves = {}
        for plot in (self.loss_plot, self.accuracy_plot):
            plot.setMenuEnabled(False)
            plot.setMouseEnabled(x=False, y=False)
            plot.setLabel("bottom", "epoch")
            plot.addLegend(offset=(-5, 5), brush=(0, 0, 0, 120))
        self.accuracy_plot.setYRange(0, 1, padding=0.02)
        # one epoch axis for both: alone, the accuracy plot (one point an epoch) spanned −5 to 5 after epoch 1
        self.accuracy_plot.setXLink(self.loss_plot)
        for key, plot, colour, name, width in (
            ("batch_loss", self.loss_plot, BATCH, "batches", 1),
            ("loss", self.loss_plot, TRAIN, "train", 2),
            ("val_loss", self.loss_plot, VALIDATION, "validation", 2),
            ("accuracy", self.accuracy_plot, TRAIN, "train", 2),
            ("val_accuracy", self.accuracy_plot, VALIDATION, "validation", 2),
        ):
            symbol = None if key.startswith("batch") else "o"
            pen = pg.mkPen(colour, width=width)
            self.curves[key] = plot.plot(
                [], [], pen=pen, symbol=symbol, symbolSize=5, symbolBrush=colour, name=name
            )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.layout_widget)
        self.stage = ""
        self.points: dict[str, tuple[list, list]] = {}
        self.clear()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        """A modest preferred size: the curves take what the dock leaves them. The Retrain dock's content
        has wrapping texts, so its scroll area gives it its preferred height; pyqtgraph's 640 × 480 there
        pushed the curves' lower half out of view in a window of ordinary height."""
        return QSize(400, 200)

    def clear(self, stage: str = "") -> None:
        """Forget every point; ``stage`` titles the plots (``"fold 2/5"``)."""
        self.stage = stage
        self.points = {key: ([], []) for key in self.curves}
        self.steps_per_epoch: int | None = None
        for curve in self.curves.values():
            curve.setData([], [])
        self._show_validation(False)
        suffix = f" — {stage}" if stage else ""
        self.loss_plot.setTitle(f"loss{suffix}")
        self.accuracy_plot.setTitle(f"accuracy{suffix}")

    def add(self, event) -> None:
        """Add one ``FitEvent`` (batch or epoch end)."""
        if event.stage != self.stage:
            self.clear(event.stage)
        values = event.values or {}
        if event.kind == "batch":  # epochs and batches count from 1
            if "loss" in values:
                steps = self.steps_per_epoch
                self._append(
                    "batch_loss",
                    event.epoch - 1 + event.batch / steps if steps else event.batch,
                    values["loss"],
                )
            return
        if self.steps_per_epoch is None and self.points["batch_loss"][0]:  # first epoch's length is known now
            xs, ys = self.points["batch_loss"]
            self.steps_per_epoch = max(1, len(xs))
            self.points["batch_loss"] = ([x / self.steps_per_epoch for x in xs], ys)
        for key in ("loss", "val_loss", "accuracy", "val_accuracy"):
            if key in values:
                self._append(key, event.epoch, values[key])
        self._draw()

    def count(self, key: str) -> int:
        """How many points curve ``key`` holds (for tests)."""
        return len(self.points[key][0])

    def _append(self, key: str, x: float, y) -> None:
        try:
            y = float(y)
        except (TypeError, ValueError):
            return
        xs, ys = self.points[key]
        xs.append(float(x))
        ys.append(y)
        if key == "batch_loss" and len(xs) % 8:  # batch curves redraw every 8 batches, epoch ends always
            return
        self.curves[key].setData(xs, ys)

    def _draw(self) -> None:
        for key, (xs, ys) in self.points.items():
            self.curves[key].setData(xs, ys)
        self._show_validation(bool(self.points["val_loss"][0] or self.points["val_accuracy"][0]))

    def _show_validation(self, shown: bool) -> None:
        """List the validation curves in the legends only while they have points (few-label runs
        have no validation part, and a legend entry for an empty curve misleads)."""
        if shown == getattr(self, "validation_in_legend", None):
            return
        self.validation_in_legend = shown
        for key, plot in (("val_loss", self.loss_plot), ("val_accuracy", self.accuracy_plot)):
            plot.legend.removeItem(self.curves[key])
            if shown:
                plot.legend.addItem(self.curves[key], "validation")

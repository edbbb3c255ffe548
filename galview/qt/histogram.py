"""Histogram of the positive-class probability, split by the current labels (file or relabelled)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QTimer
from PyQt6.QtWidgets import QVBoxLayout, QWidget

from galview.core.scores import probability_histograms

UPDATE_MS = 200  # at most five redraws a second while scores stream in
MIN_PLOT_HEIGHT = 110  # lower than this the bars vanish: a restored or dragged dock stops here
GROUPS = (  # (label value, colour, default name)
    (1, (80, 200, 120), "positive"),
    (0, (220, 90, 80), "negative"),
    (None, (110, 160, 240), "all"),
)


class ProbabilityHistogram(QWidget):
    """A pyqtgraph plot of :func:`probability_histograms` that follows the state's scores."""

    def __init__(self, state, class_names=None, parent=None):
        super().__init__(parent)
        self.state = state
        self.class_names = class_names or (lambda: ("0", "1"))  # names of the labels' classes
        self.plot = pg.PlotWidget()
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.setLabel("left", "cutouts")
        self.plot.setLabel("bottom", "probability")
        self.plot.setXRange(0, 1, padding=0.02)
        self.plot.setYRange(0, 1, padding=0)
        self.plot.setMinimumHeight(MIN_PLOT_HEIGHT)
        self.legend = self.plot.addLegend(brush=(0, 0, 0, 150))  # placed over the lowest bars on redraw
        self.plot.getViewBox().sigResized.connect(lambda _box: self._fit_legend())
        self.curves: dict = {}
        self.counts: dict = {}
        self.edges = np.zeros(0)
        # The grid's probability range, shaded; dragging its edges filters the grid (as the P boxes do).
        self.range = pg.LinearRegionItem((0.0, 1.0), bounds=(0.0, 1.0), hoverBrush=(255, 210, 80, 50))
        self.range.setZValue(-10)  # under the bars
        self.range.sigRegionChangeFinished.connect(self._range_dragged)
        self.plot.setToolTip(
            "Drag the edges of the shaded range to show only those probabilities in the grid; "
            "double-click to show them all"
        )
        self.plot.scene().sigMouseClicked.connect(self._clicked)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.plot)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(UPDATE_MS)
        self._timer.timeout.connect(self.redraw)
        self.redraws = 0
        state.scores_changed.connect(self._scores_changed)
        state.collection_changed.connect(lambda _c: self._scores_changed(None))
        state.labels_changed.connect(self._scores_changed)
        state.order_changed.connect(lambda _order: self._show_range())

    @property
    def pending(self) -> bool:
        """True while a redraw is scheduled (scores changed less than ``UPDATE_MS`` ago)."""
        return self._timer.isActive()

    def _scores_changed(self, _scores) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self.redraw()

    def redraw(self) -> None:
        """Recount and redraw now (hidden widgets skip it; showing them redraws)."""
        if not self.isVisible():
            return
        self.redraws += 1
        self.plot.clear()
        self.legend.clear()
        self.curves, self.counts = {}, {}
        scores, collection = self.state.scores, self.state.collection
        if scores is None or collection is None:
            self.plot.setTitle("Score the collection (Model ▸ Score collection) to see probabilities")
            return
        self.plot.addItem(self.range)  # only with scores: without them the P boxes are off too
        self._show_range()
        name = scores.positive_name
        self.plot.setLabel("bottom", f"P({name})" if scores.binary else "probability of the top class")
        edges, self.counts = probability_histograms(scores.positive_prob(), self._labels())
        for key, colour, default in GROUPS:
            if key in self.counts:
                self._add_curve(key, edges, colour, self._group_name(key, default, scores))
        self.edges = edges
        self.legend.setColumnCount(len(self.curves))  # one row: the plot is wide and short
        self._place_legend()
        self._fit_legend()
        QTimer.singleShot(0, self._fit_legend)  # again once the legend's new rows are laid out
        unreadable = int(scores.unreadable.sum())
        note = f" ({unreadable:,} could not be read)" if unreadable else ""
        self.plot.setTitle(f"{scores.n_scored:,} of {len(scores):,} scored{note} · {scores.model_name}")

    def _show_range(self) -> None:
        """Shade the grid's probability range (without echoing it back as a drag)."""
        sorting = self.state.sorting
        self.range.blockSignals(True)
        self.range.setRegion((sorting.p_min, sorting.p_max))
        self.range.blockSignals(False)
        # shaded only when it keeps some of the cutouts: the whole range is just its two edges, to drag
        self.range.setBrush((255, 210, 80, 0 if sorting.full_range else 28))

    def _range_dragged(self) -> None:
        low, high = (round(min(max(float(v), 0.0), 1.0), 2) for v in self.range.getRegion())
        self.state.set_sorting(p_min=min(low, high), p_max=max(low, high))
        self._show_range()  # rounded to the P boxes' hundredths

    def _clicked(self, event) -> None:
        if event.double():
            self.state.set_sorting(p_min=0.0, p_max=1.0)

    def _place_legend(self) -> None:
        """Put the legend at the top left, centre or right, wherever the bars under it are lowest."""
        if not self.counts:
            return
        tallest = np.max(np.stack(list(self.counts.values())), axis=0)
        thirds = np.array_split(tallest, 3)
        where = int(np.argmin([part.max() for part in thirds]))  # 0 left, 1 centre, 2 right
        x = (0.0, 0.5, 1.0)[where]
        offset = (10, 5) if where == 0 else ((0, 5) if where == 1 else (-10, 5))
        self.legend.anchor(itemPos=(x, 0), parentPos=(x, 0), offset=offset)

    def _fit_legend(self) -> None:
        """Raise the top of the y range until the bars under the legend end below it."""
        if not self.counts:
            return
        tallest = np.max(np.stack(list(self.counts.values())), axis=0)
        top = max(1.0, float(tallest.max())) * 1.1
        box = self.plot.getViewBox()
        area = box.sceneBoundingRect()
        legend = self.legend.sceneBoundingRect()
        if area.height() > 0 and legend.width() > 0:
            below = (legend.bottom() + 4 - area.top()) / area.height()  # the legend's share of the height
            left, right = (
                box.mapSceneToView(legend.topLeft()).x(),
                box.mapSceneToView(legend.topRight()).x(),
            )
            centres = (self.edges[:-1] + self.edges[1:]) / 2
            under = tallest[(centres >= left - 0.05) & (centres <= right + 0.05)]
            if under.size and below < 0.7:
                top = max(top, float(under.max()) / (1 - below))
        self.plot.setYRange(0, top, padding=0)

    def _labels(self):
        """The current labels, or None when no cutout has one."""
        labels = self.state.labels
        return labels if len(labels) and not np.isnan(labels).all() else None

    def _group_name(self, key, default: str, scores) -> str:
        """Groups are the collection's labels, named by the collection's classes (not the model's)."""
        if key is None:
            return "unlabelled or unsure" if self._labels() is not None else "all cutouts"
        names = self.class_names()
        return f"labelled {names[key] if 0 <= key < len(names) else default}"

    def _add_curve(self, key, edges, colour, name: str) -> None:
        counts = self.counts[key]
        curve = pg.PlotDataItem(
            edges,
            counts,
            stepMode="center",
            fillLevel=0,
            brush=(*colour, 70),
            pen=pg.mkPen(colour, width=2),
            name=f"{name} ({int(counts.sum()):,})",
        )
        self.plot.addItem(curve)
        self.curves[key] = curve

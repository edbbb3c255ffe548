"""View ▸ Size and surface brightness: the measured candidates in the plane an LSBG sample is cut in.

Each reliably measured cutout is a point at its r_eff (arcsec, log scale) and ⟨μ⟩e (mag/arcsec²), coloured
by its label as the histogram colours them, with DES Y3's cuts drawn (r_eff = 2.5″, ⟨μ⟩e = 24.2: LSBGs lie
right of and above both lines). The current cutout is ringed; clicking a point shows its cutout — the way
to look at the outliers of a sample.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QObject, pyqtSignal
from PyQt6.QtWidgets import QVBoxLayout, QWidget

from galview.core.photometry import LSB_MIN_MEAN_MU, LSB_MIN_R_EFF
from galview.qt.histogram import GROUPS, MIN_PLOT_HEIGHT


def plane_points(fits: dict, labels: np.ndarray) -> dict:
    """The points to draw: label group (1, 0 or None) → (indices, log10 r_eff, ⟨μ⟩e) of reliable fits."""
    groups: dict = {}
    for index, fit in sorted(fits.items()):
        if isinstance(fit, str) or not fit.reliable or not fit.r_eff > 0:
            continue
        value = labels[index] if index < len(labels) else math.nan
        key = int(value) if value in (0, 1) else None
        groups.setdefault(key, []).append((index, math.log10(fit.r_eff), fit.mean_mu_eff))
    return {
        key: tuple(np.array(column) for column in zip(*rows, strict=True)) for key, rows in groups.items()
    }


class PhotometryPlane(QWidget):
    """A pyqtgraph scatter of the measured cutouts; ``picked(int)`` when a point is clicked."""

    picked = pyqtSignal(int)

    def __init__(self, state, measuring: QObject, class_names=None, parent=None):
        super().__init__(parent)
        self.state, self.measuring = state, measuring
        self.class_names = class_names or (lambda: ("0", "1"))
        self.plot = pg.PlotWidget()
        self.plot.setMenuEnabled(False)
        self.plot.setLogMode(x=True, y=False)
        self.plot.setLabel("bottom", "r_eff (″)")
        self.plot.setLabel("left", "⟨μ⟩e (mag/arcsec²)")
        self.plot.setMinimumHeight(MIN_PLOT_HEIGHT)
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        self.legend = self.plot.addLegend(brush=(0, 0, 0, 150), offset=(-10, 5))
        self.plot.setToolTip(
            "Each measured cutout at its r_eff and mean surface brightness ⟨μ⟩e; dashed: DES Y3's LSBG cuts "
            f"(r_eff > {LSB_MIN_R_EFF:g}″, ⟨μ⟩e > {LSB_MIN_MEAN_MU:g}). Click a point to show its cutout"
        )
        self.scatters: dict = {}
        self.ring = pg.ScatterPlotItem(size=16, symbol="o", pen=pg.mkPen((255, 215, 0), width=2), brush=None)
        self.ring.setZValue(20)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.plot)
        measuring.measured.connect(self.redraw)
        state.labels_changed.connect(lambda *_a: self.redraw())
        state.current_changed.connect(lambda _i: self._show_current())

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self.redraw()

    def redraw(self) -> None:
        """Redraw every point (hidden widgets skip it; showing them redraws)."""
        if not self.isVisible():
            return
        self.plot.clear()
        self.legend.clear()
        self.scatters = {}
        points = plane_points(self.measuring.fits, np.asarray(self.state.labels))
        if not points:
            self.plot.setTitle("Measure cutouts (Cutout ▸ Measure the candidate, Ctrl+M) to see them here")
            return
        band = self.measuring.band
        self.plot.setLabel("left", f"⟨μ⟩e, {band} (mag/arcsec²)" if band else "⟨μ⟩e (mag/arcsec²)")
        pen = pg.mkPen((200, 200, 200), width=1, style=pg.QtCore.Qt.PenStyle.DashLine)
        self.plot.addItem(pg.InfiniteLine(math.log10(LSB_MIN_R_EFF), angle=90, pen=pen))
        self.plot.addItem(pg.InfiniteLine(LSB_MIN_MEAN_MU, angle=0, pen=pen))
        names = self.class_names()
        for key, colour, default in GROUPS:
            if key not in points:
                continue
            indices, log_r, mu = points[key]
            name = (
                "unlabelled or unsure"
                if key is None
                else f"labelled {names[key] if key < len(names) else default}"
            )
            scatter = pg.ScatterPlotItem(
                log_r,
                mu,
                data=indices,
                size=7,
                pen=None,
                brush=(*colour, 200),
                name=f"{name} ({len(indices):,})",
            )
            scatter.sigClicked.connect(self._clicked)
            self.plot.addItem(scatter)
            self.scatters[key] = scatter
        self.plot.addItem(self.ring)
        shown = sum(len(p[0]) for p in points.values())
        self.plot.setTitle(f"{shown:,} reliable fits of {len(self.measuring.fits):,} measured")
        self._show_current()

    def _show_current(self) -> None:
        fit = self.measuring.fits.get(self.state.current)
        if fit is None or isinstance(fit, str) or not fit.reliable or not fit.r_eff > 0:
            self.ring.setData([], [])
            return
        self.ring.setData([math.log10(fit.r_eff)], [fit.mean_mu_eff])

    def _clicked(self, _scatter, spots, _event=None) -> None:
        if len(spots):
            index = int(spots[0].data())
            self.state.set_current(index)
            self.picked.emit(index)

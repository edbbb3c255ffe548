"""The detail view: one cutout with zoom and pan, a pixel readout (value, RA/Dec), and beside it the
cutout under its heat map (Grad-CAM), with linked zoom, opacity, colour map and contours."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from galview.qt.elide import ElidedLabel
from galview.qt.overlay import OverlayPanel
from galview.qt.reference_panel import ReferencePanel


class DetailView(QWidget):
    """Shows the rendered cutout; ``readout_changed(str)`` describes the pixel under the mouse.

    ``overlay`` (:class:`OverlayPanel`) is the second panel, hidden until there is a model to explain;
    ``overlay_b`` a third, hidden unless a second model's maps are shown beside the first's;
    ``counterpart`` (a :class:`ReferencePanel`) the same object from another collection, while one is paired;
    ``residual`` (a :class:`ReferencePanel`) what a Sérsic fit leaves of the cutout, while it is asked for;
    ``reference`` (:class:`ReferencePanel`) the last, the similarity reference while a ranking is open.
    """

    readout_changed = pyqtSignal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.caption = ElidedLabel("Cutout")
        self.caption.setObjectName("cutoutCaption")
        self.note = ElidedLabel("")  # one line instead of the heat-map pane when there can be no map
        self.note.setObjectName("heatmapNote")
        self.note.hide()
        self.plot = pg.GraphicsLayoutWidget()
        self.plot.ci.layout.setContentsMargins(0, 0, 0, 0)
        self.view = self.plot.addViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.view.setDefaultPadding(0)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.view.addItem(self.image_item)
        # the half-light ellipse of a Sérsic fit (Cutout ▸ Measure the candidate), dashed over the cutout
        self.aperture = pg.PlotCurveItem(pen=pg.mkPen((255, 215, 0), width=1.5, style=Qt.PenStyle.DashLine))
        self.aperture.setZValue(10)
        self.view.addItem(self.aperture)
        self.overlay = OverlayPanel(self.view)
        self.overlay_b = OverlayPanel(self.view)
        self.overlay_b.hide()
        self.counterpart = ReferencePanel(self.view)  # shown while another collection is paired
        self.counterpart.caption.setObjectName("counterpartCaption")
        self.counterpart.hide()
        # a Sérsic fit's data − model, while Cutout ▸ Show the fit's residual is checked
        self.residual = ReferencePanel(self.view)
        self.residual.caption.setObjectName("residualCaption")
        self.residual.hide()
        self.reference = ReferencePanel(self.view)  # shown while a similarity ranking is open
        self.reference.hide()
        self.readout = QLabel("")
        self.readout.setObjectName("pixelReadout")
        self.readout.setMinimumHeight(self.readout.sizeHint().height() * 2)
        self.readout.setWordWrap(True)
        left = QVBoxLayout()
        left.setSpacing(2)
        left.addWidget(self.caption)  # the same height as the overlay's caption: the panels line up
        left.addWidget(self.plot, stretch=1)
        panels = QHBoxLayout()
        panels.setSpacing(4)
        panels.addLayout(left, stretch=1)
        panels.addWidget(self.overlay, stretch=1)
        panels.addWidget(self.overlay_b, stretch=1)
        panels.addWidget(self.counterpart, stretch=1)
        panels.addWidget(self.residual, stretch=1)
        panels.addWidget(self.reference, stretch=1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(panels, stretch=1)
        layout.addWidget(self.note)
        layout.addWidget(self.readout)
        self._fitted = True  # the view shows the whole cutout as fitted (not zoomed or panned by hand)
        self.view.sigResized.connect(self._refit)
        self.view.sigRangeChangedManually.connect(self._zoomed_by_hand)
        self._raw: np.ndarray | None = None
        self._bands: tuple[str, ...] = ()
        self._wcs = None
        self._scale = 1
        self.plot.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.overlay.plot.scene().sigMouseMoved.connect(self._on_overlay_mouse_moved)
        self.overlay_b.plot.scene().sigMouseMoved.connect(
            lambda position: self._readout_from(self.overlay_b.view, position)
        )
        self._other = None  # (pixels, bands, wcs, name) of the counterpart shown, for its readout
        self.counterpart.plot.scene().sigMouseMoved.connect(
            lambda position: self._readout_over(self.counterpart.view, self.counterpart_readout_at, position)
        )
        self._residual = None  # (values, noise, band) of the fit's residual shown, for its readout
        self.residual.plot.scene().sigMouseMoved.connect(
            lambda position: self._readout_over(self.residual.view, self.residual_readout_at, position)
        )

    def show_cutout(self, rgb: np.ndarray, raw: np.ndarray, bands, wcs=None) -> None:
        """Display ``rgb`` (h, w, 3) uint8; readouts come from ``raw`` (H, W, C) and ``wcs``."""
        first = self._raw is None or self._raw.shape[:2] != raw.shape[:2]
        self._raw, self._bands, self._wcs = raw, tuple(bands), wcs
        self._scale = raw.shape[0] / rgb.shape[0]
        self.image_item.setImage(rgb, levels=(0, 255), autoLevels=False)
        self.image_item.setRect(0, 0, raw.shape[1], raw.shape[0])
        self.overlay.show_cutout(rgb, raw.shape[:2])
        self.overlay_b.show_cutout(rgb, raw.shape[:2])
        if first:
            self.fit()

    def show_aperture(
        self, x: float, y: float, semi_major: float, axis_ratio: float, angle_deg: float
    ) -> None:
        """Draw an ellipse centred on pixel (``x``, ``y``) (0-based pixel centres), ``semi_major`` pixels
        long, at ``angle_deg`` from the x axis towards +y."""
        t = np.linspace(0, 2 * np.pi, 121)
        a, b, angle = semi_major, semi_major * axis_ratio, np.radians(angle_deg)
        along, across = a * np.cos(t), b * np.sin(t)
        xs = x + 0.5 + along * np.cos(angle) - across * np.sin(angle)
        ys = y + 0.5 + along * np.sin(angle) + across * np.cos(angle)
        self.aperture.setData(xs, ys)

    def clear_aperture(self) -> None:
        self.aperture.setData([], [])

    def zoom(self) -> float:
        """Screen pixels per cutout pixel at the current zoom."""
        width = self.view.viewRange()[0][1] - self.view.viewRange()[0][0]
        return self.view.width() / width if width > 0 else 1.0

    def fit(self) -> None:
        """Show the whole cutout as large as the pane allows: at an integer zoom (crisp pixels) when it
        is smaller than the pane, shrunk to fit when it is larger."""
        if self._raw is None:
            return
        h, w = self._raw.shape[:2]
        pane_w, pane_h = self.view.width(), self.view.height()
        if pane_w <= 1 or pane_h <= 1:
            return
        fit = min(pane_w / w, pane_h / h)
        scale = float(np.floor(fit)) if fit >= 1 else fit
        half_w, half_h = pane_w / scale / 2, pane_h / scale / 2
        self.view.setRange(
            xRange=(w / 2 - half_w, w / 2 + half_w), yRange=(h / 2 - half_h, h / 2 + half_h), padding=0
        )
        self._fitted = True

    def _refit(self, *_) -> None:
        if self._fitted:
            self.fit()

    def _zoomed_by_hand(self, *_) -> None:
        self._fitted = False

    def show_note(self, text: str) -> None:
        """A one-line note under the cutout (e.g. why there is no heat map); empty hides it."""
        self.note.setText(text)
        self.note.setVisible(bool(text))

    def clear(self) -> None:
        self._raw = None
        self.image_item.clear()
        self.overlay.clear()
        self.overlay_b.clear()
        self.readout.setText("")

    def show_counterpart_pixels(self, pixels, bands, wcs, name: str) -> None:
        """The counterpart's own pixels (H', W', C'), bands, WCS and file name, read out under the mouse
        in its panel."""
        self._other = (pixels, tuple(bands), wcs, name)

    def clear_counterpart_pixels(self) -> None:
        self._other = None

    def counterpart_readout_at(self, x: float, y: float) -> str:
        """Text for the counterpart's pixel under (x, y) of the cutout's frame (its image is drawn over it)."""
        if self._other is None or self._raw is None:
            return ""
        pixels, bands, wcs, name = self._other
        h, w = self._raw.shape[:2]
        col, row = int(np.floor(x * pixels.shape[1] / w)), int(np.floor(y * pixels.shape[0] / h))
        if not (0 <= col < pixels.shape[1] and 0 <= row < pixels.shape[0]):
            return ""
        parts = [f"{b}={v:.4g}" for b, v in zip(bands, pixels[row, col], strict=False)]
        text = f"{name}: x={col} y={row}  " + "  ".join(parts)
        if wcs is not None:
            ra, dec = wcs.all_pix2world([[col, row]], 0)[0]
            text += f"\nRA={ra:.6f}°  Dec={dec:+.6f}°"
        return text

    def _readout_over(self, view, readout_at, position) -> None:
        """The readout of the panel ``view`` under the mouse at scene ``position`` (``readout_at(x, y)``)."""
        if not view.sceneBoundingRect().contains(position):
            return
        point = view.mapSceneToView(position)
        text = readout_at(point.x(), point.y())
        self.readout.setText(text)
        self.readout_changed.emit(text)

    def show_residual_pixels(self, values: np.ndarray, noise: float, band: str) -> None:
        """The fit's residual (H, W) in the flux unit, the noise it is drawn against and the band, read out
        under the mouse in its panel."""
        self._residual = (values, noise, band)

    def clear_residual_pixels(self) -> None:
        self._residual = None

    def residual_readout_at(self, x: float, y: float) -> str:
        """``x=20 y=10  g − model = 0.0031 (+2.4σ)`` for the residual's pixel under (x, y)."""
        if self._residual is None:
            return ""
        values, noise, band = self._residual
        col, row = int(np.floor(x)), int(np.floor(y))
        if not (0 <= col < values.shape[1] and 0 <= row < values.shape[0]):
            return ""
        value = float(values[row, col])
        return f"x={col} y={row}  {band} − model = {value:.4g} ({value / noise:+.1f}σ)"

    def readout_at(self, x: float, y: float) -> str:
        """Text for the raw pixel containing (x, y) in cutout pixel coordinates."""
        if self._raw is None:
            return ""
        col, row = int(np.floor(x)), int(np.floor(y))
        h, w = self._raw.shape[:2]
        if not (0 <= col < w and 0 <= row < h):
            return ""
        values = self._raw[row, col]
        parts = [f"{b}={v:.4g}" for b, v in zip(self._bands, values, strict=False)]
        text = f"x={col} y={row}  " + "  ".join(parts)
        if self._wcs is not None:
            ra, dec = self._wcs.all_pix2world([[col, row]], 0)[0]
            text += f"\nRA={ra:.6f}°  Dec={dec:+.6f}°"
        return text

    def _on_mouse_moved(self, position) -> None:
        self._readout_from(self.view, position)

    def _on_overlay_mouse_moved(self, position) -> None:
        self._readout_from(self.overlay.view, position)

    def _heat_readout(self, x: float, y: float) -> str:
        """``heat=0.52``, or ``heat A=0.52 B=0.13`` while a second model's map is beside the first."""
        first = self.overlay.value_at(x, y)
        second = self.overlay_b.value_at(x, y) if self.overlay_b.isVisibleTo(self) else None
        if second is None:
            return "" if first is None else f"heat={first:.2f}"
        first_text = "–" if first is None else f"{first:.2f}"
        return f"heat A={first_text} B={second:.2f}"

    def _readout_from(self, view, position) -> None:
        if not view.sceneBoundingRect().contains(position):
            return
        point = view.mapSceneToView(position)
        text = self.readout_at(point.x(), point.y())
        heat = self._heat_readout(point.x(), point.y())
        if text and heat:
            text = text.replace("\n", f"  {heat}\n", 1) if "\n" in text else f"{text}  {heat}"
        self.readout.setText(text)
        self.readout_changed.emit(text)

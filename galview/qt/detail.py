"""The detail view: one cutout with zoom and pan, and a pixel readout (value, RA/Dec)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import QLabel, QVBoxLayout, QWidget


class DetailView(QWidget):
    """Shows the rendered cutout; ``readout_changed(str)`` describes the pixel under the mouse."""

    readout_changed = pyqtSignal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.plot = pg.GraphicsLayoutWidget()
        self.view = self.plot.addViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.view.addItem(self.image_item)
        self.readout = QLabel("")
        self.readout.setObjectName("pixelReadout")
        self.readout.setMinimumHeight(self.readout.sizeHint().height() * 2)
        self.readout.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot, stretch=1)
        layout.addWidget(self.readout)
        self._raw: np.ndarray | None = None
        self._bands: tuple[str, ...] = ()
        self._wcs = None
        self._scale = 1
        self.plot.scene().sigMouseMoved.connect(self._on_mouse_moved)

    def show_cutout(self, rgb: np.ndarray, raw: np.ndarray, bands, wcs=None) -> None:
        """Display ``rgb`` (h, w, 3) uint8; readouts come from ``raw`` (H, W, C) and ``wcs``."""
        first = self._raw is None or self._raw.shape[:2] != raw.shape[:2]
        self._raw, self._bands, self._wcs = raw, tuple(bands), wcs
        self._scale = raw.shape[0] / rgb.shape[0]
        self.image_item.setImage(rgb, levels=(0, 255), autoLevels=False)
        self.image_item.setRect(0, 0, raw.shape[1], raw.shape[0])
        if first:
            self.view.autoRange(padding=0.02)

    def clear(self) -> None:
        self._raw = None
        self.image_item.clear()
        self.readout.setText("")

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
        if not self.view.sceneBoundingRect().contains(position):
            return
        point = self.view.mapSceneToView(position)
        text = self.readout_at(point.x(), point.y())
        self.readout.setText(text)
        self.readout_changed.emit(text)

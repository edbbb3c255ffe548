"""The overlay panel: the cutout under its heat map, with opacity, colour map and contours."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtWidgets import QGraphicsItem, QVBoxLayout, QWidget

from galview.core.colormaps import rgba_table
from galview.core.explanation import CONTOUR_LEVELS
from galview.qt.elide import ElidedLabel


def linked_image_view(linked_view: pg.ViewBox) -> tuple[pg.GraphicsLayoutWidget, pg.ViewBox]:
    """A borderless image view (aspect locked, y down) whose zoom and pan follow ``linked_view``."""
    plot = pg.GraphicsLayoutWidget()
    plot.ci.layout.setContentsMargins(0, 0, 0, 0)
    view = plot.addViewBox(lockAspect=True, invertY=True, enableMenu=False)
    view.setDefaultPadding(0)
    view.setXLink(linked_view)
    view.setYLink(linked_view)
    return plot, view


class OverlayPanel(QWidget):
    """A second image view whose zoom and pan follow ``linked_view``.

    The heat map is an (H, W) float array in [0, 1] at the cutout's resolution, drawn as an
    ImageItem with a colour lookup table and an opacity over the rendered cutout; contours are
    IsocurveItems at :data:`CONTOUR_LEVELS`.
    """

    def __init__(self, linked_view: pg.ViewBox, parent=None):
        super().__init__(parent)
        self.caption = ElidedLabel("")
        self.caption.setObjectName("overlayCaption")
        self.plot, self.view = linked_image_view(linked_view)
        self.base_item = pg.ImageItem(axisOrder="row-major")
        self.heat_item = pg.ImageItem(axisOrder="row-major")
        self.view.addItem(self.base_item)
        self.view.addItem(self.heat_item)
        self.contours = []
        for level in CONTOUR_LEVELS:
            curve = pg.IsocurveItem(
                level=level, pen=pg.mkPen((255, 255, 255, 210), width=1.5), axisOrder="row-major"
            )
            curve.setParentItem(self.heat_item)  # in the map's pixel coordinates
            curve.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresParentOpacity)  # contours stay opaque
            self.contours.append(curve)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.caption)
        layout.addWidget(self.plot, stretch=1)
        self.heat: np.ndarray | None = None
        self._shape: tuple[int, int] | None = None
        self.opacity = 0.5
        self.colormap = "inferno"
        self.show_contours = False

    def show_cutout(self, rgb: np.ndarray, shape: tuple[int, int]) -> None:
        """The cutout under the map; its heat map is dropped until :meth:`set_heat` is called."""
        self._shape = (int(shape[0]), int(shape[1]))
        self.base_item.setImage(rgb, levels=(0, 255), autoLevels=False)
        self.base_item.setRect(0, 0, shape[1], shape[0])
        self.set_heat(None)

    def set_heat(self, heat: np.ndarray | None) -> None:
        """Show ``heat`` (H, W) in [0, 1] over the cutout, or none."""
        self.heat = None if heat is None else np.ascontiguousarray(heat, np.float32)
        if self.heat is None:
            self.heat_item.clear()
            for curve in self.contours:
                curve.setData(None)
            return
        self.heat_item.setImage(self.heat, levels=(0.0, 1.0), autoLevels=False, lut=rgba_table(self.colormap))
        h, w = self.heat.shape
        shape = self._shape or (h, w)
        self.heat_item.setRect(0, 0, shape[1], shape[0])
        self.heat_item.setOpacity(self.opacity)
        for curve in self.contours:
            curve.setData(self.heat if self.show_contours else None)

    def set_style(self, opacity: float, colormap: str, contours: bool) -> None:
        """Opacity of the map (0..1), its colour map and whether contours are drawn."""
        self.opacity, self.colormap, self.show_contours = float(opacity), colormap, bool(contours)
        self.set_heat(self.heat)

    def set_caption(self, text: str) -> None:
        self.caption.setText(text)

    def value_at(self, x: float, y: float) -> float | None:
        """The heat map's value at cutout pixel (x, y), or None."""
        if self.heat is None or self._shape is None:
            return None
        h, w = self.heat.shape
        col, row = int(np.floor(x * w / self._shape[1])), int(np.floor(y * h / self._shape[0]))
        if 0 <= row < h and 0 <= col < w:
            return float(self.heat[row, col])
        return None

    def clear(self) -> None:
        self._shape = None
        self.base_item.clear()
        self.set_heat(None)
        self.set_caption("")

"""The similarity reference, pinned beside the cutout while a similarity ranking is open.

Issue 13 asks that the reference "stays pinned beside the detail view": comparing a candidate with the
galaxy it was ranked against is the point of the ranking. The reference is shown turned and flipped the
way it matched the current cutout (the ranking records the orientation), with the same display settings
as the cutout, and its zoom and pan follow the cutout's.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtWidgets import QVBoxLayout, QWidget

from galview.qt.elide import ElidedLabel
from galview.qt.overlay import linked_image_view


class ReferencePanel(QWidget):
    """An image view of the reference whose zoom and pan follow ``linked_view``."""

    def __init__(self, linked_view: pg.ViewBox, parent=None):
        super().__init__(parent)
        self.caption = ElidedLabel("")
        self.caption.setObjectName("referenceCaption")
        self.plot, self.view = linked_image_view(linked_view)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.view.addItem(self.image_item)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.caption)
        layout.addWidget(self.plot, stretch=1)
        self.rgb: np.ndarray | None = None

    def show_reference(self, rgb: np.ndarray, shape: tuple[int, int], caption: str, steps=()) -> None:
        """Show the rendered reference ``rgb`` over the cutout's ``shape`` (H, W), with ``caption``.

        ``steps`` (what was done to bring an image file to the cutouts) go in the tooltip.
        """
        self.rgb = rgb
        self.image_item.setImage(rgb, levels=(0, 255), autoLevels=False)
        self.image_item.setRect(0, 0, shape[1], shape[0])
        self.caption.setText(caption)
        self.setToolTip("\n".join([caption, *steps]))

    def show_message(self, caption: str, shape: tuple[int, int]) -> None:
        """No image, only ``caption`` (why there is none), over the cutout's frame ``shape`` (H, W)."""
        self.rgb = None
        self.image_item.clear()
        self.view.setRange(xRange=(0, shape[1]), yRange=(0, shape[0]), padding=0)
        self.caption.setText(caption)
        self.setToolTip(caption)

    def clear(self) -> None:
        """Forget the image (the panel is hidden by its owner)."""
        self.rgb = None
        self.image_item.clear()
        self.caption.setText("")
        self.setToolTip("")

"""The explanation sheet in a window of its own, with Save as PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PyQt6.QtGui import QPixmap
from PyQt6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
)

from galview.qt.images import rgb_to_qimage
from galview.qt.screens import fitting_size


class SheetDialog(QDialog):
    """Shows a rendered sheet (H, W, 3) uint8; ``save(path)`` writes it as PNG."""

    def __init__(self, sheet: np.ndarray, title: str, parent=None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.sheet = sheet
        self.image = rgb_to_qimage(sheet)
        picture = QLabel()
        picture.setPixmap(QPixmap.fromImage(self.image))
        scroll = QScrollArea()
        scroll.setWidget(picture)
        save = QPushButton("Save as PNG…")
        save.clicked.connect(self._ask_save)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(save)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, stretch=1)
        layout.addLayout(buttons)
        # at most 1,100 × 900 and nine tenths of the screen (it scrolls inside)
        self.resize(*fitting_size(self, min(sheet.shape[1] + 40, 1100), min(sheet.shape[0] + 80, 900)))

    def save(self, path: str | Path) -> Path:
        """Write the sheet to ``path`` (PNG); returns the path."""
        path = Path(path)
        if not self.image.save(str(path), "PNG"):
            raise OSError(f"{path}: could not write the PNG file")
        return path

    def _ask_save(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Save explanation sheet", "explanation_sheet.png", "PNG (*.png)"
        )
        if path:
            try:
                self.save(path)
            except OSError as exc:  # said where it is seen (it was put in the title bar)
                QMessageBox.warning(self, "Save explanation sheet", str(exc))

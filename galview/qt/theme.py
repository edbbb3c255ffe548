"""Light and dark themes (Fusion style with a palette)."""

from __future__ import annotations

from PyQt6.QtGui import QColor, QPalette
from PyQt6.QtWidgets import QApplication

DARK = {
    QPalette.ColorRole.Window: (45, 45, 48),
    QPalette.ColorRole.WindowText: (220, 220, 220),
    QPalette.ColorRole.Base: (30, 30, 32),
    QPalette.ColorRole.AlternateBase: (45, 45, 48),
    QPalette.ColorRole.ToolTipBase: (60, 60, 64),
    QPalette.ColorRole.ToolTipText: (230, 230, 230),
    QPalette.ColorRole.Text: (220, 220, 220),
    QPalette.ColorRole.Button: (55, 55, 58),
    QPalette.ColorRole.ButtonText: (220, 220, 220),
    QPalette.ColorRole.Highlight: (70, 130, 220),
    QPalette.ColorRole.HighlightedText: (255, 255, 255),
    QPalette.ColorRole.Link: (110, 170, 255),
}


def apply_theme(app: QApplication, dark: bool) -> None:
    """Switch the whole application between the default light palette and a dark one."""
    app.setStyle("Fusion")
    palette = app.style().standardPalette()
    if dark:
        for role, rgb in DARK.items():
            palette.setColor(role, QColor(*rgb))
    app.setPalette(palette)

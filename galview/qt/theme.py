"""Light and dark themes: Fusion style with a palette; the dark one adds ``resources/dark.qss``."""

from __future__ import annotations

import functools
import logging

from PyQt6.QtGui import QColor, QPalette
from PyQt6.QtWidgets import QApplication

from galview.assets import resource_path

logger = logging.getLogger(__name__)

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
    QPalette.ColorRole.PlaceholderText: (140, 140, 145),
}
# Disabled widgets read dimmer than enabled ones (the roles above set every colour group alike).
DARK_DISABLED = {
    QPalette.ColorRole.WindowText: (125, 125, 130),
    QPalette.ColorRole.Text: (125, 125, 130),
    QPalette.ColorRole.ButtonText: (125, 125, 130),
    QPalette.ColorRole.Highlight: (80, 80, 86),
}
DARK_STYLESHEET = "dark.qss"


@functools.cache
def dark_stylesheet() -> str:
    """The dark theme's Qt stylesheet, or ``""`` (palette only) if the installation lost it."""
    try:
        return resource_path(DARK_STYLESHEET).read_text(encoding="utf-8")
    except OSError:
        logger.warning("the dark stylesheet is missing; the dark theme uses its palette only", exc_info=True)
        return ""


def dark_palette(palette: QPalette) -> QPalette:
    """``palette`` with GalView's dark colours (a copy; ``palette`` is not changed)."""
    palette = QPalette(palette)
    for role, rgb in DARK.items():
        palette.setColor(role, QColor(*rgb))
    for role, rgb in DARK_DISABLED.items():
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(*rgb))
    return palette


def apply_theme(app: QApplication, dark: bool) -> None:
    """Switch the whole application between the default light palette and the dark theme.

    Only what changes is set: a new style, palette or stylesheet re-polishes every widget alive,
    including those of a closed window whose deletion is still pending, and a fresh window of the same
    theme (every window calls this) then has nothing to redo.
    """
    if app.property("galview_style") != "Fusion":  # (a stylesheet wraps the style: its name is no guide)
        app.setStyle("Fusion")
        app.setProperty("galview_style", "Fusion")
    standard = app.style().standardPalette()
    palette = dark_palette(standard) if dark else standard
    if app.palette() != palette:
        app.setPalette(palette)
    sheet = dark_stylesheet() if dark else ""
    if app.styleSheet() != sheet:
        app.setStyleSheet(sheet)
    logger.debug("theme: %s", "dark" if dark else "light")

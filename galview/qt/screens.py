"""Window sizes that fit the screen the window is on."""

from __future__ import annotations

from PyQt6.QtGui import QGuiApplication


def fitting_size(widget, width: int, height: int, share: float = 0.9) -> tuple[int, int]:
    """``(width, height)``, each at most ``share`` of the available screen of ``widget`` (a laptop's
    768 px is shorter than the sizes GalView asks for); unchanged when no screen is known."""
    screen = widget.screen() or QGuiApplication.primaryScreen()
    if screen is None:
        return width, height
    room = screen.availableGeometry()
    return min(width, int(room.width() * share)), min(height, int(room.height() * share))

"""The buttons at the foot of GalView's small dialogs."""

from __future__ import annotations

from PyQt6.QtWidgets import QDialogButtonBox


def answer_buttons(dialog, accept=QDialogButtonBox.StandardButton.Ok) -> QDialogButtonBox:
    """``accept`` (OK unless said) and Cancel, wired to ``dialog``'s accept and reject."""
    buttons = QDialogButtonBox(accept | QDialogButtonBox.StandardButton.Cancel)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    return buttons

"""The note dialog (Labels ▸ Write a note on this cutout…, N): keyboard-first, as labelling is.

The note to edit is shown with the cursor at its end (nothing selected, so a key typed adds to it
rather than replacing it); Enter saves, Shift+Enter starts a new line, Esc cancels.
"""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QVBoxLayout

from galview.core.budget import MAX_NOTE_CHARS
from galview.qt.dialog_buttons import answer_buttons


class NoteDialog(QDialog):
    """A small editor for one cutout's note."""

    def __init__(self, parent, title: str, prompt: str, text: str = ""):
        super().__init__(parent)
        self.setWindowTitle(title)
        layout = QVBoxLayout(self)
        label = QLabel(prompt)
        label.setWordWrap(True)
        layout.addWidget(label)
        self.editor = _Editor(self)
        self.editor.setPlainText(text)
        self.editor.moveCursor(self.editor.textCursor().MoveOperation.End)
        self.editor.setPlaceholderText("e.g. tidal tail to the NE? check the DR10 image")
        self.editor.setTabChangesFocus(True)
        layout.addWidget(self.editor)
        hint = QLabel(
            f"Enter saves · Shift+Enter: new line · Esc cancels · at most {MAX_NOTE_CHARS:,} characters"
        )
        hint.setEnabled(False)  # drawn in the palette's muted colour
        layout.addWidget(hint)
        buttons = answer_buttons(self, QDialogButtonBox.StandardButton.Save)
        layout.addWidget(buttons)
        self.resize(480, 220)

    def text(self) -> str:
        """The note as typed."""
        return self.editor.toPlainText()


class _Editor(QPlainTextEdit):
    """Enter accepts the dialog; Shift+Enter (or Ctrl+Enter) inserts a new line."""

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt API)
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if enter and not event.modifiers() & (
            Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.ControlModifier
        ):
            self.window().accept()
            return
        if enter:
            self.insertPlainText("\n")
            return
        super().keyPressEvent(event)


def ask_note_text(parent, title: str, prompt: str, text: str = "") -> tuple[str, bool]:
    """Show the note dialog modally: ``(text, True)`` when saved, ``(text, False)`` when cancelled."""
    dialog = NoteDialog(parent, title, prompt, text)
    saved = dialog.exec() == QDialog.DialogCode.Accepted
    return dialog.text(), saved

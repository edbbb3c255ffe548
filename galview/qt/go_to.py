"""Cutout ▸ Go to… (Ctrl+G): jump to a cutout by index, id (or part of one), sky position or a word of its note."""

from __future__ import annotations

from PyQt6.QtWidgets import QInputDialog

from galview.core.finding import find_cutout
from galview.core.label_filter import filters_in_words
from galview.core.label_values import class_names_for

PROMPT = (
    "Index (#12), id or part of one, or position (RA Dec: 150.1 2.2, or 10:00:24 +02:12:00, or a sky "
    "viewer's link), or a word of a note:"
)


def ask_go_to(window) -> None:
    """Ask what to go to (the last answer offered again), then :func:`go_to`."""
    if window.state.collection is None:
        return
    text, ok = QInputDialog.getText(window, "Go to a cutout", PROMPT, text=getattr(window, "_last_go_to", ""))
    if ok and text.strip():
        window._last_go_to = text.strip()
        go_to(window, text)


def go_to(window, text: str) -> int:
    """Make the cutout ``text`` names current and say how it was found; -1 (and why) when none is.

    A cutout the grid's filters leave out is still shown in the detail view, and the message says so.
    """
    state = window.state
    collection = state.collection
    try:
        coords = collection.readable_coords()
        ids = collection.ids if collection.has_ids else None
        notes = {} if state.blind else state.notes  # a note may say the label
        found = find_cutout(text, state.n, ids, *(coords or (None, None)), notes=notes)
    except ValueError as exc:
        window.show_error(f"Go to: {exc}", dialog=False)
        return -1
    state.set_current(found.index)
    message = f"Went to {found.describe(text)}"
    if state.position_of(found.index) < 0:
        kept = filters_in_words(state.sorting, class_names_for(collection, state.labels))
        message += f"; it is not in the grid, which shows only the cutouts {kept}"
    window.statusBar().showMessage(message, 15000)
    return found.index

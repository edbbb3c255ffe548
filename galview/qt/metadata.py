"""The metadata panel: id, RA/Dec, label, model score, shape and source of the current cutout."""

from __future__ import annotations

import math

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QGridLayout, QLabel, QWidget

from galview.core.scores import UNREADABLE
from galview.qt.elide import SelectableLabel, breakable

FIELDS = (
    "Index",
    "ID",
    "RA",
    "Dec",
    "Label",
    "History",
    "Note",
    "Model",
    "Score",
    "Similarity",
    "Match",
    "Photometry",
    "Review",
    "Inspectors",
    "Shape",
    "Bands",
    "Source",
)


class MetadataPanel(QWidget):
    """Read-only fields describing one cutout."""

    def __init__(self, parent=None):
        super().__init__(parent)
        # a grid, not a QFormLayout: the form gave a field that had just wrapped onto a second line
        # (the photometry) less than its height and the spare height to other rows, until a resize
        grid = QGridLayout(self)
        grid.setColumnStretch(1, 1)
        self.fields: dict[str, QLabel] = {}
        self.names: dict[str, QLabel] = {}
        for row, name in enumerate(FIELDS):
            label = SelectableLabel("—")
            self.names[name] = QLabel(name)
            grid.addWidget(self.names[name], row, 0, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
            grid.addWidget(label, row, 1)
            self.fields[name] = label
        grid.setRowStretch(len(FIELDS), 1)  # spare height below the last field, not between them
        self.fields["Note"].setTextFormat(Qt.TextFormat.PlainText)  # what a person typed, never markup

    def show_cutout(self, collection, index: int) -> None:
        if collection is None or index < 0:
            for label in self.fields.values():
                label.setText("—")
            return
        h, w, c = collection.shape
        ra = dec = None
        if collection.coords is not None:
            ra, dec = float(collection.ra[index]), float(collection.dec[index])
        values = {
            "Index": f"{index} of {len(collection)}",
            "ID": collection.id_of(index),
            "RA": f"{ra:.6f}°" if ra is not None and math.isfinite(ra) else "unknown",
            "Dec": f"{dec:+.6f}°" if dec is not None and math.isfinite(dec) else "unknown",
            "Shape": f"{h} × {w} × {c}  {collection.dtype}",
            "Bands": ", ".join(collection.bands),
            "Source": str(collection.source),
        }
        for name, text in values.items():
            self.fields[name].setText(text)

    def show_label(self, text: str, history: str) -> None:
        """The current label with its origin, and its latest changes (newest first)."""
        self.fields["Label"].setText(text)
        self.fields["History"].setText(history)

    def show_note(self, text: str, earlier: str = "") -> None:
        """The current cutout's note (``""``: none) and, as its tooltip, the earlier versions."""
        self.fields["Note"].setText(breakable(text) if text else "—")
        self.fields["Note"].setToolTip(f"Earlier versions:\n{earlier}" if earlier else "")

    def show_similarity(self, text: str) -> None:
        """The current cutout's similarity to the last search's reference (``"—"``: no search)."""
        self.fields["Similarity"].setText(text)

    def show_inspector(self, text: str, notes: str = "") -> None:
        """Other inspectors' labels of the current cutout beside yours (``"—"``: none compared) and, as
        the tooltip, their notes on it in full."""
        self.fields["Inspectors"].setText(text)
        self.fields["Inspectors"].setToolTip(notes)

    def show_review(self, text: str) -> None:
        """Where the current cutout stands in the review queue (``"—"``: the queue is empty)."""
        self.fields["Review"].setText(text)

    def show_score(
        self, model_name: str | None, scores, index: int, other: tuple[str, str] | None = None
    ) -> None:
        """Fill the Model and Score rows: ``P(LSBG) = 0.93 → LSBG`` for the cutout ``index``.

        ``scores`` is a :class:`~galview.core.scores.Scores` or None; the Score row's name
        becomes ``P(<positive class>)`` for binary models. ``other``: the score of a model compared
        with the active one and that model's name: the score on a second line, the name (a version's
        is long, and would wrap past the row's height) in the row's tooltip.
        """
        self.fields["Score"].setToolTip(f"Second line: the compared model, {other[1]}" if other else "")
        # a version's name ("…_sim-20261206-160112") has no place Qt may wrap it: without these breaks it
        # set the panel's width and the display controls beside it were cut off
        self.fields["Model"].setText(breakable(model_name) if model_name else "none (Model ▸ Open model…)")
        if scores is None or not 0 <= index < len(scores):
            self.names["Score"].setText("Score")
            self.fields["Score"].setText("—" if scores is None else "not scored")
            return
        name = scores.positive_name
        self.names["Score"].setText(f"P({name})" if scores.binary else "Score")
        predicted = scores.predicted_name(index)
        if predicted is None:
            unreadable = scores.predicted[index] == UNREADABLE
            self.fields["Score"].setText("none: could not be read" if unreadable else "not scored yet")
            return
        p = scores.prob_of(index)
        prefix = "" if scores.binary else f"P({predicted}) = "
        text = f"{prefix}{p:.3f} → {predicted}"
        self.fields["Score"].setText(text if other is None else f"{text}\n{other[0]}")

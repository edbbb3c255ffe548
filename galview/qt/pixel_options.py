"""Similarity ▸ Pixel space options…: the thesis method's settings (sky subtraction, normalisation, crop)
and colour.

The ``pixel`` space compares greyscale pixels with cosine similarity (:mod:`galview.core.pixel_space`). Its
four settings, which ``galview similar`` takes as ``--no-sky``, ``--normalise``, ``--crop`` and
``--colour``, are chosen here for the window's searches and remembered. A central crop helped on GalView's
ring benchmark (the galaxy, not its neighbours, is compared); colour about as much.
"""

from __future__ import annotations

from dataclasses import dataclass

from PyQt6.QtWidgets import QCheckBox, QComboBox, QDialog, QFormLayout, QSpinBox

from galview.core.pixel_space import NORMALISATIONS
from galview.qt.dialog_buttons import answer_buttons

NORMALISATION_TEXTS = {
    "none": "none (sky-subtracted values)",
    "zscore": "z-score (each cutout's mean and spread)",
    "asinh": "asinh (bright cores compressed)",
}


@dataclass(frozen=True)
class PixelOptions:
    """``background``: subtract the border median; ``normalisation``: one of NORMALISATIONS; ``crop``: px or
    None; ``colour``: every band compared, not their mean."""

    background: bool = True
    normalisation: str = "none"
    crop: int | None = None
    colour: bool = False

    def __post_init__(self):
        if self.normalisation not in NORMALISATIONS:
            raise ValueError(
                f"normalisation {self.normalisation!r}; expected one of {', '.join(NORMALISATIONS)}"
            )
        if self.crop is not None and self.crop < 2:
            raise ValueError(f"crop {self.crop}; expected a side of 2 pixels or more, or none")

    def space_options(self) -> dict:
        """Keyword arguments of :func:`galview.spaces.make_space` for ``pixel``."""
        return {
            "background": self.background,
            "normalisation": self.normalisation,
            "crop": self.crop,
            "colour": self.colour,
        }


class PixelOptionsDialog(QDialog):
    """The four settings; ``options()`` reads them back. ``side`` bounds the crop (the cutouts' side)."""

    def __init__(self, current: PixelOptions, side: int, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Pixel space options")
        form = QFormLayout(self)
        self.sky = QCheckBox("Subtract the sky (the median of the border)")
        self.sky.setChecked(current.background)
        self.normalisation = QComboBox()
        for name in NORMALISATIONS:
            self.normalisation.addItem(NORMALISATION_TEXTS.get(name, name), name)
        self.normalisation.setCurrentIndex(NORMALISATIONS.index(current.normalisation))
        self.crop = QSpinBox()
        self.crop.setRange(0, max(1, int(side)))
        self.crop.setSpecialValueText("whole cutout")
        self.crop.setSuffix(" px")
        self.crop.setValue(min(current.crop or 0, self.crop.maximum()))
        self.crop.setToolTip("Compare only the central square of this side (0 or 1: the whole cutout)")
        self.colour = QCheckBox("Compare every band (colour), not their grey mean")
        self.colour.setChecked(current.colour)
        self.colour.setToolTip(
            "A blue ring around a red bulge is then unlike a grey one (on the ring benchmark: about as good as grey)"
        )
        form.addRow(self.sky)
        form.addRow(self.colour)
        form.addRow("Normalise", self.normalisation)
        form.addRow("Central crop", self.crop)
        buttons = answer_buttons(self)
        form.addRow(buttons)

    def options(self) -> PixelOptions:
        side = self.crop.value()
        return PixelOptions(
            self.sky.isChecked(),
            self.normalisation.currentData(),
            side if side >= 2 else None,
            self.colour.isChecked(),
        )

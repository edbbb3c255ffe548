"""Cutout ▸ Photometry options…: the band the Sérsic profile is fitted in and the PSF it is fitted through.

What ``galview measure --band`` and ``--psf-fwhm`` choose on the command line. The choice holds for the
open collection's next measurements (and comes back with the photometry kept for it); measurements made
with other options are set aside by the next one, as numbers of two calibrations do not share a ranking.
"""

from __future__ import annotations

from PyQt6.QtWidgets import QComboBox, QDialog, QDoubleSpinBox, QFormLayout, QLabel

from galview.qt.dialog_buttons import answer_buttons


class PhotometryOptionsDialog(QDialog):
    """Band (of the collection's fluxes) and the PSF's FWHM in arcsec (0: left in)."""

    def __init__(self, bands, band: str | None, psf_fwhm: float, measured: int, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Photometry options")
        form = QFormLayout(self)
        self.band = QComboBox()
        self.band.addItems([str(b) for b in bands])
        default = band if band in bands else ("g" if "g" in bands else str(bands[0]))
        self.band.setCurrentText(default)
        self.psf = QDoubleSpinBox()
        self.psf.setRange(0.0, 60.0)
        self.psf.setDecimals(2)
        self.psf.setSingleStep(0.1)
        self.psf.setSuffix("″")
        self.psf.setSpecialValueText("left in")  # shown at 0
        self.psf.setValue(psf_fwhm)
        self.psf.setToolTip(
            "The PSF's full width at half maximum: the profile is blurred by a Gaussian of this width in the "
            "fit, so that r_eff, n and μ0 are the galaxy's own (0: the PSF is left in)"
        )
        form.addRow("Fit the band", self.band)
        form.addRow("PSF FWHM", self.psf)
        if measured:
            note = QLabel(
                f"{measured:,} cutouts are measured; with other options the next measurement starts anew."
            )
            note.setWordWrap(True)
            form.addRow(note)
        buttons = answer_buttons(self)
        form.addRow(buttons)

    def choice(self) -> tuple[str, float]:
        """(band name, PSF FWHM in arcsec)."""
        return self.band.currentText(), float(self.psf.value())

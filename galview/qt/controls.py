"""Display controls bound two ways to :class:`ViewerState`: band/colour, stretch, interval, aids."""

from __future__ import annotations

from PyQt6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QWidget

from galview.core.display_names import COLOUR_METHODS, INTERVALS, STRETCHES

COLOUR_VIEW = "colour composite"


class DisplayControls(QWidget):
    """Widgets that write display settings to the state and follow its changes."""

    def __init__(self, state, parent=None):
        super().__init__(parent)
        self.state = state
        self.view_combo = QComboBox()
        self.stretch_combo = QComboBox()
        self.stretch_combo.addItems(STRETCHES)
        self.interval_combo = QComboBox()
        self.interval_combo.addItems(INTERVALS)
        self.colour_combo = QComboBox()
        self.colour_combo.addItems(COLOUR_METHODS)
        self.smooth_spin = QDoubleSpinBox()
        self.smooth_spin.setRange(0.0, 10.0)
        self.smooth_spin.setSingleStep(0.5)
        self.smooth_spin.setSuffix(" px")
        self.smooth_spin.setToolTip("Gaussian smoothing of the display: brings out faint diffuse light")
        self.bin_check = QCheckBox("bin 2×2")
        self.bin_check.setToolTip("Average 2×2 pixel blocks before display")
        form = QFormLayout(self)
        form.addRow("Show", self.view_combo)
        form.addRow("Stretch", self.stretch_combo)
        form.addRow("Interval", self.interval_combo)
        form.addRow("Colour", self.colour_combo)
        form.addRow("Smooth", self.smooth_spin)
        form.addRow("", self.bin_check)
        self.view_combo.currentIndexChanged.connect(self._view_edited)
        self.stretch_combo.currentTextChanged.connect(lambda text: self.state.update_display(stretch=text))
        self.interval_combo.currentTextChanged.connect(lambda text: self.state.update_display(interval=text))
        self.colour_combo.currentTextChanged.connect(lambda text: self.state.update_display(colour=text))
        self.smooth_spin.valueChanged.connect(
            lambda value: self.state.update_display(smooth_sigma=float(value))
        )
        self.bin_check.toggled.connect(lambda on: self.state.update_display(bin2=bool(on)))
        state.collection_changed.connect(self._collection_changed)
        state.display_changed.connect(self._display_changed)
        self._display_changed(state.display)

    def _collection_changed(self, collection) -> None:
        self.view_combo.blockSignals(True)
        self.view_combo.clear()
        if collection is not None:
            if collection.shape[2] >= 2:
                self.view_combo.addItem(COLOUR_VIEW)
            self.view_combo.addItems([f"band {name}" for name in collection.bands])
        self.view_combo.blockSignals(False)

    def _view_edited(self, row: int) -> None:
        collection = self.state.collection
        if collection is None or row < 0:
            return
        offset = 1 if collection.shape[2] >= 2 else 0
        if offset and row == 0:
            self.state.update_display(mode="colour")
        else:
            self.state.update_display(mode="band", band=row - offset)

    def _display_changed(self, settings) -> None:
        widgets = (
            self.view_combo,
            self.stretch_combo,
            self.interval_combo,
            self.colour_combo,
            self.smooth_spin,
            self.bin_check,
        )
        for widget in widgets:
            widget.blockSignals(True)
        collection = self.state.collection
        if collection is not None:
            offset = 1 if collection.shape[2] >= 2 else 0
            self.view_combo.setCurrentIndex(
                0 if settings.mode == "colour" and offset else settings.band + offset
            )
        self.stretch_combo.setCurrentText(settings.stretch)
        self.interval_combo.setCurrentText(settings.interval)
        self.colour_combo.setCurrentText(settings.colour)
        # The colour mapping applies to float colour composites only (uint8 colours are shown as stored).
        self.colour_combo.setEnabled(
            collection is not None
            and collection.dtype.kind == "f"
            and collection.shape[2] >= 2
            and settings.mode == "colour"
        )
        self.smooth_spin.setValue(settings.smooth_sigma)
        self.bin_check.setChecked(settings.bin2)
        for widget in widgets:
            widget.blockSignals(False)

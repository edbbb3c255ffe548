"""Heat-map controls bound two ways to :class:`ViewerState`: method, class, opacity, colours, grid."""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QPushButton, QSlider, QWidget

from galview.core.colormaps import COLORMAPS
from galview.core.explanation import METHOD_NAMES

PREDICTED = "predicted class"


class ExplainControls(QWidget):
    """Widgets that write ``state.explain`` and follow its changes and the active model's classes.

    ``sheet_button`` opens the explanation sheet (the window connects it).
    """

    def __init__(self, state, parent=None):
        super().__init__(parent)
        self.state = state
        self.show_check = QCheckBox("show heat map beside the cutout")
        self.method_combo = QComboBox()
        for method, name in METHOD_NAMES.items():
            self.method_combo.addItem(name, method)
        self.class_combo = QComboBox()
        self.class_combo.setToolTip(
            "The class whose evidence is shown; by default the one the model predicts"
        )
        self.opacity_slider = QSlider(Qt.Orientation.Horizontal)
        self.opacity_slider.setRange(0, 100)
        self.colormap_combo = QComboBox()
        self.colormap_combo.addItems(COLORMAPS)
        self.contour_check = QCheckBox("contours at 0.3, 0.5, 0.7, 0.9")
        self.grid_check = QCheckBox("overlays in the grid")
        self.grid_check.setToolTip("Paint each thumbnail's heat map over it")
        self.sheet_button = QPushButton("Explanation sheet…")
        self.sheet_button.setToolTip("Most confident true/false positives and negatives with their heat maps")
        form = QFormLayout(self)
        form.addRow("", self.show_check)
        form.addRow("Method", self.method_combo)
        form.addRow("Class", self.class_combo)
        form.addRow("Opacity", self.opacity_slider)
        form.addRow("Colours", self.colormap_combo)
        form.addRow("", self.contour_check)
        form.addRow("", self.grid_check)
        form.addRow("", self.sheet_button)
        self.method_combo.currentIndexChanged.connect(
            lambda _: state.update_explain(method=self.method_combo.currentData())
        )
        self.class_combo.currentIndexChanged.connect(
            lambda _: state.update_explain(class_index=self.class_combo.currentData())
        )
        self.opacity_slider.valueChanged.connect(lambda v: state.update_explain(opacity=v / 100))
        self.colormap_combo.currentTextChanged.connect(lambda text: state.update_explain(colormap=text))
        self.contour_check.toggled.connect(lambda on: state.update_explain(contours=bool(on)))
        self.grid_check.toggled.connect(lambda on: state.update_explain(grid=bool(on)))
        self.show_check.toggled.connect(lambda on: state.update_explain(beside=bool(on)))
        state.explain_changed.connect(self._settings_changed)
        state.model_changed.connect(self._model_changed)
        self._model_changed(state.model)
        self._settings_changed(state.explain)

    def _model_changed(self, model) -> None:
        self.class_combo.blockSignals(True)
        self.class_combo.clear()
        self.class_combo.addItem(PREDICTED, None)
        if model is not None:
            for k, name in enumerate(model.card.class_names):
                self.class_combo.addItem(name, k)
        self.class_combo.blockSignals(False)
        for widget in (self.method_combo, self.class_combo, self.sheet_button, self.grid_check):
            widget.setEnabled(model is not None)
        self._settings_changed(self.state.explain)

    def _settings_changed(self, settings) -> None:
        pairs = (
            (self.method_combo, self.method_combo.findData(settings.method)),
            (
                self.class_combo,
                0 if settings.class_index is None else self.class_combo.findData(settings.class_index),
            ),
            (self.colormap_combo, self.colormap_combo.findText(settings.colormap)),
        )
        for combo, row in pairs:
            combo.blockSignals(True)
            combo.setCurrentIndex(row)
            combo.blockSignals(False)
        for widget, value in (
            (self.opacity_slider, round(settings.opacity * 100)),
            (self.contour_check, settings.contours),
            (self.grid_check, settings.grid),
            (self.show_check, settings.beside),
        ):
            widget.blockSignals(True)
            widget.setValue(value) if isinstance(widget, QSlider) else widget.setChecked(value)
            widget.blockSignals(False)

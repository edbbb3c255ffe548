"""The sort and filter bar above the grid, bound two ways to the state's :class:`Sorting`."""

from __future__ import annotations

from PyQt6.QtWidgets import QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QWidget

from galview.core.ordering import SORTS
from galview.core.words import count


class SortControls(QWidget):
    """Sort combo, probability range and a "shown" count; disabled until there are scores."""

    def __init__(self, state, parent=None):
        super().__init__(parent)
        self.state = state
        self.sort_combo = QComboBox()
        self._fill_sorts()
        self.sort_combo.setToolTip("Order of the grid (unscored or unranked cutouts come last)")
        self.min_spin = self._spin("Show cutouts with probability at least this")
        self.max_spin = self._spin("Show cutouts with probability at most this")
        self.count_label = QLabel("")
        self.count_label.setObjectName("shownCount")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(QLabel("Sort"))
        layout.addWidget(self.sort_combo, stretch=1)
        layout.addSpacing(6)
        layout.addWidget(QLabel("P"))
        layout.addWidget(self.min_spin)
        layout.addWidget(QLabel("–"))
        layout.addWidget(self.max_spin)
        layout.addSpacing(6)
        layout.addWidget(self.count_label)
        self.sort_combo.currentIndexChanged.connect(self._sort_edited)
        self.min_spin.valueChanged.connect(self._min_edited)
        self.max_spin.valueChanged.connect(self._max_edited)
        state.order_changed.connect(self._sync)
        state.scores_changed.connect(lambda _scores: self._sync())
        state.rankings_changed.connect(lambda _name: self._fill_sorts())
        state.collection_changed.connect(lambda _collection: self._fill_sorts())
        self._sync()

    def _fill_sorts(self) -> None:
        """The fixed sorts, then any other ranking the state holds (a similarity search, say)."""
        entries = dict(SORTS)
        entries.update({name: r.title for name, r in self.state.rankings.items() if name not in SORTS})
        shown = [
            (self.sort_combo.itemData(i), self.sort_combo.itemText(i)) for i in range(self.sort_combo.count())
        ]
        if shown == list(entries.items()):  # a ranking replaced under the same name may have a new title
            return
        self.sort_combo.blockSignals(True)
        self.sort_combo.clear()
        for key, text in entries.items():
            self.sort_combo.addItem(text, key)
        self.sort_combo.setCurrentIndex(max(0, self.sort_combo.findData(self.state.sorting.sort)))
        self.sort_combo.blockSignals(False)

    @staticmethod
    def _spin(tip: str) -> QDoubleSpinBox:
        spin = QDoubleSpinBox()
        spin.setRange(0.0, 1.0)
        spin.setDecimals(2)
        spin.setSingleStep(0.05)
        spin.setKeyboardTracking(False)  # filter when the number is complete, not at every keystroke
        spin.setToolTip(tip + " (unscored cutouts are hidden unless the range is 0–1)")
        return spin

    def _sort_edited(self, row: int) -> None:
        if row >= 0:
            self.state.set_sorting(sort=self.sort_combo.itemData(row))

    def _min_edited(self, value: float) -> None:
        value = round(float(value), 4)
        self.state.set_sorting(p_min=value, p_max=max(value, self.state.sorting.p_max))

    def _max_edited(self, value: float) -> None:
        value = round(float(value), 4)
        self.state.set_sorting(p_max=value, p_min=min(value, self.state.sorting.p_min))

    def _sync(self, _order=None) -> None:
        """Show the state's sorting and how many cutouts pass the filter."""
        sorting, state = self.state.sorting, self.state
        widgets = (self.sort_combo, self.min_spin, self.max_spin)
        for widget in widgets:
            widget.blockSignals(True)
        self.sort_combo.setCurrentIndex(max(0, self.sort_combo.findData(sorting.sort)))
        self.min_spin.setValue(sorting.p_min)
        self.max_spin.setValue(sorting.p_max)
        for widget in widgets:
            widget.blockSignals(False)
        self.sort_combo.setEnabled(state.n > 0)  # label queues work without scores
        self.min_spin.setEnabled(state.scores is not None)
        self.max_spin.setEnabled(state.scores is not None)
        n, shown = state.n, len(state.order)
        self.count_label.setText(f"{shown:,} of {n:,} shown" if shown != n else count(n, "cutout"))

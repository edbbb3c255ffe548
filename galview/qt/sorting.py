"""The sort and filter bar above the grid, bound two ways to the state's :class:`Sorting`."""

from __future__ import annotations

from PyQt6.QtCore import QSize, Qt
from PyQt6.QtWidgets import QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QSizePolicy, QWidget

from galview.core.label_filter import show_choices
from galview.core.label_values import class_names_for
from galview.core.ordering import SORTS
from galview.core.words import count
from galview.qt.elide import ElidedLabel


class CountLabel(ElidedLabel):
    """ "10 of 112 shown": as wide as its text when there is room, shortened (whole in its tooltip) in a
    narrow window, so that the bar does not widen the window's minimum."""

    def __init__(self, text: str = "", parent=None):
        super().__init__(text, parent)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(0)  # the layout then keeps minimumSizeHint

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        return QSize(self.fontMetrics().horizontalAdvance(self.text()) + 8, super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        return QSize(
            self.fontMetrics().horizontalAdvance("10,000 of…") + 8, super().minimumSizeHint().height()
        )


class SortControls(QWidget):
    """Sort combo, label filter, probability range and a "shown" count."""

    def __init__(self, state, parent=None):
        super().__init__(parent)
        self.state = state
        self.sort_combo = QComboBox()
        self._fill_sorts()
        self.show_combo = QComboBox()
        self.show_combo.setToolTip(
            "Show only the cutouts with this label (a cutout relabelled stays until the grid is sorted "
            "or filtered again, so a queue being worked through stays put)"
        )
        for combo, letters in ((self.sort_combo, 6), (self.show_combo, 6)):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(letters)
        self._fill_shows()
        self.min_spin = self._spin("Show cutouts with probability at least this")
        self.max_spin = self._spin("Show cutouts with probability at most this")
        self.count_label = CountLabel("")
        self.count_label.setObjectName("shownCount")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(3)  # narrow: the bar must not widen the window beside the Retrain dock
        layout.addWidget(QLabel("Sort"))
        layout.addWidget(self.sort_combo, stretch=1)
        layout.addSpacing(3)
        layout.addWidget(self.show_combo, stretch=1)  # its entries say what it is: "labelled LSBG"…
        layout.addSpacing(3)
        layout.addWidget(QLabel("P"))
        layout.addWidget(self.min_spin)
        layout.addWidget(QLabel("–"))
        layout.addWidget(self.max_spin)
        layout.addSpacing(3)
        layout.addWidget(self.count_label)
        self.sort_combo.currentIndexChanged.connect(self._sort_edited)
        self.show_combo.currentIndexChanged.connect(self._show_edited)
        self.min_spin.valueChanged.connect(self._min_edited)
        self.max_spin.valueChanged.connect(self._max_edited)
        state.order_changed.connect(self._sync)
        state.scores_changed.connect(lambda _scores: self._sync())
        state.rankings_changed.connect(lambda _name: self._fill_sorts())
        state.collection_changed.connect(lambda _collection: self._fill_sorts())
        state.collection_changed.connect(lambda _collection: self._fill_shows())
        state.labels_changed.connect(lambda _indices: self._fill_shows())  # classes named or added
        self._sync()

    def _fill_shows(self) -> None:
        """Every label filter, with the collection's class names (what each keeps in its tooltip)."""
        entries = show_choices(class_names_for(self.state.collection, self.state.labels))
        combo = self.show_combo
        shown = [(combo.itemData(i), combo.itemText(i)) for i in range(combo.count())]
        if shown == [(key, text) for key, text, _meaning in entries]:
            return
        combo.blockSignals(True)
        combo.clear()
        for row, (key, text, meaning) in enumerate(entries):
            combo.addItem(text, key)
            combo.setItemData(row, f"Show only the cutouts {meaning}", Qt.ItemDataRole.ToolTipRole)
        combo.setCurrentIndex(max(0, combo.findData(self.state.sorting.show)))
        combo.blockSignals(False)

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
        for row, (key, text) in enumerate(entries.items()):
            self.sort_combo.addItem(text, key)
            self.sort_combo.setItemData(
                row, text, Qt.ItemDataRole.ToolTipRole
            )  # whole, where the list cuts it
        self.sort_combo.setCurrentIndex(max(0, self.sort_combo.findData(self.state.sorting.sort)))
        self.sort_combo.blockSignals(False)
        self._sort_tip()

    def _sort_tip(self) -> None:
        """The box's tooltip names the sort in full: a long ranking's title is cut in a narrow window."""
        self.sort_combo.setToolTip(
            f"Sorted: {self.sort_combo.currentText()}\nOrder of the grid (unscored or unranked cutouts come last)"
        )

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

    def _show_edited(self, row: int) -> None:
        if row >= 0:
            self.state.set_sorting(show=self.show_combo.itemData(row))

    def _min_edited(self, value: float) -> None:
        value = round(float(value), 4)
        self.state.set_sorting(p_min=value, p_max=max(value, self.state.sorting.p_max))

    def _max_edited(self, value: float) -> None:
        value = round(float(value), 4)
        self.state.set_sorting(p_max=value, p_min=min(value, self.state.sorting.p_min))

    def _sync(self, _order=None) -> None:
        """Show the state's sorting and how many cutouts pass the filter."""
        sorting, state = self.state.sorting, self.state
        widgets = (self.sort_combo, self.show_combo, self.min_spin, self.max_spin)
        for widget in widgets:
            widget.blockSignals(True)
        self.sort_combo.setCurrentIndex(max(0, self.sort_combo.findData(sorting.sort)))
        self.show_combo.setCurrentIndex(max(0, self.show_combo.findData(sorting.show)))
        self.min_spin.setValue(sorting.p_min)
        self.max_spin.setValue(sorting.p_max)
        for widget in widgets:
            widget.blockSignals(False)
        self._sort_tip()
        self.sort_combo.setEnabled(state.n > 0)  # label queues work without scores
        self.show_combo.setEnabled(state.n > 0)
        self.min_spin.setEnabled(state.scores is not None)
        self.max_spin.setEnabled(state.scores is not None)
        n, shown = state.n, len(state.order)
        self.count_label.setText(f"{shown:,} of {n:,} shown" if shown != n else count(n, "cutout"))

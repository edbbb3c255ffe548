"""A virtualized thumbnail grid: a table model over the collection's display order.

A table view only asks for the cells on screen, so a million cutouts cost nothing until
they are scrolled to. Cell (r, c) is display position ``p = r * columns + c``, which shows
cutout ``order[p]``; the order (sorting and filtering by score) is a numpy array from
:class:`~galview.core.state.ViewerState`, with its inverse kept for cutout → cell.
"""

from __future__ import annotations

import math

import numpy as np
from PyQt6.QtCore import QAbstractTableModel, QModelIndex, QRect, QSize, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QFont, QPainter, QPen
from PyQt6.QtWidgets import QAbstractItemView, QHeaderView, QStyle, QStyledItemDelegate, QTableView

from galview.core.ordering import inverse_order
from galview.qt.thumbnails import ThumbnailCache

CutoutIndexRole = Qt.ItemDataRole.UserRole + 1
ErrorRole = Qt.ItemDataRole.UserRole + 2
ProbabilityRole = Qt.ItemDataRole.UserRole + 3
HeatRole = Qt.ItemDataRole.UserRole + 4
UserSetRole = Qt.ItemDataRole.UserRole + 5
CELL_MARGIN = 6
LABEL_COLOURS = {1: QColor(80, 200, 120), 0: QColor(220, 90, 80), -1: QColor(235, 190, 60)}  # -1: unsure
BADGE_HEIGHT = 17


def probability_colour(p: float) -> QColor:
    """Red (0) through yellow (0.5) to green (1), bright enough to read on a dark strip."""
    p = min(1.0, max(0.0, float(p)))
    return QColor.fromHsvF(p / 3.0, 0.75, 1.0)


class GridModel(QAbstractTableModel):
    """Cells of ``columns`` cutouts per row, in display order; empty cells after the last."""

    def __init__(self, cache: ThumbnailCache, parent=None):
        super().__init__(parent)
        self.cache = cache
        self.collection = None
        self.columns = 1
        self.order = np.arange(0, dtype=np.int64)
        self.position = np.arange(0, dtype=np.int64)
        self.scores = None  # galview.core.scores.Scores, read cell by cell
        self.labels = np.zeros(0)  # current label per cutout, NaN where none
        self.user_set = np.zeros(0, dtype=bool)  # the label was set (or changed) by the user
        self.hide_labels = False  # a blind re-check hides labels (and probability badges)
        self.heatmaps = None  # galview.qt.heatmaps.HeatmapCache while the grid shows overlays
        self.overlay_style = ("inferno", 0.5)  # colour map, opacity
        cache.updated.connect(self._on_thumbnail)

    def set_overlay(self, heatmaps, colormap: str = "inferno", opacity: float = 0.5) -> None:
        """Paint heat maps from ``heatmaps`` (a HeatmapCache) over the thumbnails; None for plain cutouts."""
        self.heatmaps = heatmaps
        self.overlay_style = (colormap, opacity)
        if self.rowCount():
            last = self.index(self.rowCount() - 1, self.columns - 1)
            self.dataChanged.emit(self.index(0, 0), last, [HeatRole])

    def set_collection(self, collection) -> None:
        self.beginResetModel()
        self.collection = collection
        n = 0 if collection is None else len(collection)
        self.order = np.arange(n, dtype=np.int64)
        self.position = np.arange(n, dtype=np.int64)
        self.scores = None
        self.labels = np.full(n, np.nan)
        self.user_set = np.zeros(n, dtype=bool)
        self.endResetModel()

    def set_labels(self, labels: np.ndarray, user_set: np.ndarray | None = None, indices=None) -> None:
        """Label dots from ``labels`` (N,) (NaN: none); ``user_set`` marks the user's; repaint ``indices``."""
        self.labels = np.asarray(labels, dtype=np.float64)
        if user_set is not None:
            self.user_set = np.asarray(user_set, dtype=bool)
        cells = [self.cell_of(int(i)) for i in indices] if indices is not None and len(indices) < 64 else None
        if cells is None:
            if self.rowCount():
                last = self.index(self.rowCount() - 1, self.columns - 1)
                self.dataChanged.emit(self.index(0, 0), last, [Qt.ItemDataRole.DisplayRole])
            return
        for cell in cells:
            if cell.isValid():
                self.dataChanged.emit(cell, cell, [Qt.ItemDataRole.DisplayRole])

    def set_order(self, order: np.ndarray) -> None:
        """Show cutouts ``order`` (M,) in this order."""
        n = 0 if self.collection is None else len(self.collection)
        self.beginResetModel()
        self.order = np.asarray(order, dtype=np.int64)
        self.position = inverse_order(self.order, n)
        self.endResetModel()

    def set_scores(self, scores) -> None:
        """Badge cells with the positive-class probability of ``scores`` (or none, for None)."""
        self.scores = scores
        if self.rowCount():
            last = self.index(self.rowCount() - 1, self.columns - 1)
            self.dataChanged.emit(self.index(0, 0), last, [ProbabilityRole])

    def set_columns(self, columns: int) -> None:
        columns = max(1, columns)
        if columns != self.columns:
            self.beginResetModel()
            self.columns = columns
            self.endResetModel()

    def count(self) -> int:
        """Number of cutouts shown (after filtering)."""
        return len(self.order)

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008, N802 (Qt API)
        return 0 if parent.isValid() else math.ceil(self.count() / self.columns)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else self.columns

    def position_at(self, index: QModelIndex) -> int:
        """Display position of a cell, or -1 for the empty cells after the last cutout."""
        p = index.row() * self.columns + index.column()
        return p if index.isValid() and p < self.count() else -1

    def cutout_at(self, index: QModelIndex) -> int:
        """Cutout index of a cell, or -1 for the empty cells after the last cutout."""
        return self.cutout_at_position(self.position_at(index))

    def cutout_at_position(self, position: int) -> int:
        return int(self.order[position]) if 0 <= position < self.count() else -1

    def position_of(self, cutout: int) -> int:
        """Display position of a cutout, or -1 when it is filtered out (or out of range)."""
        return int(self.position[cutout]) if 0 <= cutout < len(self.position) else -1

    def cell_at_position(self, position: int) -> QModelIndex:
        if not 0 <= position < self.count():
            return QModelIndex()
        return self.index(position // self.columns, position % self.columns)

    def cell_of(self, cutout: int) -> QModelIndex:
        """The cell showing ``cutout``; an invalid index when it is filtered out."""
        return self.cell_at_position(self.position_of(cutout))

    def flags(self, index):
        if self.cutout_at(index) < 0:
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        i = self.cutout_at(index)
        if i < 0:
            return None
        if role == Qt.ItemDataRole.DecorationRole:
            return self.cache.get(i)
        if role == CutoutIndexRole:
            return i
        if role == ProbabilityRole:
            return None if self.hide_labels else self._prob(i)  # a blind re-check shows no model opinion
        if role == HeatRole:
            if self.heatmaps is None:
                return None
            image = self.heatmaps.image(i, self.overlay_style[0])
            return None if image is None else (image, self.overlay_style[1])
        if role == ErrorRole:
            return self.cache.errors.get(i)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(i)
        if role == Qt.ItemDataRole.DisplayRole:
            if self.hide_labels or i >= len(self.labels) or np.isnan(self.labels[i]):
                return None
            return int(self.labels[i])
        if role == UserSetRole:
            return bool(i < len(self.user_set) and self.user_set[i]) and not self.hide_labels
        return None

    def _prob(self, i: int) -> float | None:
        if self.scores is None or i >= len(self.scores):
            return None
        p = self.scores.prob_of(i)
        return None if math.isnan(p) else p

    def _tooltip(self, i: int) -> str:
        text = f"#{i}  {self.collection.id_of(i)}"
        prob = self._prob(i)
        if prob is not None:
            text += f"\nP = {prob:.3f}"
        error = self.cache.errors.get(i)
        return text + (f"\n{error}" if error else "")

    def _on_thumbnail(self, cutout: int) -> None:
        cell = self.cell_of(cutout)
        if cell.isValid():
            self.dataChanged.emit(cell, cell, [Qt.ItemDataRole.DecorationRole])

    def on_heatmap(self, cutout: int) -> None:
        """A heat map arrived: repaint its cell if the grid shows overlays."""
        cell = self.cell_of(cutout) if self.heatmaps is not None else QModelIndex()
        if cell.isValid():
            self.dataChanged.emit(cell, cell, [HeatRole])


class ThumbnailDelegate(QStyledItemDelegate):
    """Paints a thumbnail, its selection frame, a label dot and a probability badge."""

    def __init__(self, size: int, parent=None):
        super().__init__(parent)
        self.size = size
        self.badge_font = QFont()
        self.badge_font.setPixelSize(12)
        self.badge_font.setBold(True)

    def sizeHint(self, option, index) -> QSize:  # noqa: N802
        return QSize(self.size + CELL_MARGIN, self.size + CELL_MARGIN)

    def paint(self, painter: QPainter, option, index) -> None:
        if index.data(CutoutIndexRole) is None:
            return
        rect = QRect(0, 0, self.size, self.size)  # the thumbnail square, centred in a possibly wider cell
        rect.moveCenter(option.rect.center())
        painter.save()
        painter.fillRect(rect, QColor(30, 30, 30))
        image = index.data(Qt.ItemDataRole.DecorationRole)
        if image is not None:
            target = QRect(0, 0, image.width(), image.height())
            target.moveCenter(rect.center())
            painter.drawImage(target, image)
            heat = index.data(HeatRole)
            if heat is not None:
                painter.setOpacity(heat[1])
                painter.drawImage(target, heat[0])
                painter.setOpacity(1.0)
        elif index.data(ErrorRole):
            painter.setPen(QColor(230, 120, 120))
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, "unreadable")
        label = index.data(Qt.ItemDataRole.DisplayRole)
        if label is not None:
            badge = QRect(rect.right() - 16, rect.top() + 3, 13, 13)
            painter.setBrush(LABEL_COLOURS.get(label, QColor(120, 160, 230)))
            mine = index.data(UserSetRole)  # labelled here: a white ring
            painter.setPen(QPen(QColor(255, 255, 255) if mine else QColor(0, 0, 0, 160), 2 if mine else 1))
            painter.drawEllipse(badge)
        prob = index.data(ProbabilityRole)
        if prob is not None:
            self._paint_probability(painter, rect, prob)
        if option.state & QStyle.StateFlag.State_Selected:
            painter.setPen(QPen(option.palette.highlight().color(), 3))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(rect.adjusted(1, 1, -1, -1))
        painter.restore()

    def _paint_probability(self, painter: QPainter, rect: QRect, prob: float) -> None:
        """``0.93`` on a dark strip along the bottom of the cell, coloured red → green."""
        strip = QRect(rect.left(), rect.bottom() - BADGE_HEIGHT + 1, rect.width(), BADGE_HEIGHT)
        painter.fillRect(strip, QColor(0, 0, 0, 165))
        bar = QRect(strip.left(), strip.top(), max(1, round(strip.width() * prob)), 2)
        painter.fillRect(bar, probability_colour(prob))
        painter.setFont(self.badge_font)
        painter.setPen(probability_colour(prob))
        painter.drawText(strip.adjusted(0, 1, 0, 0), Qt.AlignmentFlag.AlignCenter, f"{prob:.2f}")


class ThumbnailGrid(QTableView):
    """The grid widget. ``cutout_activated(int)`` fires when the current cutout changes."""

    cutout_activated = pyqtSignal(int)

    def __init__(self, cache: ThumbnailCache, parent=None):
        super().__init__(parent)
        self.grid_model = GridModel(cache, self)
        self.setModel(self.grid_model)
        self.setItemDelegate(ThumbnailDelegate(cache.size, self))
        cell = cache.size + CELL_MARGIN
        for header in (self.horizontalHeader(), self.verticalHeader()):
            header.setVisible(False)
            header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
            header.setDefaultSectionSize(cell)
            header.setMinimumSectionSize(cell)
        self.setShowGrid(False)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)  # Shift/Ctrl-click
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.verticalScrollBar().setSingleStep(cell // 3)
        self.setMinimumWidth(cell * 3 + 20)
        self.setAcceptDrops(False)

    # -- the current cutout -------------------------------------------------------
    def current_cutout(self) -> int:
        return self.grid_model.cutout_at(self.currentIndex())

    def set_current_cutout(self, cutout: int) -> None:
        """Select and show the cell of ``cutout`` (nothing happens when it is filtered out)."""
        cell = self.grid_model.cell_of(cutout)
        if not cell.isValid() or cutout == self.current_cutout():
            return
        self.setCurrentIndex(cell)
        self.scrollTo(cell)

    def selected_cutouts(self) -> list[int]:
        """Cutouts selected in the grid (several with Shift/Ctrl-click), in display order."""
        cells = self.selectionModel().selectedIndexes() if self.selectionModel() else []
        positions = sorted(p for p in (self.grid_model.position_at(c) for c in cells) if p >= 0)
        return [self.grid_model.cutout_at_position(p) for p in positions]

    def select_first(self, k: int) -> list[int]:
        """Select the first ``k`` cutouts of the display order (the top of a ranking)."""
        from PyQt6.QtCore import QItemSelection, QItemSelectionModel

        k = min(int(k), self.grid_model.count())
        selection = QItemSelection()
        for p in range(k):
            cell = self.grid_model.cell_at_position(p)
            selection.select(cell, cell)
        self.selectionModel().select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        return self.selected_cutouts()

    def _set_current_position(self, position: int) -> None:
        self.set_current_cutout(self.grid_model.cutout_at_position(position))

    def currentChanged(self, current, previous) -> None:  # noqa: N802
        super().currentChanged(current, previous)
        cutout = self.grid_model.cutout_at(current)
        if cutout >= 0:
            self.cutout_activated.emit(cutout)

    def set_collection(self, collection) -> None:
        self.grid_model.set_collection(collection)
        self._fit_columns()
        if collection is not None:
            self.set_current_cutout(0)

    def set_order(self, order: np.ndarray, current: int, keep_scroll: bool = False) -> None:
        """Show cutouts in ``order``; select ``current`` and scroll to it unless ``keep_scroll``."""
        scroll = self.verticalScrollBar().value()
        self.grid_model.set_order(order)
        cell = self.grid_model.cell_of(current)
        if cell.isValid():
            self.blockSignals(True)
            self.setCurrentIndex(cell)
            self.blockSignals(False)
        if keep_scroll or not cell.isValid():
            self.verticalScrollBar().setValue(scroll if keep_scroll else 0)
        else:
            self.scrollTo(cell)

    # -- layout and keys -------------------------------------------------------------
    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._fit_columns()

    def _fit_columns(self) -> None:
        """As many columns as fit; the spare width is shared between them, so no strip is left over."""
        keep = self.current_cutout()
        cell = self.verticalHeader().defaultSectionSize()
        columns = max(1, self.viewport().width() // cell)
        self.horizontalHeader().setDefaultSectionSize(max(cell, self.viewport().width() // columns))
        self.grid_model.set_columns(columns)
        if keep >= 0:
            self.blockSignals(True)
            self.setCurrentIndex(self.grid_model.cell_of(keep))
            self.blockSignals(False)
            self.scrollTo(self.grid_model.cell_of(keep))

    def keyPressEvent(self, event) -> None:  # noqa: N802
        """Home/End and wrapping Left/Right move through the display order."""
        count = self.grid_model.count()
        columns = self.grid_model.columns
        position = self.grid_model.position_at(self.currentIndex())
        key = event.key()
        if count and key == Qt.Key.Key_Home:
            self._set_current_position(0)
        elif count and key == Qt.Key.Key_End:
            self._set_current_position(count - 1)
        elif count and position >= 0 and key == Qt.Key.Key_Right and position % columns == columns - 1:
            self._set_current_position(min(count - 1, position + 1))  # wrap to the next row
        elif count and position >= 0 and key == Qt.Key.Key_Left and position % columns == 0:
            self._set_current_position(max(0, position - 1))
        else:
            super().keyPressEvent(event)

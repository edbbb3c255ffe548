"""A virtualized thumbnail grid: a table model over the collection, one cutout per cell.

A table view only asks for the cells on screen, so a million cutouts cost nothing
until they are scrolled to. Columns follow the view's width.
"""

from __future__ import annotations

import math

from PyQt6.QtCore import QAbstractTableModel, QModelIndex, QRect, QSize, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QPainter, QPen
from PyQt6.QtWidgets import QAbstractItemView, QHeaderView, QStyle, QStyledItemDelegate, QTableView

from galview.qt.thumbnails import ThumbnailCache

CutoutIndexRole = Qt.ItemDataRole.UserRole + 1
ErrorRole = Qt.ItemDataRole.UserRole + 2
CELL_MARGIN = 6
LABEL_COLOURS = {1: QColor(80, 200, 120), 0: QColor(220, 90, 80)}


class GridModel(QAbstractTableModel):
    """Cells of ``columns`` cutouts per row; cell (r, c) is cutout ``r * columns + c``."""

    def __init__(self, cache: ThumbnailCache, parent=None):
        super().__init__(parent)
        self.cache = cache
        self.collection = None
        self.columns = 1
        cache.updated.connect(self._on_thumbnail)

    def set_collection(self, collection) -> None:
        self.beginResetModel()
        self.collection = collection
        self.endResetModel()

    def set_columns(self, columns: int) -> None:
        columns = max(1, columns)
        if columns != self.columns:
            self.beginResetModel()
            self.columns = columns
            self.endResetModel()

    def count(self) -> int:
        return 0 if self.collection is None else len(self.collection)

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008, N802 (Qt API)
        return 0 if parent.isValid() else math.ceil(self.count() / self.columns)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else self.columns

    def cutout_at(self, index: QModelIndex) -> int:
        """Cutout index of a cell, or -1 for the empty cells after the last cutout."""
        i = index.row() * self.columns + index.column()
        return i if index.isValid() and i < self.count() else -1

    def cell_of(self, cutout: int) -> QModelIndex:
        return self.index(cutout // self.columns, cutout % self.columns)

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
        if role == ErrorRole:
            return self.cache.errors.get(i)
        if role == Qt.ItemDataRole.ToolTipRole:
            error = self.cache.errors.get(i)
            return f"#{i}  {self.collection.id_of(i)}" + (f"\n{error}" if error else "")
        if role == Qt.ItemDataRole.DisplayRole:
            labels = self.collection.labels
            return None if labels is None else int(labels[i])
        return None

    def _on_thumbnail(self, cutout: int) -> None:
        if cutout < self.count():
            cell = self.cell_of(cutout)
            self.dataChanged.emit(cell, cell, [Qt.ItemDataRole.DecorationRole])


class ThumbnailDelegate(QStyledItemDelegate):
    """Paints a thumbnail, its selection frame and a small label badge."""

    def __init__(self, size: int, parent=None):
        super().__init__(parent)
        self.size = size

    def sizeHint(self, option, index) -> QSize:  # noqa: N802
        return QSize(self.size + CELL_MARGIN, self.size + CELL_MARGIN)

    def paint(self, painter: QPainter, option, index) -> None:
        if index.data(CutoutIndexRole) is None:
            return
        rect = option.rect.adjusted(CELL_MARGIN // 2, CELL_MARGIN // 2, -CELL_MARGIN // 2, -CELL_MARGIN // 2)
        painter.save()
        painter.fillRect(rect, QColor(30, 30, 30))
        image = index.data(Qt.ItemDataRole.DecorationRole)
        if image is not None:
            target = QRect(0, 0, image.width(), image.height())
            target.moveCenter(rect.center())
            painter.drawImage(target, image)
        elif index.data(ErrorRole):
            painter.setPen(QColor(230, 120, 120))
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, "unreadable")
        label = index.data(Qt.ItemDataRole.DisplayRole)
        if label is not None and label >= 0:
            badge = QRect(rect.right() - 16, rect.top() + 3, 13, 13)
            painter.setBrush(LABEL_COLOURS.get(label, QColor(120, 160, 230)))
            painter.setPen(Qt.PenStyle.NoPen)
            painter.drawEllipse(badge)
        if option.state & QStyle.StateFlag.State_Selected:
            painter.setPen(QPen(option.palette.highlight().color(), 3))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(rect.adjusted(1, 1, -1, -1))
        painter.restore()


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
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.verticalScrollBar().setSingleStep(cell // 3)
        self.setMinimumWidth(cell * 3 + 20)
        self.setAcceptDrops(False)

    # -- the current cutout -------------------------------------------------------
    def current_cutout(self) -> int:
        return self.grid_model.cutout_at(self.currentIndex())

    def set_current_cutout(self, cutout: int) -> None:
        if cutout < 0 or cutout >= self.grid_model.count() or cutout == self.current_cutout():
            return
        cell = self.grid_model.cell_of(cutout)
        self.setCurrentIndex(cell)
        self.scrollTo(cell)

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

    # -- layout and keys -------------------------------------------------------------
    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._fit_columns()

    def _fit_columns(self) -> None:
        keep = self.current_cutout()
        cell = self.horizontalHeader().defaultSectionSize()
        self.grid_model.set_columns(max(1, self.viewport().width() // cell))
        if keep >= 0:
            self.blockSignals(True)
            self.setCurrentIndex(self.grid_model.cell_of(keep))
            self.blockSignals(False)
            self.scrollTo(self.grid_model.cell_of(keep))

    def keyPressEvent(self, event) -> None:  # noqa: N802
        count = self.grid_model.count()
        key = event.key()
        if count and key == Qt.Key.Key_Home:
            self.set_current_cutout(0)
        elif count and key == Qt.Key.Key_End:
            self.set_current_cutout(count - 1)
        elif (
            count
            and key == Qt.Key.Key_Right
            and self.current_cutout() % self.grid_model.columns == self.grid_model.columns - 1
        ):
            self.set_current_cutout(min(count - 1, self.current_cutout() + 1))  # wrap to the next row
        elif count and key == Qt.Key.Key_Left and self.current_cutout() % self.grid_model.columns == 0:
            self.set_current_cutout(max(0, self.current_cutout() - 1))
        else:
            super().keyPressEvent(event)

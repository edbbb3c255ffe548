"""A virtualized thumbnail grid: a table model over the state's display order.

A table view only asks for the cells on screen, so a million cutouts cost nothing until
they are scrolled to. Cell (r, c) is display position ``p = r * columns + c``, which shows
cutout ``state.order[p]``. The grid keeps no copy of the order, labels, scores, selection or
blind mode: :class:`GridModel` reads them from :class:`~galview.core.state.ViewerState` and
repaints when the state signals a change; :class:`ThumbnailGrid` writes the current cutout and
the selection back to the state.
"""

from __future__ import annotations

import math

import numpy as np
from PyQt6.QtCore import (
    QAbstractTableModel,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QRect,
    QSize,
    Qt,
)
from PyQt6.QtGui import QColor, QFont, QPainter, QPen
from PyQt6.QtWidgets import QAbstractItemView, QHeaderView, QStyle, QStyledItemDelegate, QTableView

from galview.core.grid_cells import positions_in, rectangles
from galview.core.label_filter import filters_in_words
from galview.core.label_values import class_names_for
from galview.qt.thumbnails import ThumbnailCache

CutoutIndexRole = Qt.ItemDataRole.UserRole + 1
ErrorRole = Qt.ItemDataRole.UserRole + 2
ProbabilityRole = Qt.ItemDataRole.UserRole + 3
HeatRole = Qt.ItemDataRole.UserRole + 4
UserSetRole = Qt.ItemDataRole.UserRole + 5
RankingRole = Qt.ItemDataRole.UserRole + 6
NoteRole = Qt.ItemDataRole.UserRole + 7
NOTE_COLOUR = QColor(250, 215, 90)  # the marker of a cutout with a note: a small sticky note
CELL_MARGIN = 6
LABEL_COLOURS = {1: QColor(80, 200, 120), 0: QColor(220, 90, 80), -1: QColor(235, 190, 60)}  # -1: unsure
BADGE_HEIGHT = 17
REPAINT_ONE_BY_ONE = 64  # more changed cutouts than this repaint the whole grid


def probability_colour(p: float) -> QColor:
    """Red (0) through yellow (0.5) to green (1), bright enough to read on a dark strip."""
    p = min(1.0, max(0.0, float(p)))
    return QColor.fromHsvF(p / 3.0, 0.75, 1.0)


class GridModel(QAbstractTableModel):
    """Cells of ``columns`` cutouts per row, in the state's display order; empty cells after the last."""

    def __init__(self, cache: ThumbnailCache, state, parent=None):
        super().__init__(parent)
        self.cache = cache
        self.state = state
        self.columns = 1
        self._rows = 0  # Qt asks rowCount twice for each cell of a selection: counted once, at each reset
        self._count_rows()
        self.heatmaps = None  # galview.qt.heatmaps.HeatmapCache while the grid shows overlays
        self.overlay_style = ("inferno", 0.5)  # colour map, opacity
        cache.updated.connect(self._on_thumbnail)
        state.collection_changed.connect(self._reset)
        state.order_changed.connect(self._reset)
        state.labels_changed.connect(self._on_labels)
        state.notes_changed.connect(lambda indices: self._on_labels(indices, NoteRole))
        state.scores_changed.connect(lambda _scores: self.repaint_all(ProbabilityRole))
        state.blind_changed.connect(lambda _on: self.repaint_all())
        state.rankings_changed.connect(self._on_ranking)

    # -- following the state -----------------------------------------------------------------
    def _reset(self, *_) -> None:
        self.beginResetModel()
        self._count_rows()
        self.endResetModel()

    def _count_rows(self) -> None:
        self._rows = math.ceil(self.count() / self.columns)

    def repaint_all(self, role=None) -> None:
        """Ask the view to repaint every cell (for ``role`` only, if given)."""
        if self.rowCount():
            last = self.index(self.rowCount() - 1, self.columns - 1)
            self.dataChanged.emit(self.index(0, 0), last, [] if role is None else [role])

    def _on_labels(self, indices, role=Qt.ItemDataRole.DisplayRole) -> None:
        if indices is None or len(indices) > REPAINT_ONE_BY_ONE:
            self.repaint_all(role)
            return
        for i in indices:
            cell = self.cell_of(int(i))
            if cell.isValid():
                self.dataChanged.emit(cell, cell, [role])

    def _on_ranking(self, name: str) -> None:
        if name == self.state.sorting.sort:
            self.repaint_all(RankingRole)

    def set_overlay(self, heatmaps, colormap: str = "inferno", opacity: float = 0.5) -> None:
        """Paint heat maps from ``heatmaps`` (a HeatmapCache) over the thumbnails; None for plain cutouts."""
        self.heatmaps = heatmaps
        self.overlay_style = (colormap, opacity)
        self.repaint_all(HeatRole)

    def set_columns(self, columns: int) -> None:
        columns = max(1, columns)
        if columns != self.columns:
            self.beginResetModel()
            self.columns = columns
            self._count_rows()
            self.endResetModel()

    # -- cells and cutouts ----------------------------------------------------------------------
    def count(self) -> int:
        """Number of cutouts shown (after filtering)."""
        return len(self.state.order)

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008, N802 (Qt API)
        return 0 if parent.isValid() else self._rows

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else self.columns

    def position_at(self, index: QModelIndex) -> int:
        """Display position of a cell, or -1 for the empty cells after the last cutout."""
        p = index.row() * self.columns + index.column()
        return p if index.isValid() and p < self.count() else -1

    def cutout_at(self, index: QModelIndex) -> int:
        """Cutout index of a cell, or -1 for the empty cells after the last cutout."""
        return self.state.cutout_at(self.position_at(index))

    def cutout_at_position(self, position: int) -> int:
        return self.state.cutout_at(position)

    def position_of(self, cutout: int) -> int:
        """Display position of a cutout, or -1 when it is filtered out (or out of range)."""
        return self.state.position_of(cutout)

    def cell(self, row: int, column: int) -> QModelIndex:
        """The cell at ``row``, ``column``, which must exist (no bounds check: Qt's ``index`` asks
        ``rowCount`` and ``columnCount`` at every call, the selection of 100,000 cells' main cost)."""
        return self.createIndex(row, column)

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
        state = self.state
        if role == Qt.ItemDataRole.DecorationRole:
            return self.cache.get(i)
        if role == CutoutIndexRole:
            return i
        if role == ProbabilityRole:
            return None if state.blind else self._prob(i)  # a blind re-check shows no model opinion
        if role == RankingRole:
            return None if state.blind else self._ranking_badge(i)
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
            if state.blind or i >= len(state.labels) or np.isnan(state.labels[i]):
                return None
            return int(state.labels[i])
        if role == UserSetRole:
            user = state.user_labels
            return bool(i < len(user) and not np.isnan(user[i])) and not state.blind
        if role == NoteRole:
            return i in state.notes and not state.blind  # a note may say the label
        return None

    def _prob(self, i: int) -> float | None:
        scores = self.state.scores
        if scores is None or i >= len(scores):
            return None
        p = scores.prob_of(i)
        return None if math.isnan(p) else p

    def _ranking_badge(self, i: int) -> str | None:
        """``"sim 0.93"`` when the grid is sorted by a ranking that shows its score."""
        ranking = self.state.sort_ranking
        return None if ranking is None else ranking.badge_text(i)

    def _tooltip(self, i: int) -> str:
        text = f"#{i}  {self.state.collection.id_of(i)}"
        prob = None if self.state.blind else self._prob(i)
        if prob is not None:
            text += f"\nP = {prob:.3f}"
        badge = self._ranking_badge(i)
        if badge is not None:
            text += f"\n{self.state.sort_ranking.title}: {badge}"
        note = "" if self.state.blind else self.state.notes.get(i, "")
        if note:
            first = note.splitlines()[0]
            more = "…" if len(first) > 80 or first != note else ""
            text += f"\nNote: {first[:80]}{more}"
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
    """Paints a thumbnail, its selection frame, a label dot, a note marker and a probability badge."""

    def __init__(self, size: int, parent=None):
        super().__init__(parent)
        self.size = size
        self.badge_font = QFont()
        self.badge_font.setPixelSize(12)
        self.badge_font.setBold(True)
        self.ranking_font = QFont()
        self.ranking_font.setPixelSize(11)

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
        if index.data(NoteRole):  # a sticky note left of the label dot
            note = QRect(rect.right() - 29, rect.top() + 4, 10, 11)
            painter.setBrush(NOTE_COLOUR)
            painter.setPen(QPen(QColor(0, 0, 0, 170), 1))
            painter.drawRect(note)
            painter.drawLine(note.left() + 2, note.top() + 4, note.right() - 2, note.top() + 4)
            painter.drawLine(note.left() + 2, note.top() + 7, note.right() - 2, note.top() + 7)
        prob = index.data(ProbabilityRole)
        if prob is not None:
            self._paint_probability(painter, rect, prob)
        ranking = index.data(RankingRole)
        if ranking is not None:
            self._paint_ranking(painter, rect, ranking)
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

    def _paint_ranking(self, painter: QPainter, rect: QRect, text: str) -> None:
        """The score of the ranking the grid is sorted by (``sim 0.93``), top left on a dark strip."""
        painter.setFont(self.ranking_font)
        width = painter.fontMetrics().horizontalAdvance(text) + 6
        strip = QRect(rect.left(), rect.top(), min(width, rect.width() - 18), BADGE_HEIGHT - 2)
        painter.fillRect(strip, QColor(0, 0, 0, 165))
        painter.setPen(QColor(150, 200, 255))
        painter.drawText(strip, Qt.AlignmentFlag.AlignCenter, text)


class ThumbnailGrid(QTableView):
    """The grid widget: shows the state's order and writes the current cutout and selection back."""

    def __init__(self, cache: ThumbnailCache, state, parent=None):
        super().__init__(parent)
        self.state = state
        self.grid_model = GridModel(cache, state, self)
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
        self._sorting = state.sorting  # the sorting the grid last showed (same sorting: keep the scroll)
        self._syncing = False  # True while the grid shows what the state says (no echo back)
        self._shown = np.empty(0, dtype=np.int64)  # the positions Qt has selected, kept as Qt changes them
        self.selectionModel().selectionChanged.connect(self._selection_edited)
        self.grid_model.modelReset.connect(self._forget_shown)
        state.collection_changed.connect(self._on_collection)
        state.order_changed.connect(self._on_order)
        state.current_changed.connect(self.set_current_cutout)
        state.selection_changed.connect(self._show_selection)

    # -- the current cutout -------------------------------------------------------
    def current_cutout(self) -> int:
        return self.grid_model.cutout_at(self.currentIndex())

    def set_current_cutout(self, cutout: int) -> None:
        """Select and show the cell of ``cutout`` (nothing happens when it is filtered out)."""
        cell = self.grid_model.cell_of(cutout)
        if not cell.isValid() or cutout == self.current_cutout():
            return
        self._move_current(cell)
        self.scrollTo(cell)

    def _move_current(self, cell) -> None:
        """Make ``cell`` the view's current cell without touching the selection (the state owns it)."""
        self._syncing = True
        try:
            self.selectionModel().setCurrentIndex(cell, QItemSelectionModel.SelectionFlag.NoUpdate)
        finally:
            self._syncing = False

    def selected_cutouts(self) -> list[int]:
        """Cutouts selected (several with Shift/Ctrl-click), in display order: the state's selection."""
        return [int(i) for i in self.state.selection]

    def _selection_edited(self, selected, deselected) -> None:
        """The user changed the selection: Qt's change, applied to the positions shown, goes to the state."""
        if self._syncing:
            return
        kept = np.setdiff1d(self._shown, self._positions(deselected), assume_unique=True)
        self._shown = np.union1d(kept, self._positions(selected))
        self.state.set_selection(self.state.order[self._shown])

    def _positions(self, selection) -> np.ndarray:
        """Display positions of the cells of a QItemSelection, read from its rectangles (not cell by cell)."""
        ranges = [(r.top(), r.bottom(), r.left(), r.right()) for r in selection]
        return positions_in(ranges, self.grid_model.columns, self.grid_model.count())

    def _forget_shown(self) -> None:
        """The model was reset: Qt dropped its selection without a signal."""
        self._shown = np.empty(0, dtype=np.int64)

    def _show_selection(self, selection: np.ndarray) -> None:
        """The state's selection changed: select those cells (unless the grid just sent it)."""
        positions = self.state.position[np.asarray(selection, dtype=np.int64)]
        wanted = np.unique(positions[positions >= 0])
        if np.array_equal(self._shown, wanted):
            return
        chosen, model = QItemSelection(), self.grid_model
        for top, left, bottom, right in zip(
            *(a.tolist() for a in rectangles(wanted, model.columns)), strict=True
        ):
            chosen.select(model.cell(top, left), model.cell(bottom, right))
        self._syncing = True
        try:
            self.selectionModel().select(chosen, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        finally:
            self._syncing = False
        self._shown = wanted

    def _set_current_position(self, position: int) -> None:
        cutout = self.grid_model.cutout_at_position(position)
        if cutout >= 0:
            self.state.set_current(cutout)

    def currentChanged(self, current, previous) -> None:  # noqa: N802
        super().currentChanged(current, previous)
        cutout = self.grid_model.cutout_at(current)
        if cutout >= 0 and not self._syncing:  # the user moved: the selection follows from Qt's
            self.state.set_current(cutout, keep_selection=True)

    def _on_collection(self, _collection) -> None:
        self._sorting = self.state.sorting
        self._fit_columns()

    def _on_order(self, _order) -> None:
        """A new order (the model was reset): select the current cutout again; keep the scroll when
        only the scores moved things (same sorting), else show the current cutout."""
        keep_scroll = self.state.sorting == self._sorting
        self._sorting = self.state.sorting
        scroll = self.verticalScrollBar().value()
        cell = self.grid_model.cell_of(self.state.current)
        if cell.isValid():
            self._move_current(cell)
        self._show_selection(self.state.selection)
        if keep_scroll or not cell.isValid():
            self.verticalScrollBar().setValue(scroll if keep_scroll else 0)
        else:
            self.scrollTo(cell)

    # -- layout and keys -------------------------------------------------------------
    def empty_text(self) -> str:
        """What the grid says when the open collection's filters keep no cutout ("" otherwise)."""
        state = self.state
        if state.collection is None or len(state.order) or state.blind:
            return ""
        kept = filters_in_words(state.sorting, class_names_for(state.collection, state.labels))
        return f"No cutout {kept}.\n\nShow all cutouts, or widen the probability range, in the bar above."

    def paintEvent(self, event) -> None:  # noqa: N802
        super().paintEvent(event)
        text = self.empty_text()
        if text:
            painter = QPainter(self.viewport())
            painter.setPen(self.palette().color(self.palette().ColorRole.PlaceholderText))
            flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
            painter.drawText(self.viewport().rect().adjusted(12, 12, -12, -12), flags, text)
            painter.end()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._fit_columns()

    def _fit_columns(self) -> None:
        """As many columns as fit; the spare width is shared between them, so no strip is left over."""
        keep = self.state.current
        cell = self.verticalHeader().defaultSectionSize()
        columns = max(1, self.viewport().width() // cell)
        self.horizontalHeader().setDefaultSectionSize(max(cell, self.viewport().width() // columns))
        self.grid_model.set_columns(columns)
        target = self.grid_model.cell_of(keep)
        if target.isValid():
            self._move_current(target)
            self._show_selection(self.state.selection)
            self.scrollTo(target)

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

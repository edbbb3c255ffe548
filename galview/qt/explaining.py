"""Glue between the state, the heat-map cache, the overlay panel, the grid and the explanation sheet.

The maps are the active model's, unless :meth:`ExplainController.use_model` names another (the model
the active one is being compared with, so that the user can flip between the two models' maps of a
cutout in place). :meth:`ExplainController.show_beside` puts a second model's maps in a second pane
beside the first, so that the two can be seen at once.
"""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QObject, pyqtSignal

from galview.core.explanation import METHOD_NAMES
from galview.core.model_names import model_name
from galview.core.words import count
from galview.qt.heatmaps import HeatmapCache
from galview.qt.sheet_dialog import SheetDialog

PREFETCH = 12  # cutouts after the current one (in display order) whose maps are computed ahead
SHEET = "explanation_sheet"
NO_EVIDENCE = "no positive evidence: nothing in the cutout raises this class's score"


class ExplainController(QObject):
    """Keeps heat maps in step with the current cutout, the model and ``state.explain``.

    Signals
    -------
    message(str)
        For the status bar.
    sheet_ready(SheetDialog)
        The explanation sheet was rendered and is shown.
    """

    message = pyqtSignal(str)
    sheet_ready = pyqtSignal(object)

    def __init__(self, state, detail, grid, runner, parent: QObject | None = None):
        super().__init__(parent)
        self.state, self.detail, self.grid, self.runner = state, detail, grid, runner
        self.heatmaps = HeatmapCache(parent=self)
        self.sheet_dialog: SheetDialog | None = None
        self.override = None  # a LoadedModel whose maps are shown instead of the active model's
        self.second_model = None  # a LoadedModel whose maps fill the second pane (None: no second pane)
        self.second: HeatmapCache | None = None  # its maps; made when first needed
        self._key = self._second_key = None
        self.heatmaps.updated.connect(self._on_heatmap)
        self.heatmaps.failed.connect(self._on_failed)
        for signal in (state.collection_changed, state.model_changed, state.explain_changed):
            signal.connect(self._reset)
        self._reset()  # the window calls show_current after it renders a cutout

    # -- following the state ------------------------------------------------------------------
    def use_model(self, loaded) -> None:
        """Show ``loaded``'s maps instead of the active model's (None: the active model's again)."""
        self.override = loaded
        self._reset()

    def show_beside(self, loaded) -> None:
        """Show ``loaded``'s maps in a second pane beside the first (None: hide the second pane)."""
        self.second_model = loaded
        if loaded is not None and self.second is None:
            self.second = HeatmapCache(parent=self)
            self.second.updated.connect(self._on_second_heatmap)
            self.second.failed.connect(self._on_second_failed)
        self._reset()

    def _model(self):
        """The model whose maps are shown."""
        return self.override if self.override is not None else self.state.model

    def _reset(self, *_) -> None:
        state, settings, model = self.state, self.state.explain, self._model()
        key = (state.collection, None if model is None else model.version, settings.key)
        if key != self._key:
            self._key = key
            self.heatmaps.reset(model, state.collection, settings)
        active = model is not None and state.collection is not None
        self._show_pane(active and settings.beside)
        self.detail.overlay.set_style(settings.opacity, settings.colormap, settings.contours)
        self._reset_second(active and settings.beside)
        grid_model = self.grid.grid_model
        grid_model.set_overlay(
            self.heatmaps if active and settings.grid else None, settings.colormap, settings.opacity
        )
        self.show_current(state.current)

    def _reset_second(self, shown: bool) -> None:
        """The second pane: shown with the second model's maps while there is one, hidden otherwise."""
        state, settings, model = self.state, self.state.explain, self.second_model
        shown = shown and model is not None
        pane = self.detail.overlay_b
        if self.second is not None:
            key = (state.collection, None if model is None else model.version, settings.key)
            if key != self._second_key:
                self._second_key = key
                self.second.reset(model if shown else None, state.collection, settings)
        pane.setVisible(shown and not getattr(model, "explain_problem", None))
        pane.set_style(settings.opacity, settings.colormap, settings.contours)
        if not shown:
            pane.set_heat(None)

    def show_current(self, index: int) -> None:
        """Put the current cutout's map in the overlay panel (or queue it) and prefetch what follows."""
        if self._model() is None or self.state.collection is None or index < 0:
            return
        position = self.state.position_of(index)
        ahead = self.state.order[position + 1 : position + 1 + PREFETCH][::-1] if position >= 0 else []
        self.heatmaps.request(ahead)  # the nearest neighbour is served first, after the current
        heat = self.heatmaps.get(index)
        self.detail.overlay.set_heat(heat)
        self._caption(pending=heat is None, heat=heat)
        if self.detail.overlay_b.isVisibleTo(self.detail):
            self.second.request(ahead)
            heat = self.second.get(index)
            self.detail.overlay_b.set_heat(heat)
            self._caption(pending=heat is None, heat=heat, second=True)

    def _caption(self, pending: bool, heat: np.ndarray | None = None, second: bool = False) -> None:
        """The caption over the first pane (or the second): method, class, model, and the map's state."""
        settings = self.state.explain
        model, cache = (self.second_model, self.second) if second else (self._model(), self.heatmaps)
        pane = self.detail.overlay_b if second else self.detail.overlay
        problem = cache.error or getattr(model, "explain_problem", None)
        if problem:
            pane.set_caption(f"No heat map: {problem}")
            return
        names = model.card.class_names
        which = "predicted class" if settings.class_index is None else names[settings.class_index]
        text = f"{METHOD_NAMES[settings.method]} · {which}"
        if second:
            text = f"B: {model_name(model)} · {text}"
        elif self.second_model is not None:
            text = f"A: {model_name(model)} · {text}"
        elif self.override is not None:
            text += f" · {model_name(self.override)}"
        if pending:
            text += " · computing…"
        elif heat is not None and not np.any(heat > 0):
            text += f" · {NO_EVIDENCE}"
        pane.set_caption(text)

    def _on_heatmap(self, index: int) -> None:
        self.grid.grid_model.on_heatmap(index)
        if index == self.state.current:
            heat = self.heatmaps.get(index, request=False)
            self.detail.overlay.set_heat(heat)
            self._caption(pending=False, heat=heat)

    def _on_second_heatmap(self, index: int) -> None:
        if index == self.state.current and self.second_model is not None:
            heat = self.second.get(index, request=False)
            self.detail.overlay_b.set_heat(heat)
            self._caption(pending=False, heat=heat, second=True)

    def _show_pane(self, wanted: bool) -> None:
        """The heat-map pane beside the cutout, or — when no map can be computed — a one-line note."""
        problem = self.heatmaps.error or getattr(self._model(), "explain_problem", None)
        self.detail.overlay.setVisible(wanted and not problem)
        self.detail.show_note(f"No heat map: {problem}" if wanted and problem else "")

    def _on_failed(self, message: str) -> None:
        self._caption(pending=False)
        self._show_pane(self.state.explain.beside and self._model() is not None)
        self.message.emit(f"Heat maps unavailable: {message}")

    def _on_second_failed(self, message: str) -> None:
        if self.second_model is not None:
            self._caption(pending=False, second=True)
            self.message.emit(f"Heat maps of {model_name(self.second_model)} unavailable: {message}")

    # -- the explanation sheet ------------------------------------------------------------------
    def make_sheet(self) -> bool:
        """Render the sheet in the background for a labelled, scored collection; False if it cannot."""
        state = self.state
        problem = self._sheet_problem()
        if problem:
            self.message.emit(problem)
            return False
        unreadable = int(np.count_nonzero(state.scores.unreadable))  # no score: never on the sheet
        job = self.runner.start(
            SHEET,
            state.model,
            state.collection,
            state.scores.positive_prob().copy(),
            state.labels.copy(),  # the current labels: the file's, or as relabelled in GalView
            state.explain,
            state.display,
            on_returned=lambda result, name=state.collection.source.name, left_out=unreadable: self._on_sheet(
                result, name, left_out
            ),
            on_errored=lambda exc: self.message.emit(f"Explanation sheet failed: {exc}"),
        )
        if job is None:
            self.message.emit(self.runner.busy_message())
            return False
        self.message.emit("Rendering the explanation sheet…")
        return True

    def _sheet_problem(self) -> str | None:
        state = self.state
        if state.collection is None or state.model is None:
            return "The explanation sheet needs a collection and a model"
        if state.model.card.task != "binary":
            return "The explanation sheet needs a binary model (LSBG vs artifact)"
        if not np.isfinite(state.labels).any():
            return "The explanation sheet needs labelled cutouts"
        if state.scores is None or not state.scores.complete:
            return "Score the whole collection first (Model ▸ Score collection)"
        return None

    def _on_sheet(self, result, collection_name: str, unreadable: int = 0) -> None:
        """Show the sheet, named after its collection (another may have been opened while it rendered);
        the status bar also says how many cutouts could not be read (they have no score, so are not on it)."""
        sheet, groups = result
        counts = ", ".join(f"{name} {len(indices)}" for name, indices in groups.items())
        title = f"Explanation sheet of {collection_name} — {counts}"
        self.sheet_dialog = SheetDialog(sheet, title, self.detail.window())
        self.sheet_dialog.show()
        left_out = ""
        if unreadable:
            verb = "is" if unreadable == 1 else "are"
            left_out = f"; {count(unreadable, 'cutout')} could not be read and {verb} not on it"
        self.message.emit(f"Explanation sheet of {collection_name}: {counts}{left_out}")
        self.sheet_ready.emit(self.sheet_dialog)

    def close(self) -> None:
        self.heatmaps.close()
        if self.second is not None:
            self.second.close()

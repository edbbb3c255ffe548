"""The main window: thumbnail grid, detail view, metadata, display controls, model scores, menus.

The window is a composition: one :class:`ViewerState` (what is open, shown, selected, labelled,
scored and ranked), one :class:`JobRunner` (every long job, one at a time, with one progress bar
and Cancel), and controllers that turn menu actions into jobs or state changes. Widgets read the
state and listen to it; none keeps a copy of what the state holds.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PyQt6.QtCore import QSettings, Qt, QUrl, pyqtSignal
from PyQt6.QtGui import QAction, QActionGroup, QDesktopServices, QKeySequence
from PyQt6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QMainWindow,
    QMessageBox,
    QSizePolicy,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from galview.assets import default_model_path, shipped_models
from galview.core.display import render
from galview.core.errors import CollectionError
from galview.core.kept_scores import KeptScores
from galview.core.links import legacy_viewer_url
from galview.core.model_names import model_name
from galview.core.paths import config_dir
from galview.core.state import ViewerState
from galview.core.words import count
from galview.qt.adapting import AdapterOffers
from galview.qt.batchnorm_adapting import BatchNormAdapting
from galview.qt.compared_maps import ComparedMapsActions
from galview.qt.controls import DisplayControls
from galview.qt.counterparts import CounterpartController
from galview.qt.crossmatching import CrossmatchController
from galview.qt.detail import DetailView
from galview.qt.elide import ElidingStatusBar
from galview.qt.explain_controls import ExplainControls
from galview.qt.explaining import ExplainController
from galview.qt.fields_scroll import FieldsScroll
from galview.qt.go_to import ask_go_to
from galview.qt.grid import ThumbnailGrid
from galview.qt.grid_export import ask_export_grid, ask_save_figure
from galview.qt.help_menu import HelpMenu
from galview.qt.histogram import ProbabilityHistogram
from galview.qt.inspector import InspectorController
from galview.qt.label_controller import LabelController
from galview.qt.label_counts import LabelCounts
from galview.qt.label_menu import LabelMenu
from galview.qt.measuring import MeasureController
from galview.qt.metadata import MetadataPanel
from galview.qt.opening import BackgroundOpener
from galview.qt.photometry_plane import PhotometryPlane
from galview.qt.retrain import RetrainController
from galview.qt.retrain_panel import RetrainPanel
from galview.qt.review import ReviewQueueController
from galview.qt.scoring import ScoringController
from galview.qt.screens import fitting_size
from galview.qt.similarity import SimilarityController
from galview.qt.simulate_dialog import SimulationController
from galview.qt.sorting import SortControls
from galview.qt.status import JobStatus
from galview.qt.switcher import CollectionSwitcher
from galview.qt.theme import apply_theme
from galview.qt.thumbnails import ThumbnailCache
from galview.qt.triage import TriageController
from galview.qt.versions_menu import VersionsMenu
from galview.qt.workers import JobRunner

logger = logging.getLogger(__name__)

MAX_RECENT = 10
HISTOGRAM_HEIGHT = 190
DETAIL_MIN_HEIGHT = 220  # the cutout pane's least height (caption, image, pixel readout)
BELOW_MIN_HEIGHT = 150  # the fields under the cutout scroll rather than take the cutout's room
MODEL_FILTER = "Keras models (*.keras *.h5 *.hdf5);;All files (*)"
FILE_FILTER = (
    "Cutout collections (*.npy *.npz *.h5 *.hdf5 *.fits *.fit *.fits.gz *.png *.jpg *.jpeg);;All files (*)"
)


def app_settings() -> QSettings:
    """Settings file in GalView's config folder (``GALVIEW_HOME`` in tests)."""
    return QSettings(str(config_dir() / "galview.ini"), QSettings.Format.IniFormat)


class MainWindow(QMainWindow):
    """GalView's window over one :class:`ViewerState`."""

    def __init__(self, state: ViewerState | None = None, open_options: dict | None = None, class_names=None):
        super().__init__()
        self.class_names = class_names  # names given on the command line for the collections opened
        self.state = state or ViewerState(kept_scores=_kept_scores_on_disk())
        self.open_options = open_options or {}
        self.settings = app_settings()
        self.last_error: str | None = None
        self._shown: tuple | None = None  # (collection, cutout, display settings) in the detail view
        self.setWindowTitle("GalView")
        self.setAcceptDrops(True)
        self.setStatusBar(ElidingStatusBar(self))  # messages never run under the counts and the model

        self._build_widgets()
        self._connect_state()
        self._build_menus()
        self._restore()
        self.statusBar().showMessage("Open a collection: File ▸ Open, drag a file here, or galview view PATH")
        self._on_model(self.state.model)
        if default_model_path().is_file():
            self.scoring.load_model(default_model_path())

    def _build_widgets(self) -> None:
        self.cache = ThumbnailCache(size=96, parent=self)
        self.runner = JobRunner(self)
        self.opener = BackgroundOpener(self)
        self.opener.opened.connect(self.show_opened)
        self.opener.failed.connect(self.show_error)
        self.grid = ThumbnailGrid(self.cache, self.state)
        self.detail = DetailView()
        self.metadata = MetadataPanel()
        self.controls = DisplayControls(self.state)
        self.explain_controls = ExplainControls(self.state)
        self.control_tabs = QTabWidget()
        self.control_tabs.addTab(self.controls, "Display")
        self.control_tabs.addTab(self.explain_controls, "Heat map")
        self.sort_controls = SortControls(self.state)
        self.histogram = ProbabilityHistogram(self.state, class_names=lambda: self.labelling.classes)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(4, 4, 4, 4)
        # the cutout takes what the fields below leave, down to a size still worth looking at
        self.detail.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Ignored)
        self.detail.setMinimumHeight(DETAIL_MIN_HEIGHT)
        side_layout.addWidget(self.detail, stretch=1)
        side_layout.addWidget(self._below_the_cutout())
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.setSpacing(0)
        left_layout.addWidget(self.sort_controls)
        left_layout.addWidget(self.grid, stretch=1)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(side)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([560, 720])
        self.setCentralWidget(splitter)
        self.histogram_dock = ClosableDock("Probability histogram", self)
        self.histogram_dock.setObjectName("histogramDock")
        self.histogram_dock.setWidget(self.histogram)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.histogram_dock)
        self.retrain_panel = RetrainPanel()
        self.plane_dock = ClosableDock("Size and surface brightness", self)
        self.plane_dock.setObjectName("photometryPlaneDock")
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.plane_dock)
        self.plane_dock.hide()
        self.retrain_dock = ClosableDock("Retrain", self)
        self.retrain_dock.setObjectName("retrainDock")
        self.retrain_dock.setWidget(self.retrain_panel)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.retrain_dock)
        self.retrain_dock.hide()

    def _below_the_cutout(self) -> FieldsScroll:
        """The cutout's fields and the display controls, scrolling in a short window.

        In a window too short for everything, these scroll rather than shrinking the cutout to a
        thumbnail: the cutout is what the user came to see.
        """
        below = QWidget()
        row = QHBoxLayout(below)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.metadata, stretch=3)
        row.addWidget(self.control_tabs, stretch=2)
        scroll = FieldsScroll(below, minimum_height=BELOW_MIN_HEIGHT)
        scroll.setObjectName("belowTheCutout")
        return scroll

    def _connect_state(self) -> None:
        self.state.collection_changed.connect(self._on_collection)
        self.state.current_changed.connect(self._on_current)
        self.state.display_changed.connect(self._on_display)
        self.state.scores_changed.connect(self._on_scores)
        self.state.model_changed.connect(self._on_model)
        self.scoring = ScoringController(self.state, self.runner, parent=self)  # after the window's own slots
        self.explaining = ExplainController(self.state, self.detail, self.grid, self.runner, parent=self)
        self.explain_controls.sheet_button.clicked.connect(self.explaining.make_sheet)
        self.labelling = LabelController(self.state, self.metadata, parent=self, runner=self.runner)
        self.triage = TriageController(self.state, self.runner, parent=self)
        self.simulation = SimulationController(self, self.runner, parent=self)
        self.retraining = RetrainController(
            self.state, self.runner, self.labelling, self.retrain_panel, parent=self
        )
        self.retraining.comparison_changed.connect(self._show_score)
        self.similarity = SimilarityController(self, parent=self)
        self.crossmatching = CrossmatchController(self, parent=self)
        self.counterparts = CounterpartController(self, parent=self)
        self.measuring = MeasureController(self, parent=self)
        self.plane = PhotometryPlane(self.state, self.measuring, class_names=lambda: self.labelling.classes)
        self.plane_dock.setWidget(self.plane)
        self.adapting = AdapterOffers(self.state, self)
        self.batchnorm_adapting = BatchNormAdapting(self, self.scoring, parent=self)
        self.batchnorm_adapting.message.connect(lambda text: self.statusBar().showMessage(text, 10000))
        self.batchnorm_adapting.error.connect(self.show_error)
        self.review = ReviewQueueController(self.state, self.metadata, parent=self)
        self.inspector = InspectorController(self, parent=self)
        self.scoring.refused.connect(self.adapting.offer)
        controllers = (
            self.adapting,
            self.review,
            self.inspector,
            self.similarity,
            self.crossmatching,
            self.counterparts,
            self.measuring,
            self.scoring,
            self.explaining,
            self.labelling,
            self.triage,
            self.simulation,
            self.retraining,
        )
        for controller in controllers:
            controller.message.connect(self.statusBar().showMessage)
            if hasattr(controller, "error"):
                controller.error.connect(self.show_error)
        self.runner.finished.connect(lambda *_: self._check_active_model())
        self._left_open: list = []  # collections replaced while a job read them: closed when it ends
        self.runner.finished.connect(lambda *_: self._close_left_collections())
        self.cache.crashed.connect(
            lambda message: self.show_error(f"Thumbnails could not be drawn: {message}")
        )
        self.label_counts = LabelCounts(self.state)
        self.label_counts.setObjectName("labelCounts")
        self.labelling.counts_changed.connect(
            lambda _text: self.label_counts.set_parts(self.labelling.session.count_parts())
        )
        self.job_status = JobStatus(self.state, self.runner)
        self.statusBar().addPermanentWidget(self.label_counts)
        self.statusBar().addPermanentWidget(self.job_status)

    # -- menus --------------------------------------------------------------------------
    def _action(self, menu, text, slot, shortcut=None, checkable=False) -> QAction:
        action = QAction(text, self)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.setCheckable(checkable)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self._action(file_menu, "&Open file…", self._ask_open_file, QKeySequence.StandardKey.Open)
        self._action(file_menu, "Open &folder…", self._ask_open_folder, "Ctrl+Shift+O")
        self.recent_menu = file_menu.addMenu("Open &recent")
        self.switcher = CollectionSwitcher(self, file_menu.addMenu("&Collections"))
        self._action(file_menu, "&Simulate a survey…", self.simulation.ask)
        file_menu.addSeparator()
        self.export_grid_action = self._action(
            file_menu, "&Export the grid as shown…", lambda: ask_export_grid(self)
        )
        self.export_grid_action.setToolTip(
            "The cutouts the grid shows, in its order, as CSV: id, RA/Dec, label, probability and the "
            "ranking's number (similarity…)"
        )
        self.save_figure_action = self._action(
            file_menu, "Save the grid as an &image…", lambda: ask_save_figure(self)
        )
        self.save_figure_action.setToolTip(
            "A PNG of the selected cutouts, or of the first ones shown, as they are drawn, with id, label and "
            "probability under each: a figure for a paper or a talk"
        )
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        view_menu = self.menuBar().addMenu("&View")
        self.dark_action = self._action(view_menu, "&Dark theme", self._toggle_dark, checkable=True)
        self.histogram_action = self._action(
            view_menu, "Probability &histogram (when there are scores)", self._want_histogram, checkable=True
        )
        self.histogram_dock.closed.connect(self._histogram_closed)
        self.plane_action = self._action(
            view_menu, "&Size and surface brightness (measured)", self.plane_dock.setVisible, checkable=True
        )
        self.plane_action.setToolTip(
            "The measured cutouts at their r_eff and ⟨μ⟩e with DES Y3's LSBG cuts; click a point to show it"
        )
        self.plane_dock.visibilityChanged.connect(self.plane_action.setChecked)
        self._build_model_menu()
        self._build_explain_menu()
        self.label_menu = LabelMenu(self, self.labelling, self.triage)
        self.similarity.build_menu(self.menuBar().addMenu("&Similarity"))
        self.similarity.context_menu(self.grid)
        cutout_menu = self.menuBar().addMenu("&Cutout")
        self.go_to_action = self._action(cutout_menu, "&Go to…", lambda: ask_go_to(self), "Ctrl+G")
        self.go_to_action.setToolTip("Show a cutout by its index, its id (or part of one) or a sky position")
        self.legacy_action = self._action(
            cutout_menu, "Open in &Legacy Survey viewer", self.open_in_legacy_viewer, "Ctrl+L"
        )
        self.crossmatch_action = self._action(
            cutout_menu, "&Match a catalogue (RA, Dec)…", self.crossmatching.ask
        )
        self.crossmatch_action.setToolTip(
            "Sort by the nearest source of a CSV or FITS table within a radius; its columns in the panel"
        )
        self.measure_action = self._action(
            cutout_menu, "Mea&sure the candidate (Sérsic fit)", lambda: self.measuring.measure(), "Ctrl+M"
        )
        self.measure_action.setToolTip(
            "Magnitude, surface brightness (μ0, ⟨μ⟩e), r_eff, Sérsic n and axis ratio of the selected cutouts"
            " (or the current one), from calibrated fluxes"
        )
        self.fit_residual_action = self._action(
            cutout_menu,
            "Show the fit's &residual (data − model)",
            lambda checked: self.measuring.show_residual(checked),
            "Ctrl+Shift+M",
            checkable=True,
        )
        self.photometry_options_action = self._action(
            cutout_menu, "&Photometry options…", lambda: self.measuring.ask_options()
        )
        self.photometry_options_action.setToolTip(
            "The band the profile is fitted in and the PSF it is fitted through (as galview measure --band,"
            " --psf-fwhm)"
        )
        self.fits_figure_action = self._action(
            cutout_menu, "Save the &fits as a figure…", lambda: self.measuring.save_figure()
        )
        self.fits_figure_action.setToolTip(
            "Data, model and residual of each measured cutout (those selected, else all), as a PNG"
        )
        self.fit_residual_action.setToolTip(
            "Beside the cutout, what the Sérsic fit leaves in its band: structure the model missed (clumps,"
            " a nucleus, tidal features, a second source) stands out from the noise"
        )
        cutout_menu.addSeparator()
        self.counterpart_action = self._action(
            cutout_menu,
            "Show the same object from &another collection…",
            lambda: self.counterparts.ask(FILE_FILTER),
        )
        self.counterpart_action.setToolTip(
            "Another survey's cutouts of the same objects (deeper imaging, another band) beside each cutout,"
            " paired by id, sky position or order"
        )
        self.stop_counterpart_action = self._action(
            cutout_menu, "Stop showing the other collection", lambda: self.counterparts.stop()
        )
        self.stop_counterpart_action.setEnabled(False)
        self.counterparts.shown.connect(self.stop_counterpart_action.setEnabled)
        self.help_menu = HelpMenu(self)

    def _build_model_menu(self) -> None:
        menu = self.menuBar().addMenu("&Model")
        self.model_actions = QActionGroup(self)
        self.model_actions.setExclusionPolicy(QActionGroup.ExclusionPolicy.ExclusiveOptional)
        for path in shipped_models():
            action = self._action(
                menu, path.stem, lambda _checked=False, p=path: self.scoring.load_model(p), checkable=True
            )
            action.setData(str(path.resolve()))
            self.model_actions.addAction(action)
        if not self.model_actions.actions():
            menu.addAction("No shipped models").setEnabled(False)
        menu.addSeparator()
        self._action(menu, "&Open model…", self._ask_open_model)
        self.score_action = self._action(menu, "&Score collection", self.scoring.score, "Ctrl+R")
        self.adapt_action = self._action(
            menu, "&Adapt the cutouts to the model…", lambda: self.adapting.offer()
        )
        self.adapt_action.setToolTip(
            "Resize the cutouts or choose their bands so that the active model takes them"
        )
        menu.addSeparator()
        self.retrain_action = self._action(menu, "Re&train…", self.show_retrain, "Ctrl+Shift+T")
        self.adapt_model_action = self._action(
            menu, "Adapt the model to this &collection (no labels)", lambda: self.batchnorm_adapting.start()
        )
        self.adapt_model_action.setToolTip(
            "Take the active model's BatchNorm statistics from this collection's cutouts (no label is read; "
            "every learnt weight kept): a new version, loaded when ready"
        )
        self.versions = VersionsMenu(self, menu.addMenu("Retrained &versions"), self._models_in_session)
        self.default_action = self._action(menu, "Start with the active &model", self.make_active_the_default)
        self.default_action.setToolTip(
            "Open every new window, and run every galview command without --model, with the active model "
            "(galview models use shipped goes back)"
        )

    def make_active_the_default(self) -> bool:
        """Make the active model the default of later windows and commands (``galview models use``)."""
        from galview.assets import choose_model, shipped_default_path

        model = self.state.model
        if model is None or model.path is None or not Path(model.path).is_file():
            self.show_error("No model file to start with: load or retrain a model first")
            return False
        try:
            shipped = Path(model.path).resolve() == shipped_default_path().resolve()
            choose_model(None if shipped else Path(model.path))
        except OSError as exc:
            self.show_error(f"The default model could not be saved: {exc}")
            return False
        self.statusBar().showMessage(f"New windows and commands start with {model_name(model)}", 10000)
        return True

    def _build_explain_menu(self) -> None:
        menu = self.menuBar().addMenu("&Explain")
        self.beside_action = self._action(
            menu, "Heat map &beside the cutout", lambda on: self.state.update_explain(beside=on), "G", True
        )
        self.grid_overlay_action = self._action(
            menu, "Heat maps in the &grid", lambda on: self.state.update_explain(grid=on), "Shift+G", True
        )
        self.compared_maps = ComparedMapsActions(self, menu)
        self.compared_map_action, self.both_maps_action = self.compared_maps.flip, self.compared_maps.both
        self._action(menu, "Explanation &sheet…", self.explaining.make_sheet, "Ctrl+E")
        self.state.explain_changed.connect(self._explain_menu_follows)
        self._explain_menu_follows(self.state.explain)

    def _explain_menu_follows(self, settings) -> None:
        for action, on in ((self.beside_action, settings.beside), (self.grid_overlay_action, settings.grid)):
            action.blockSignals(True)
            action.setChecked(on)
            action.blockSignals(False)

    def show_retrain(self) -> None:
        """Show the Retrain panel with the labels and recipe that a run would use now."""
        self.retraining.refresh()
        self.retrain_dock.show()
        self.retrain_dock.raise_()

    def _models_in_session(self) -> list:
        """Models loaded in this session that can be switched to at once."""
        r = self.retraining
        return [m for m in (self.state.model, r.new_model, r.parent_model) if m is not None]

    def _ask_open_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a Keras model", "", MODEL_FILTER)
        if path:
            self.scoring.load_model(path)

    # -- opening ------------------------------------------------------------------------
    def open_path(self, path: str | Path, background: bool = False) -> bool:
        """Open a collection; on failure show the message and keep the current one.

        With ``background`` (what the menus, the dialogs and dropping a file do) the files are read
        in a thread and the window stays usable meanwhile; the return value then only says that
        the opening started, and the collection is shown when it arrives.
        """
        if background:
            self.statusBar().showMessage(f"Opening {Path(path).name}…")
            self.opener.open(path, self.open_options, self.class_names)
            return True
        from galview.io.opening import open_for_viewing

        self.opener.supersede()  # this one was asked for last
        try:
            collection = open_for_viewing(path, self.open_options, self.class_names)
        except CollectionError as exc:
            self.show_error(str(exc))
            return False
        self.show_opened(path, collection)
        return True

    def show_opened(self, path: str | Path, collection) -> None:
        """Make ``collection``, opened from ``path``, the one the window shows."""
        self.scoring.stop_scoring()  # it reads the collection that set_collection closes
        self.switcher.add(path)
        previous = self.state.collection
        in_use = previous is not None and previous is not collection and self.runner.busy
        self.state.set_collection(collection, close_previous=not in_use)
        if in_use:  # a job (a similarity search, retraining…) still reads it: closed when the job ends
            self._left_open.append(previous)
        self._remember_recent(str(Path(path).resolve()))
        if hasattr(collection, "run_scores"):  # the OUT_DIR of galview score --cluster
            self._show_run_scores(collection)

    def _show_run_scores(self, collection) -> None:
        """Make a cluster run's merged probabilities the current scores (sortable, as if scored here)."""
        try:
            self.state.set_scores(collection.run_scores(self.scoring.embedding_budget))
        except CollectionError as exc:
            self.show_error(str(exc))
            return
        self.statusBar().showMessage(f"Scores of the cluster run in {collection.run_folder}")

    def open_paths(self, paths, background: bool = False) -> bool:
        """Open the first of ``paths`` and list them all in File ▸ Collections; False if any is missing
        (each missing one is named) or the first cannot be opened (with ``background``, as
        :meth:`open_path`: True once the opening has started)."""
        missing = [str(p) for p in paths if not Path(p).exists()]
        if missing:
            self.show_error(
                f"{missing[0]}: no such file or folder"
                + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
            )
        present = [p for p in paths if Path(p).exists()]
        for path in present:
            self.switcher.add(path)
        opened = bool(present) and self.open_path(present[0], background=background)
        if opened and len(present) > 1:
            self.statusBar().showMessage(
                f"{len(present)} collections: File ▸ Collections switches between them (Ctrl+PgDown, Ctrl+PgUp)"
            )
        return opened and not missing

    def _ask_open_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open cutout collection", "", FILE_FILTER)
        if path:
            self.open_path(path, background=True)

    def _ask_open_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(
            self, "Open a folder of cutouts, shard files or a cluster run"
        )
        if path:
            self.open_path(path, background=True)

    def recent_files(self) -> list[str]:
        value = self.settings.value("recent", [])
        return [value] if isinstance(value, str) else list(value or [])

    def _remember_recent(self, path: str) -> None:
        recent = [path] + [p for p in self.recent_files() if p != path]
        self.settings.setValue("recent", recent[:MAX_RECENT])
        self._fill_recent_menu()

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        for path in self.recent_files():
            action = self.recent_menu.addAction(path)
            action.triggered.connect(lambda _checked=False, p=path: self.open_path(p, background=True))
        self.recent_menu.setEnabled(bool(self.recent_files()))

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        for url in event.mimeData().urls():
            if url.isLocalFile():
                self.open_path(url.toLocalFile(), background=True)
                break

    # -- reacting to the state ------------------------------------------------------------
    def _on_collection(self, collection) -> None:
        self.cache.reset(collection, self.state.display)
        if collection is None:
            self.detail.clear()
            return
        h, w, c = collection.shape
        self.setWindowTitle(f"GalView — {collection.source.name}")
        self.statusBar().showMessage(
            f"{count(len(collection), 'cutout')} · {h}×{w}×{c} {collection.dtype} · bands {', '.join(collection.bands)}"
            f" · {'labelled' if collection.has_labels else 'no labels'} · {collection.source}"
        )

    def _on_display(self, settings) -> None:
        self.cache.reset(self.state.collection, settings)
        self.grid.viewport().update()
        self._on_current(self.state.current)

    def _on_current(self, index: int) -> None:
        collection = self.state.collection
        if collection is None or index < 0:
            return
        self.metadata.show_cutout(collection, index)
        self._show_score()
        self.legacy_action.setEnabled(self._current_url() is not None)
        shown = (collection, index, self.state.display)  # the object, not id(): ids are reused
        if shown == self._shown:  # opening a file signals display and current: render once
            return
        self._shown = shown
        try:
            raw = collection.get(index)
            rgb = render(raw, self.state.display, collection.bands, collection.dtype)
        except CollectionError as exc:  # said beside the cutout, not in a dialog: arrow keys keep moving
            self.detail.clear()
            self.detail.caption.setText(f"Cutout {index} · {collection.id_of(index)} · could not be read")
            self.show_error(str(exc), dialog=False)
            return
        self.detail.show_cutout(rgb, raw, collection.bands, collection.wcs(index))
        self.detail.caption.setText(f"Cutout {index} · {collection.id_of(index)}")
        self.explaining.show_current(index)

    def _on_scores(self, _scores) -> None:
        self._show_score()
        self._update_histogram_dock()

    def _on_model(self, model) -> None:
        self._check_active_model()
        self._show_score()

    def _show_score(self) -> None:
        model = self.state.model
        current = self.state.current
        # the other model of a comparison, if one is shown (none while the window is being built)
        other = self.retraining.other_opinion(current) if hasattr(self, "retraining") else None
        self.metadata.show_score(
            None if model is None else model_name(model), self.state.scores, current, other
        )

    def _check_active_model(self) -> None:
        """Tick the shipped model that is active (none if another file is)."""
        model = self.state.model
        active = None if model is None else str(Path(model.path).resolve())
        for action in self.model_actions.actions():
            action.setChecked(action.data() == active)

    # -- actions ---------------------------------------------------------------------------
    def _current_url(self) -> str | None:
        collection, index = self.state.collection, self.state.current
        if collection is None or index < 0 or collection.coords is None:
            return None
        return legacy_viewer_url(float(collection.ra[index]), float(collection.dec[index]))

    def open_in_legacy_viewer(self) -> str | None:
        url = self._current_url()
        if url is None:
            self.statusBar().showMessage("This cutout has no sky coordinates", 5000)
            return None
        QDesktopServices.openUrl(QUrl(url))
        return url

    def _toggle_dark(self, on: bool) -> None:
        apply_theme(QApplication.instance(), bool(on))
        self.settings.setValue("dark_theme", bool(on))

    def show_error(self, message: str, dialog: bool = True) -> None:
        """Tell the user what went wrong without stopping the application (in the status bar, and in
        a dialog unless ``dialog`` is false)."""
        logger.warning("shown to the user: %s", message)
        self.last_error = message
        self.statusBar().showMessage(message, 15000)
        if not dialog:
            return
        box = QMessageBox(QMessageBox.Icon.Warning, "GalView", message, QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    # -- persistence ----------------------------------------------------------------------
    def _restore(self) -> None:
        geometry = self.settings.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(*fitting_size(self, 1280, 800))
        self.resizeDocks([self.histogram_dock], [HISTOGRAM_HEIGHT], Qt.Orientation.Vertical)
        state = self.settings.value("window_state")
        if state is not None:
            self.restoreState(state)  # dock visibility and size
        dark = self.settings.value("dark_theme", False, type=bool)
        self.dark_action.setChecked(dark)
        apply_theme(QApplication.instance(), dark)
        self.histogram_action.setChecked(self.settings.value("histogram_wanted", True, type=bool))
        self._update_histogram_dock()
        self._fill_recent_menu()

    # -- the histogram dock: shown when wanted and there are scores ---------------------------
    def _want_histogram(self, on: bool) -> None:
        self.settings.setValue("histogram_wanted", bool(on))
        self._update_histogram_dock()

    def _update_histogram_dock(self, *_) -> None:
        """Show the histogram only when the user wants it and something is scored (it would be empty)."""
        scores = self.state.scores
        visible = self.histogram_action.isChecked() and scores is not None and scores.n_scored > 0
        if visible != self.histogram_dock.isVisible():
            self.histogram_dock.setVisible(visible)

    def _histogram_closed(self) -> None:
        """The dock's own close button: the user does not want it."""
        self.histogram_action.setChecked(False)
        self.settings.setValue("histogram_wanted", False)

    def closeEvent(self, event) -> None:  # noqa: N802
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("window_state", self.saveState())
        self.settings.sync()
        self.scoring.shutdown()
        self.opener.shutdown()
        self.measuring.shutdown()
        self.state.kept_scores.close()
        self.explaining.close()
        self.labelling.close()
        self.cache.close()
        if self.state.collection is not None:
            self.state.collection.close()
        self._close_left_collections()
        super().closeEvent(event)

    def _close_left_collections(self) -> None:
        """Close the collections replaced while a job read them, once no job runs."""
        if self.runner.busy:
            return
        for collection in self._left_open:
            if collection is not self.state.collection:
                collection.close()
        self._left_open.clear()


class ClosableDock(QDockWidget):
    """A dock that says when the user closes it with its own button (``closed``)."""

    closed = pyqtSignal()

    def closeEvent(self, event) -> None:  # noqa: N802
        self.closed.emit()
        super().closeEvent(event)


def _kept_scores_on_disk() -> KeptScores:
    """Scores kept in memory and in GalView's data folder (bounded), across sessions."""
    from galview.io.score_cache import ScoreCache

    return KeptScores(disk=ScoreCache.default())

"""The main window: thumbnail grid, detail view, metadata, display controls, menus."""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtCore import QSettings, Qt, QUrl
from PyQt6.QtGui import QAction, QDesktopServices, QKeySequence
from PyQt6.QtWidgets import (
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from galview.core.display import render
from galview.core.errors import CollectionError
from galview.core.links import legacy_viewer_url
from galview.core.paths import config_dir
from galview.core.session import ViewerState
from galview.qt.controls import DisplayControls
from galview.qt.detail import DetailView
from galview.qt.grid import ThumbnailGrid
from galview.qt.metadata import MetadataPanel
from galview.qt.theme import apply_theme
from galview.qt.thumbnails import ThumbnailCache

MAX_RECENT = 10
FILE_FILTER = (
    "Cutout collections (*.npy *.npz *.h5 *.hdf5 *.fits *.fit *.fits.gz *.png *.jpg *.jpeg);;All files (*)"
)


def app_settings() -> QSettings:
    """Settings file in GalView's config folder (``GALVIEW_HOME`` in tests)."""
    return QSettings(str(config_dir() / "galview.ini"), QSettings.Format.IniFormat)


class MainWindow(QMainWindow):
    """GalView's window over one :class:`ViewerState`."""

    def __init__(self, state: ViewerState | None = None, open_options: dict | None = None):
        super().__init__()
        self.state = state or ViewerState()
        self.open_options = open_options or {}
        self.settings = app_settings()
        self.last_error: str | None = None
        self.setWindowTitle("GalView")
        self.setAcceptDrops(True)

        self.cache = ThumbnailCache(size=96, parent=self)
        self.grid = ThumbnailGrid(self.cache)
        self.detail = DetailView()
        self.metadata = MetadataPanel()
        self.controls = DisplayControls(self.state)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(4, 4, 4, 4)
        side_layout.addWidget(self.detail, stretch=1)
        below = QHBoxLayout()
        below.addWidget(self.metadata, stretch=3)
        below.addWidget(self.controls, stretch=2)
        side_layout.addLayout(below)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.grid)
        splitter.addWidget(side)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([560, 720])
        self.setCentralWidget(splitter)

        self._build_menus()
        self.grid.cutout_activated.connect(self.state.set_current)
        self.state.collection_changed.connect(self._on_collection)
        self.state.current_changed.connect(self._on_current)
        self.state.display_changed.connect(self._on_display)
        self._restore()
        self.statusBar().showMessage("Open a collection: File ▸ Open, drag a file here, or galview view PATH")

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
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        view_menu = self.menuBar().addMenu("&View")
        self.dark_action = self._action(view_menu, "&Dark theme", self._toggle_dark, checkable=True)
        cutout_menu = self.menuBar().addMenu("&Cutout")
        self.legacy_action = self._action(
            cutout_menu, "Open in &Legacy Survey viewer", self.open_in_legacy_viewer, "Ctrl+L"
        )

    # -- opening ------------------------------------------------------------------------
    def open_path(self, path: str | Path) -> bool:
        """Open a collection; on failure show the message and keep the current one."""
        from galview.io import open_collection

        try:
            collection = open_collection(path, **self.open_options)
            collection.describe()  # reads labels/coords now, so bad metadata is reported here
        except CollectionError as exc:
            self.show_error(str(exc))
            return False
        self.state.set_collection(collection)
        self._remember_recent(str(Path(path).resolve()))
        return True

    def _ask_open_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open cutout collection", "", FILE_FILTER)
        if path:
            self.open_path(path)

    def _ask_open_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open a folder of FITS or PNG/JPEG cutouts")
        if path:
            self.open_path(path)

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
            action.triggered.connect(lambda _checked=False, p=path: self.open_path(p))
        self.recent_menu.setEnabled(bool(self.recent_files()))

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        for url in event.mimeData().urls():
            if url.isLocalFile():
                self.open_path(url.toLocalFile())
                break

    # -- reacting to the state ------------------------------------------------------------
    def _on_collection(self, collection) -> None:
        self.cache.reset(collection, self.state.display)
        self.grid.set_collection(collection)
        if collection is None:
            self.detail.clear()
            return
        h, w, c = collection.shape
        self.setWindowTitle(f"GalView — {collection.source.name}")
        self.statusBar().showMessage(
            f"{len(collection):,} cutouts · {h}×{w}×{c} {collection.dtype} · bands {', '.join(collection.bands)}"
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
        self.grid.set_current_cutout(index)
        self.metadata.show_cutout(collection, index)
        self.legacy_action.setEnabled(self._current_url() is not None)
        try:
            raw = collection.get(index)
            rgb = render(raw, self.state.display, collection.bands, collection.dtype)
        except CollectionError as exc:
            self.detail.clear()
            self.show_error(str(exc))
            return
        self.detail.show_cutout(rgb, raw, collection.bands, collection.wcs(index))

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

    def show_error(self, message: str) -> None:
        """Tell the user what went wrong without stopping the application."""
        self.last_error = message
        self.statusBar().showMessage(message, 15000)
        box = QMessageBox(QMessageBox.Icon.Warning, "GalView", message, QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    # -- persistence ----------------------------------------------------------------------
    def _restore(self) -> None:
        geometry = self.settings.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 800)
        dark = self.settings.value("dark_theme", False, type=bool)
        self.dark_action.setChecked(dark)
        apply_theme(QApplication.instance(), dark)
        self._fill_recent_menu()

    def closeEvent(self, event) -> None:  # noqa: N802
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.sync()
        self.cache.close()
        if self.state.collection is not None:
            self.state.collection.close()
        super().closeEvent(event)

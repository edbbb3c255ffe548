"""Model ▸ Retrained versions: every model GalView retrained, to switch to, compare or delete (issue 12).

The list is read from :func:`galview.ml.versions.list_versions` each time the menu opens. Models
already loaded in this session (the active one, the last run's parent and result) are switched to
at once; others are loaded in the background like any model file. Their kept scores come back with
them, so switching never rescores. "Compare the active model with" opens the Retrain panel on the
two models' differences (:meth:`galview.qt.retrain.RetrainController.compare_with`); the shipped
model is listed there too.
"""

from __future__ import annotations

from PyQt6.QtGui import QAction
from PyQt6.QtWidgets import QMenu, QMessageBox

from galview.core.model_names import model_name
from galview.qt.retrain_texts import same_file


class VersionsMenu:
    """Fills ``menu`` (switch) and its "Compare…" and "Delete a version" submenus when they open."""

    def __init__(self, window, menu: QMenu, loaded_models):
        self.window = window
        self.menu = menu
        self.loaded_models = loaded_models  # callable: LoadedModels known this session
        self.compare_menu = QMenu("&Compare the active model with", window)
        self.compare_menu.setToolTipsVisible(True)
        self.delete_menu = QMenu("&Delete a version", window)
        menu.setToolTipsVisible(True)
        menu.aboutToShow.connect(self.fill)
        self.compare_menu.aboutToShow.connect(self._fill_compare)
        self.delete_menu.aboutToShow.connect(self._fill_delete)

    def _versions(self):
        """Every retrained version, newest first (:func:`list_versions` gives them oldest first)."""
        from galview.ml.versions import list_versions

        try:
            return list_versions()[::-1]
        except OSError as exc:
            self.window.show_error(f"The retrained versions could not be listed: {exc}")
            return []

    def fill(self) -> None:
        """The versions, newest first, the active one checked; then the delete submenu."""
        self.menu.clear()
        active = self.window.state.model
        versions = self._versions()
        if not versions:
            self.menu.addAction("None yet: Model ▸ Retrain… makes one").setEnabled(False)
        for version in versions:
            action = QAction(self._title(version), self.menu)
            action.setCheckable(True)
            action.setChecked(active is not None and same_file(active.path, version.path))
            action.setData(str(version.path))
            action.setToolTip(self._tooltip(version))
            action.triggered.connect(lambda _checked=False, p=version.path: self.switch_to(p))
            self.menu.addAction(action)
        self.menu.addSeparator()
        self.menu.addMenu(self.compare_menu)
        self.compare_menu.setEnabled(active is not None and self.window.state.collection is not None)
        self.menu.addMenu(self.delete_menu)
        self.delete_menu.setEnabled(bool(versions))

    @staticmethod
    def _title(version) -> str:
        from galview.ml.versions import version_title

        return version_title(version)

    @staticmethod
    def _tooltip(version) -> str:
        """The card's verdict, what it was trained on and from which model."""
        card = version.card
        training = card.training or {}
        lines = [str((card.metrics or {}).get("verdict", ""))]
        if training.get("source"):
            lines.append(f"Labels of: {training['source']}")
        parent = (training.get("parent") or {}).get("name")
        if parent:
            lines.append(f"Started from: {parent}")
        return "\n".join(line for line in lines if line)

    def switch_to(self, path) -> None:
        """Make the version at ``path`` active: at once if it is loaded, else loaded in the background."""
        for loaded in self.loaded_models():
            if loaded is not None and same_file(loaded.path, path):
                self.window.state.set_model(loaded)
                self.window.statusBar().showMessage(f"Model {model_name(loaded)} is active")
                return
        self.window.scoring.load_model(path)

    def _fill_compare(self) -> None:
        """Every version but the active one, then the shipped model (unless it is the active one)."""
        from galview.assets import shipped_default_path

        self.compare_menu.clear()
        active = self.window.state.model
        choices = [(self._title(v), self._tooltip(v), v.path) for v in self._versions()]
        shipped = shipped_default_path()
        if shipped.is_file():
            choices.append(("The shipped model", "The model GalView comes with", shipped))
        for title, tip, path in choices:
            if active is not None and same_file(active.path, path):
                continue
            action = self.compare_menu.addAction(title)
            action.setToolTip(tip)
            action.setData(str(path))
            action.triggered.connect(lambda _checked=False, p=path: self.compare_with(p))
        if not self.compare_menu.actions():
            self.compare_menu.addAction("No other model yet").setEnabled(False)

    def compare_with(self, path) -> None:
        """Show the Retrain panel comparing the active model with the model at ``path``."""
        self.window.show_retrain()
        self.window.retraining.compare_with(path)

    def _fill_delete(self) -> None:
        self.delete_menu.clear()
        active = self.window.state.model
        for version in self._versions():
            action = self.delete_menu.addAction(self._title(version) + "…")
            if active is not None and same_file(active.path, version.path):
                action.setEnabled(False)
                action.setToolTip("The active model cannot be deleted: switch to another first")
            action.triggered.connect(lambda _checked=False, v=version: self.delete(v))

    def delete(self, version, confirm: bool = True) -> bool:
        """Delete one version after asking; never the active model."""
        from galview.ml.versions import delete_version

        active = self.window.state.model
        if active is not None and same_file(active.path, version.path):
            self.window.show_error("The active model cannot be deleted: switch to another first")
            return False
        if confirm:
            answer = QMessageBox.question(
                self.window,
                "Delete a model version",
                f"Delete {version.name} ({version.path.parent})? This cannot be undone.",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return False
        try:
            delete_version(version.path)
        except (OSError, ValueError) as exc:
            self.window.show_error(f"{version.path}: not deleted ({exc})")
            return False
        self.window.statusBar().showMessage(f"Deleted {version.name}")
        return True

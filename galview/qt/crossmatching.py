"""Cutout ▸ Match a catalogue…: cross-match the collection with a table of sky positions, in the background.

The catalogue (CSV or a FITS table with RA and Dec columns) is read and matched on the window's one job
runner; the grid then sorts by the ``catalogue`` ranking (matched cutouts first, nearest first, the
separation on each thumbnail), and the panel's Match row names the source the current cutout matched,
its columns in the tooltip. File ▸ Export the grid as shown… then writes each cutout with its
``separation_arcsec`` and ``catalogue_name``.
"""

from __future__ import annotations

from PyQt6.QtCore import QObject
from PyQt6.QtWidgets import QFileDialog, QInputDialog

from galview.core.crossmatch import DEFAULT_RADIUS_ARCSEC, describe_match, match_ranking
from galview.core.match_defaults import MAX_RADIUS_ARCSEC
from galview.qt.controller import WindowController

JOB = "crossmatch"
CATALOGUE_FILTER = "Catalogues (*.csv *.txt *.fits *.fit *.fits.gz);;All files (*)"


class CrossmatchController(WindowController):
    """Runs cross-matches for the window and shows what the current cutout matched."""

    def __init__(self, window, parent: QObject | None = None):
        super().__init__(window, parent)
        self.catalogue = None  # the last Catalogue matched
        self.state.current_changed.connect(lambda _i: self.show_current())
        self.state.rankings_changed.connect(lambda _name: self.show_current())
        self.state.collection_changed.connect(lambda _c: self._forget())

    def _forget(self) -> None:
        self.catalogue = None
        self.show_current()

    def ask(self) -> None:
        """Ask for a catalogue file and a radius, then :meth:`match`."""
        collection = self.state.collection
        if collection is None:
            self.message.emit("Open a collection first")
            return
        if collection.readable_coords() is None:
            self.error.emit(f"{collection.source}: has no sky positions (RA, Dec) to match a catalogue with")
            return
        path, _ = QFileDialog.getOpenFileName(
            self.window, "Match a catalogue (RA, Dec)", "", CATALOGUE_FILTER
        )
        if not path:
            return
        settings = self.window.settings
        radius, ok = QInputDialog.getDouble(
            self.window, "Match radius", "Nearest source within (arcsec):",
            float(settings.value("crossmatch/radius", DEFAULT_RADIUS_ARCSEC)), 0.01, MAX_RADIUS_ARCSEC, 2,
        )  # fmt: skip
        if ok:
            settings.setValue("crossmatch/radius", radius)
            self.match(path, radius)

    def match(self, path, radius_arcsec: float = DEFAULT_RADIUS_ARCSEC) -> bool:
        """Start matching the open collection with the catalogue at ``path``; False if it cannot start."""
        if self.runner.busy:
            self.message.emit(self.runner.busy_message())
            return False
        collection = self.state.collection
        self.runner.start(
            JOB, collection, path, radius_arcsec,
            on_returned=lambda result: self._on_matched(result, collection),
            on_errored=lambda exc: self.error.emit(f"Matching the catalogue failed: {exc}"),
        )  # fmt: skip
        return True

    def _on_matched(self, result, collection) -> None:
        if collection is not self.state.collection:
            return  # another collection was opened while it ran
        catalogue, match = result
        self.catalogue = catalogue
        self.state.set_ranking(match_ranking(match, catalogue.names, catalogue.name))
        self.state.set_sorting(sort="catalogue")
        line = describe_match(match, len(catalogue), catalogue.name, catalogue.unreadable)
        self.message.emit(f"Sorted by the match: {line}")

    def show_current(self) -> None:
        """The current cutout's match in the metadata panel (its catalogue row in the tooltip)."""
        field = self.window.metadata.fields["Match"]
        ranking, index = self.state.ranking("catalogue"), self.state.current
        if ranking is None or not 0 <= index < len(ranking):
            field.setText("—")
            field.setToolTip("")
            return
        field.setText(ranking.describe(index))
        row = int(ranking.row[index])
        catalogue = self.catalogue
        field.setToolTip(catalogue.row_text(row) if catalogue is not None and row >= 0 else "")

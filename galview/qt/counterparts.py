"""Cutout ▸ Show the same object from another collection…: another survey's cutout beside the current one.

The other collection (deeper imaging of the same candidates, another band, DR10 against DR8) is
opened and paired with the open one on the window's job runner (:func:`galview.io.paired_collections.
open_and_pair`: by id, sky position or order, whichever the two files allow); then the current
cutout's counterpart is drawn in a panel beside it, with the same display settings where its bands
take them, over the same frame, its zoom and pan following the cutout's. The pairing is forgotten when
another collection is opened.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PyQt6.QtCore import QObject, pyqtSignal
from PyQt6.QtWidgets import QFileDialog

from galview.core.display import default_settings, render
from galview.core.errors import UserFacingError
from galview.qt.controller import WindowController

logger = logging.getLogger(__name__)

JOB = "pair"


class CounterpartController(WindowController):
    """Pairs the open collection with another one and shows the current cutout's counterpart.

    Signals
    -------
    message(str), error(str)
        (:class:`~galview.qt.controller.WindowController`)
    shown(bool)
        Another collection is (True) or is no longer (False) shown beside the cutouts.
    """

    shown = pyqtSignal(bool)

    def __init__(self, window, parent: QObject | None = None):
        super().__init__(window, parent)
        self.panel = window.detail.counterpart
        self.other = None  # the other Collection, while one is paired
        self.pairing = None
        self.pending: tuple[str, str] | None = (
            None  # (path, by) to pair once a collection is open and no job runs
        )
        self.state.current_changed.connect(lambda _i: self.show_current())
        self.state.display_changed.connect(lambda _s: self.show_current())
        self.state.collection_changed.connect(lambda _c: self.stop(quiet=True))
        self.state.collection_changed.connect(lambda _c: self._pair_pending())
        self.runner.finished.connect(lambda *_: self._pair_pending())

    @property
    def name(self) -> str:
        """The other collection's file name (``""`` when none is paired)."""
        return "" if self.other is None else Path(str(self.other.source)).name

    def ask(self, file_filter: str) -> None:
        """Ask for the other collection's file, then :meth:`pair_with` it."""
        if self.state.collection is None:
            self.message.emit("Open a collection first")
            return
        path, _ = QFileDialog.getOpenFileName(
            self.window,
            "The same objects in another collection (another survey, deeper imaging)",
            "",
            file_filter,
        )
        if path:
            self.pair_with(path)

    def pair_when_ready(self, path, by: str = "auto") -> None:
        """Pair with ``path`` as soon as a collection is open and no job runs (``galview view --beside``:
        the window opens the collection, then scores it, in the background)."""
        self.pending = (str(path), by)
        self._pair_pending()

    def _pair_pending(self) -> None:
        if self.pending is None or self.state.collection is None or self.runner.busy:
            return
        path, by = self.pending
        self.pending = None
        self.pair_with(path, by)

    def pair_with(self, path, by: str = "auto") -> bool:
        """Open the collection at ``path`` and pair it with the open one (a job); False if it cannot start."""
        if self.runner.busy:
            self.message.emit(self.runner.busy_message())
            return False
        collection = self.state.collection
        if collection is None:
            return False
        self.runner.start(
            JOB, collection, str(path), by,
            on_returned=lambda result: self._on_paired(result, collection),
            on_errored=lambda exc: self.error.emit(f"The other collection cannot be shown: {exc}"),
        )  # fmt: skip
        return True

    def _on_paired(self, result, collection) -> None:
        other, pairing = result
        if collection is not self.state.collection:
            other.close()  # another collection was opened while it ran
            return
        self.stop(quiet=True)
        self.other, self.pairing = other, pairing
        self.shown.emit(True)
        self.message.emit(f"Shown beside each cutout: {pairing.summary(self.name)}")
        self.show_current()

    def stop(self, quiet: bool = False) -> None:
        """Stop showing the other collection (and close it)."""
        if self.other is not None:
            self.other.close()
            if not quiet:
                self.message.emit(f"{self.name} is no longer shown beside the cutouts")
        self.other = self.pairing = None
        self.window.detail.clear_counterpart_pixels()
        self.shown.emit(False)
        self.panel.hide()
        self.panel.clear()

    def show_current(self) -> None:
        """Draw the current cutout's counterpart, or say in the panel's caption that it has none."""
        other, pairing, index = self.other, self.pairing, self.state.current
        collection = self.state.collection
        if other is None or pairing is None or collection is None or not 0 <= index < len(pairing):
            return
        where = pairing.describe(index, other.ids)
        j = int(pairing.other_index[index])
        shape = tuple(collection.shape[:2])
        self.panel.show()
        detail = self.window.detail
        detail.clear_counterpart_pixels()
        if j < 0:
            self.panel.show_message(f"{where} in {self.name}", shape)
            return
        try:
            image = other.get(j)
            rgb = self._render(image)
        except (UserFacingError, OSError) as exc:  # one damaged cutout: said in the panel, browsing goes on
            logger.warning("the other collection's cutout %s could not be read: %s", j, exc)
            self.panel.show_message(f"{self.name} · #{j} could not be read", shape)
            self.panel.setToolTip(str(exc))
            return
        # what differs from cutout to cutout comes first: a narrow panel cuts the caption's end
        caption = f"{where} in {self.name}"
        own = (
            f"its own {image.shape[0]} × {image.shape[1]} pixels" if image.shape[:2] != shape else "as it is"
        )
        notes = [f"Paired {pairing.how()}; shown over the cutout's frame, {own}", str(other.source)]
        self.panel.show_reference(rgb, shape, caption, notes)
        detail.show_counterpart_pixels(
            image, other.bands, other.wcs(j), self.name
        )  # read out under the mouse

    def _render(self, image):
        """The counterpart drawn with the window's display settings, or the defaults where its bands cannot
        take them (a colour composite of a one-band image, say)."""
        other = self.other
        try:
            return render(image, self.state.display, other.bands, other.dtype)
        except ValueError:
            return render(image, default_settings(other.dtype, other.shape[2]), other.bands, other.dtype)

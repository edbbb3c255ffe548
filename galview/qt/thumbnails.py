"""Thumbnails rendered off the GUI thread and kept in a bounded cache.

The grid asks :class:`ThumbnailCache` for the thumbnails it paints; a miss queues the
index for :class:`ThumbnailRenderer`, a thread that reads cutouts in batches, renders
them with the current display settings and hands back QImages. Requests are served
newest first, so the cells on screen win over those scrolled past.
"""

from __future__ import annotations

import logging
from collections import OrderedDict

from PyQt6.QtCore import QObject, Qt, pyqtSignal
from PyQt6.QtGui import QImage

from galview.core.display import render
from galview.core.errors import CollectionError
from galview.qt.images import rgb_to_qimage
from galview.qt.queue_thread import NewestFirstThread

logger = logging.getLogger(__name__)

MAX_PENDING = 512
BATCH = 16


class ThumbnailRenderer(NewestFirstThread):
    """Background thread: pending indices in, ``rendered(generation, index, QImage)`` out.

    ``failed(generation, index, message)`` reports a cutout that could not be read.
    """

    rendered = pyqtSignal(int, int, QImage)
    failed = pyqtSignal(int, int, str)

    def __init__(self, size: int, parent: QObject | None = None):
        super().__init__(BATCH, MAX_PENDING, parent)
        self.size = size
        self.set_job(0, None, None)  # generation, collection, settings

    def process(self, job: tuple, indices: list[int]) -> None:
        generation, collection, settings = job
        if collection is not None:
            self._render_batch(generation, collection, settings, sorted(indices))

    def _render_batch(self, generation, collection, settings, indices) -> None:
        try:
            cutouts = collection.get_batch(indices)
        except Exception:  # noqa: BLE001 - fall back to one by one: one bad cutout must not blank the rest
            cutouts = None
        for row, index in enumerate(indices):
            try:
                cutout = cutouts[row] if cutouts is not None else collection.get(index)
                rgb = render(cutout, settings, collection.bands, collection.dtype)
            except Exception as exc:  # noqa: BLE001 - any failure marks this cutout unreadable, nothing more
                known = isinstance(exc, CollectionError | IndexError | OSError | ValueError)
                message = str(exc) if known else f"{type(exc).__name__}: {exc}"
                logger.warning(
                    "thumbnail of cutout %d cannot be shown: %s", index, message, exc_info=not known
                )
                self.failed.emit(generation, index, message)
                continue
            image = rgb_to_qimage(rgb).scaled(
                self.size,
                self.size,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
            self.rendered.emit(generation, index, image)


class ThumbnailCache(QObject):
    """LRU cache of thumbnails for one collection and one set of display settings.

    Signals
    -------
    updated(int)
        A thumbnail (cutout index) became available or failed.
    crashed(str)
        The rendering thread met an unexpected error (on the GUI thread; the thread goes on).
    """

    updated = pyqtSignal(int)
    crashed = pyqtSignal(str)

    def __init__(self, size: int = 96, capacity: int = 3000, parent: QObject | None = None):
        super().__init__(parent)
        self.size = size
        self.capacity = capacity
        self._images: OrderedDict[int, QImage] = OrderedDict()
        self.errors: dict[int, str] = {}
        self._generation = 0
        self._renderer = ThumbnailRenderer(size, self)
        self._renderer.rendered.connect(self._on_rendered)
        self._renderer.failed.connect(self._on_failed)
        self._renderer.crashed.connect(self.crashed)
        self._renderer.start()

    def reset(self, collection, settings) -> None:
        """Forget every thumbnail: the collection or the display settings changed."""
        self._generation += 1
        self._images.clear()
        self.errors.clear()
        self._renderer.set_job(self._generation, collection, settings)

    def get(self, index: int) -> QImage | None:
        """The thumbnail of ``index`` if cached; otherwise queue it and return None."""
        image = self._images.get(index)
        if image is not None:
            self._images.move_to_end(index)
            return image
        if index not in self.errors:
            self._renderer.request([index])
        return None

    def __len__(self) -> int:
        return len(self._images)

    def idle(self) -> bool:
        return self._renderer.idle()

    def close(self) -> None:
        self._renderer.stop()

    def _on_rendered(self, generation: int, index: int, image: QImage) -> None:
        if generation != self._generation:
            return
        self._images[index] = image
        self._images.move_to_end(index)
        while len(self._images) > self.capacity:
            self._images.popitem(last=False)
        self.updated.emit(index)

    def _on_failed(self, generation: int, index: int, message: str) -> None:
        if generation == self._generation:
            self.errors[index] = message
            self.updated.emit(index)

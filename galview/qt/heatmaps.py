"""Heat maps (Grad-CAM and friends) computed off the GUI thread and cached per model version.

:class:`HeatmapCache` is asked for the map of a cutout under the current model and explanation
settings; a miss queues the cutout for :class:`HeatmapWorker`, a thread that reads cutouts in small
batches and runs :func:`galview.ml.gradcam.explain`. Requests are served newest first, so the cutout
on screen wins over prefetched neighbours. Maps are kept as uint8 (0..255) under the key
``(model version, method, class, collection)``: going back to a model or a method already seen costs
nothing; another collection starts afresh.
"""

from __future__ import annotations

import logging
from collections import OrderedDict

import numpy as np
from PyQt6.QtCore import QObject, pyqtSignal
from PyQt6.QtGui import QImage

from galview.core.colormaps import colourise, overlay_alpha
from galview.core.errors import UserFacingError
from galview.qt.images import rgba_to_qimage
from galview.qt.queue_thread import NewestFirstThread

logger = logging.getLogger(__name__)

BATCH = 16
MAX_PENDING = 256


class HeatmapWorker(NewestFirstThread):
    """Background thread: pending cutout indices in, ``computed(key, indices, maps)`` out.

    ``failed(key, message)`` reports a batch that could not be explained (the model does not fit
    the collection, say); the worker then drops that key's queue. ``unreadable(key, indices)``
    names cutouts that could not be read (a damaged image of a folder): they get no map, the rest of
    their batch does.
    """

    computed = pyqtSignal(object, object, object)
    failed = pyqtSignal(object, str)
    unreadable = pyqtSignal(object, object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(BATCH, MAX_PENDING, parent)
        self.set_job(None, None, None, None)  # key, loaded model, collection, settings

    def process(self, job: tuple, indices: list[int]) -> None:
        key, loaded, collection, settings = job
        if loaded is None or collection is None:
            return
        indices = np.array(sorted(indices), dtype=np.int64)
        try:
            from galview.ml.gradcam import explain

            cutouts, skipped = collection.get_batch_skipping(indices)
            if skipped:
                self.unreadable.emit(key, indices[list(skipped)])
                indices = np.delete(indices, list(skipped))
                cutouts = np.delete(cutouts, list(skipped), axis=0)
                if not len(indices):
                    return
            maps = explain(
                loaded,
                cutouts,
                method=settings.method,
                class_index=settings.class_index,
                collection=collection,
            )
        except Exception as exc:  # noqa: BLE001 - any failure is reported to the window, not raised here
            expected = isinstance(exc, UserFacingError)  # a model that does not fit, an unreadable cutout
            logger.warning("heat maps of %d cutouts failed: %s", len(indices), exc, exc_info=not expected)
            self.drop_pending(job)
            self.failed.emit(key, str(exc))
            return
        self.computed.emit(key, indices, np.rint(maps * 255).astype(np.uint8))


class HeatmapCache(QObject):
    """LRU cache of heat maps keyed by (model version, method, class, collection) and cutout index.

    Signals
    -------
    updated(int)
        The map of a cutout (index) under the current key became available.
    failed(str)
        Maps cannot be computed for the current model and collection; the message says why.
    """

    updated = pyqtSignal(int)
    failed = pyqtSignal(str)

    def __init__(self, capacity: int = 20000, parent: QObject | None = None):
        super().__init__(parent)
        self.capacity = capacity
        self._maps: OrderedDict[tuple, np.ndarray] = OrderedDict()  # (key, index) → (H, W) uint8
        self._unreadable: set[tuple] = set()  # (key, index) of cutouts that could not be read: no map
        self._images: dict[tuple, QImage] = {}  # (key, colour map, index) → colourised thumbnail
        self.key: tuple | None = None
        self.error: str | None = None
        self._collection = None
        self._opened = 0  # collections explained so far
        self._worker = HeatmapWorker(self)
        self._worker.computed.connect(self._on_computed)
        self._worker.failed.connect(self._on_failed)
        self._worker.unreadable.connect(
            lambda key, indices: self._unreadable.update((key, int(i)) for i in indices)
        )
        self._worker.crashed.connect(lambda message: self._on_failed(self.key, message))
        self._worker.start()

    def reset(self, loaded, collection, settings) -> None:
        """Explain with this model, collection and settings (a new collection forgets every map)."""
        if collection is not self._collection:
            self._maps.clear()
            self._unreadable.clear()
            self._collection = collection
            self._opened += 1
        self._images.clear()
        # the collection's number ends the key: maps of a collection left meanwhile, still queued from the
        # worker, are not taken for the same cutout numbers of the next one
        self.key = (
            None if loaded is None or collection is None else (loaded.version, *settings.key, self._opened)
        )
        self.error = None
        self._worker.set_job(self.key, loaded, collection, settings)

    def get(self, index: int, request: bool = True) -> np.ndarray | None:
        """The (H, W) float32 map in [0, 1] of ``index`` if cached; otherwise queue it (unless told not to)."""
        raw = self._raw(index)
        if raw is None and request:
            self.request([index])
        return None if raw is None else raw.astype(np.float32) / 255.0

    def image(self, index: int, colormap: str) -> QImage | None:
        """The colourised map of ``index`` as a QImage, for painting over a thumbnail; queues a miss."""
        cached = self._images.get((self.key, colormap, index))
        if cached is not None:
            return cached
        raw = self._raw(index)
        if raw is None:
            self.request([index])
            return None
        heat = raw.astype(np.float32) / 255.0
        alpha = np.rint(255 * overlay_alpha(heat)).astype(np.uint8)
        image = rgba_to_qimage(np.dstack([colourise(heat, colormap), alpha]))
        if len(self._images) > 4096:
            self._images.clear()
        self._images[(self.key, colormap, index)] = image
        return image

    def request(self, indices) -> None:
        """Queue cutouts not yet cached; the last one given is computed first."""
        if self.key is None or self.error is not None:
            return
        missing = [
            int(i)
            for i in indices
            if (self.key, int(i)) not in self._maps and (self.key, int(i)) not in self._unreadable
        ]
        if missing:
            self._worker.request(missing)

    def idle(self) -> bool:
        return self._worker.idle()

    def __len__(self) -> int:
        return len(self._maps)

    def close(self) -> None:
        self._worker.stop()

    def _raw(self, index: int) -> np.ndarray | None:
        if self.key is None:
            return None
        raw = self._maps.get((self.key, int(index)))
        if raw is not None:
            self._maps.move_to_end((self.key, int(index)))
        return raw

    def _on_computed(self, key, indices, maps) -> None:
        for index, heat in zip(indices, maps, strict=True):
            self._maps[(key, int(index))] = heat
        while len(self._maps) > self.capacity:
            self._maps.popitem(last=False)
        if key == self.key:
            for index in indices:
                self.updated.emit(int(index))

    def _on_failed(self, key, message: str) -> None:
        if key == self.key and self.error is None:
            self.error = message
            self.failed.emit(message)

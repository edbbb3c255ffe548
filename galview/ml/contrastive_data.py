"""Cutouts for the self-supervised encoder, read lazily in batches: pairs of views to train on, and
prepared batches to embed.

A :class:`ViewPairs` reads each batch from the collection (``get_batch``) when Keras asks for it,
so a collection of any size trains in bounded memory; prepared cutouts are kept after their first
read while they fit in :data:`CACHE_BYTES`, so small collections are decoded once. It is a
``keras.utils.PyDataset``: fed this way, Keras keeps the window responsive (see ARCHITECTURE.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import keras
import numpy as np

from galview.core.collection import read_skipping
from galview.ml.contrastive_views import Augmentations, augment, prepare

#: At most this many bytes of prepared cutouts are kept in memory between epochs.
CACHE_BYTES = 512 * 1024**2


def read_cutouts(source: Any, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cutouts ``indices`` of an (N, H, W, C) array or of a collection, as (B, H, W, C), and a (B,)
    bool mask of those that could be read (a damaged image of a folder reads as zeros, False)."""
    cutouts, unreadable = read_skipping(source, indices)
    readable = np.ones(len(indices), dtype=bool)
    readable[list(unreadable)] = False
    return cutouts, readable


def source_shape(source: Any) -> tuple[int, int, int]:
    """(H, W, C) of the cutouts of an (N, H, W, C) array or a collection; ValueError otherwise."""
    shape = tuple(source.shape[1:]) if isinstance(source, np.ndarray) else tuple(source.shape)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"expected cutouts (N, H, W, C) or a collection, got shape {np.shape(source)}")
    return tuple(int(s) for s in shape)


def prepared_batches(
    source: Any, size: int, stretch: str, field: float, batch_size: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Every cutout of ``source`` in order, prepared (:func:`prepare`), ``batch_size`` at a time, each
    batch with its mask of readable cutouts (see :func:`read_cutouts`)."""
    for start in range(0, len(source), batch_size):
        indices = np.arange(start, min(start + batch_size, len(source)))
        cutouts, readable = read_cutouts(source, indices)
        yield prepare(cutouts, size, stretch, field), readable


class ViewPairs(keras.utils.PyDataset):
    """Two random views of each cutout, in shuffled batches, for :func:`~galview.ml.contrastive_model.pair_model`.

    Parameters
    ----------
    source : Collection or ndarray
        An (N, H, W, C) array or anything with ``get_batch(indices)`` and ``shape`` (H, W, C).
    size : int
        Working side the cutouts are prepared at.
    stretch : str
        Per-image stretch (:func:`~galview.ml.contrastive_views.prepare`).
    field : float
        Central fraction of each cutout's side that is kept.
    batch_size : int
        Cutouts per batch (the last, incomplete batch of an epoch is dropped: every batch offers
        the loss the same number of negatives); at most N.
    seed : int
        Views and order depend only on the seed, the epoch and the batch number.
    settings : Augmentations, optional

    Each item is ``({"view_a": (B, S, S, C), "view_b": (B, S, S, C)}, zeros (B,))``.
    """

    def __init__(self, source, size: int, stretch: str, field: float, batch_size: int, seed: int = 0,
                 settings: Augmentations | None = None, **kwargs):  # fmt: skip
        super().__init__(**kwargs)
        self.source, self.size, self.stretch, self.field = source, int(size), stretch, float(field)
        self.n = len(source)
        self.batch_size = max(1, min(int(batch_size), self.n))
        self.seed, self.settings, self.epoch = int(seed), settings or Augmentations(), 0
        channels = source_shape(source)[2]
        fits = self.n * self.size * self.size * channels * 4 <= CACHE_BYTES
        self._cache = np.empty((self.n, self.size, self.size, channels), np.float32) if fits else None
        self._cached = np.zeros(self.n, dtype=bool)
        self._readable = np.ones(self.n, dtype=bool)  # False once a cutout is found unreadable
        self.unreadable: dict[int, str] = {}  # index → why, for the cutouts found unreadable so far
        self._order = self._shuffled()

    def __len__(self) -> int:
        return self.n // self.batch_size

    def __getitem__(self, index: int):
        chosen = np.sort(self._order[index * self.batch_size : (index + 1) * self.batch_size])
        base = self._prepared(chosen)
        readable = self._readable[chosen]
        if not readable.all():  # a damaged image of a folder: the batch goes on without it
            chosen, base = chosen[readable], base[readable]
        rng = np.random.default_rng((self.seed, self.epoch, index))
        views = {"view_a": augment(base, rng, self.settings), "view_b": augment(base, rng, self.settings)}
        return views, np.zeros(len(chosen), dtype=np.float32)

    def on_epoch_end(self) -> None:
        self.epoch += 1
        self._order = self._shuffled()

    def _shuffled(self) -> np.ndarray:
        return np.random.default_rng((self.seed, self.epoch, 1 << 30)).permutation(self.n)

    def _prepared(self, indices: np.ndarray) -> np.ndarray:
        if self._cache is None:
            return self._prepare(indices)
        missing = indices[~self._cached[indices]]
        if len(missing):
            self._cache[missing] = self._prepare(missing)
            self._cached[missing] = True
        return self._cache[indices]

    def _prepare(self, indices: np.ndarray) -> np.ndarray:
        cutouts, unreadable = read_skipping(self.source, indices)
        for position, reason in unreadable.items():
            self._readable[indices[position]] = False
            self.unreadable[int(indices[position])] = reason
        return prepare(cutouts, self.size, self.stretch, self.field)

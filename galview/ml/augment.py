"""Batches for Keras from any cutout source, with 8-fold dihedral augmentation (flips and rotations)."""

from __future__ import annotations

import threading

import keras
import numpy as np

from galview.core.collection import read_skipping
from galview.ml.inputs import model_input


def dihedral(images: np.ndarray, transforms: np.ndarray) -> np.ndarray:
    """Apply one of the 8 symmetries of the square to each (H, W, C) image of a (B, H, W, C) batch.

    ``transforms[i]`` in 0–7: the low two bits count quarter turns, the third bit flips left–right.
    """
    out = np.empty_like(images)
    for i, (image, t) in enumerate(zip(images, transforms, strict=True)):
        turned = np.rot90(image, k=int(t) % 4, axes=(0, 1))
        out[i] = turned[:, ::-1] if t >= 4 else turned
    return out


#: The order in which :func:`dihedral_views` takes the orientations: the first four keep the shape of a
#: non-square image (as it is, flipped left–right, half-turned, half-turned and flipped).
VIEW_ORDER = (0, 4, 2, 6, 1, 5, 3, 7)


def view_count(shape, wanted: int) -> int:
    """How many of ``wanted`` views :func:`dihedral_views` gives images of (H, W, …) ``shape``."""
    return max(1, min(wanted, 8 if shape[0] == shape[1] else 4))


def dihedral_views(images: np.ndarray, n_views: int) -> list[np.ndarray]:
    """The first ``n_views`` orientations (:data:`VIEW_ORDER`) of a (B, H, W, C) batch, view 0 as it is."""
    codes = VIEW_ORDER[: view_count(images.shape[1:3], n_views)]
    return [images if c == 0 else dihedral(images, np.full(len(images), c)) for c in codes]


def colour_jitter(x: np.ndarray, rng: np.random.Generator, amount: float) -> np.ndarray:
    """Scale each channel of each (B, H, W, C) sample by 1 ± ``amount`` and shift it by ± ``amount``/5.

    Makes a model trained on simulations less sensitive to the colour balance and sky level of
    the survey it meets (the main differences measured between simulated and real DES cutouts).
    """
    gains = rng.uniform(1 - amount, 1 + amount, (len(x), 1, 1, x.shape[-1])).astype(np.float32)
    offsets = rng.uniform(-amount / 5, amount / 5, (len(x), 1, 1, x.shape[-1])).astype(np.float32)
    return x * gains + offsets


def swap_surroundings(
    images: np.ndarray,
    rng: np.random.Generator,
    probability: float,
    radius: tuple[float, float] = (12.0, 20.0),
) -> np.ndarray:
    """Give a random share of a batch the surroundings of another cutout of the same batch.

    With ``probability``, a cutout keeps its centre (a disc of radius drawn from ``radius`` pixels, with a
    soft 2-pixel edge) and takes everything outside it from a randomly chosen other cutout, whatever
    that one's label. What lies around a candidate then says nothing about its label, and a model
    trained on such batches has to look at the centre (issue 14). Returns a new array, same dtype.
    """
    n = len(images)
    chosen = np.flatnonzero(rng.random(n) < probability) if n > 1 else np.zeros(0, int)
    if not len(chosen):
        return images
    out = images.copy()
    height, width = images.shape[1:3]
    yy, xx = np.mgrid[0:height, 0:width]
    distance = np.hypot(yy - (height - 1) / 2, xx - (width - 1) / 2)
    for i in chosen:
        donor = (i + rng.integers(1, n)) % n
        outside = 1.0 / (1.0 + np.exp(-(distance - rng.uniform(*radius)) / 2.0))
        blend = images[i] * (1 - outside[..., None]) + images[donor] * outside[..., None]
        out[i] = np.round(blend).astype(images.dtype) if np.issubdtype(images.dtype, np.integer) else blend
    return out


class CutoutBatches(keras.utils.PyDataset):
    """Keras dataset over a collection (or an array) at chosen indices, prepared for a model.

    Parameters
    ----------
    source : Collection or ndarray
        Anything with ``get_batch(indices)`` returning (B, H, W, C), or an (N, H, W, C) array.
    indices : array of int
        Which cutouts, in order (shuffled each epoch when ``shuffle``).
    spec : InputSpec
        How to turn stored pixels into model inputs.
    targets : ndarray, optional
        One target per cutout of the source (indexed like the source, not like ``indices``).
    augment, shuffle : bool
        Random dihedral transforms, and a new order every epoch.
    jitter : float
        Colour jitter amount (0 for none), see :func:`colour_jitter`.
    context_swap : float
        Share of training cutouts given another cutout's surroundings (:func:`swap_surroundings`).
    **kwargs
        Keras ``PyDataset`` options, e.g. ``workers``: batches are then prepared in threads (reading
        the source stays one thread at a time).
    """

    def __init__(
        self,
        source,
        indices,
        spec,
        targets=None,
        batch_size: int = 64,
        augment: bool = False,
        shuffle: bool = False,
        seed: int = 0,
        jitter: float = 0.0,
        context_swap: float = 0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.jitter = jitter
        self.context_swap = context_swap
        self.source = source
        self.indices = np.asarray(indices, dtype=np.int64)
        self.spec = spec
        self.targets = targets
        self.batch_size = batch_size
        self.augment = augment
        self.shuffle = shuffle
        self.rng = np.random.default_rng(seed)
        # with ``workers`` > 1 batches are prepared in threads; reading is not
        self._read_lock = threading.Lock()
        self._order = self.indices.copy()
        if shuffle:
            self.rng.shuffle(self._order)
        #: Cutouts found unreadable so far (source index → why; a damaged image of a folder, an
        #: all-NaN cutout): left out of batches with targets, zeros in batches without (whoever
        #: predicts on them leaves their outputs out).
        self.unreadable: dict[int, str] = {}

    def __len__(self) -> int:
        return int(np.ceil(len(self._order) / self.batch_size))

    def _read(self, chosen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The cutouts ``chosen`` and a mask of those that could be read."""
        images, unreadable = read_skipping(self.source, chosen)
        readable = np.ones(len(chosen), dtype=bool)
        if unreadable:
            readable[list(unreadable)] = False
            self.unreadable.update({int(chosen[position]): why for position, why in unreadable.items()})
            if not readable.any():  # one cutout, unreadable: its own error
                self.source.get_batch(chosen)
        return images, readable

    def __getitem__(self, index: int):
        chosen = self._order[index * self.batch_size : (index + 1) * self.batch_size]
        with self._read_lock:  # collections' readers are used by one thread at a time
            images, readable = self._read(chosen)
        if self.targets is not None and not readable.all():
            chosen, images = chosen[readable], images[readable]
        if self.augment:
            images = dihedral(images, self.rng.integers(0, 8, len(chosen)))
        if self.context_swap:
            images = swap_surroundings(images, self.rng, self.context_swap)
        x = model_input(images, self.spec)
        if self.jitter:
            x = colour_jitter(x, self.rng, self.jitter)
        return x if self.targets is None else (x, self.targets[chosen])

    def on_epoch_end(self) -> None:
        if self.shuffle:
            self.rng.shuffle(self._order)

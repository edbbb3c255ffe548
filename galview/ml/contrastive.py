"""The ``self-supervised`` similarity space: a contrastive encoder trained on the user's own cutouts,
without labels, and the embeddings it gives.

:func:`train_encoder` is a job (``on_progress``, ``cancel``; listed in :mod:`galview.jobs`): SimCLR
(Chen et al. 2020) with the augmentations astronomers use (Hayat et al. 2021; Stein et al. 2021) on
a small CNN (:mod:`galview.ml.contrastive_model`), from random weights or from an encoder file the
user supplies (nothing is downloaded). It writes ``encoder.keras`` and its card ``encoder.json`` into
a new folder, whole or not at all. :func:`encode` maps cutouts to unit-norm embeddings. Keras runs on
the GPU when the backend sees one.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np

from galview.core.jobs import Cancelled, CancelToken, Progress
from galview.ml.contrastive_data import ViewPairs, prepared_batches, source_shape
from galview.ml.contrastive_files import EncoderCard, LoadedEncoder, load_encoder, save_encoder
from galview.ml.contrastive_model import NTXent, build_encoder, pair_model
from galview.ml.contrastive_views import AUTO, Augmentations, choose_stretch
from galview.ml.errors import ModelError, TrainingFailed


@dataclass(frozen=True)
class EncoderSettings:
    """How the encoder is built and trained (the defaults are those of ``benchmarks/bench_contrastive.py``).

    Attributes
    ----------
    size : int
        Side of the working image cutouts are resized to.
    stretch : {'auto', 'linear', 'asinh'}
        Per-image stretch; ``auto``: linear for uint8 colours, asinh for fluxes.
    field : float
        Central fraction of each cutout's side that is used (1: the whole cutout).
    embedding_dim, width, projection_dim : int
        Width of the embedding, of the encoder's first stage, and of the projections the loss sees.
    temperature, learning_rate : float
        Of the NT-Xent loss, and of Adam.
    augmentations : Augmentations
    """

    size: int = 64
    stretch: str = AUTO
    field: float = 1.0
    embedding_dim: int = 128
    width: int = 16
    projection_dim: int = 64
    temperature: float = 0.2
    learning_rate: float = 1e-3
    augmentations: Augmentations = Augmentations()


class _Relay(keras.callbacks.Callback):
    """Progress in batches after each batch; stops on cancel or a non-finite loss (``self.nan``)."""

    def __init__(self, on_progress: Callable[[Progress], None] | None, cancel: CancelToken, epochs: int,
                 steps: int):  # fmt: skip
        super().__init__()
        self.on_progress, self.cancel, self.epochs, self.steps = on_progress, cancel, epochs, steps
        self.epoch, self.nan, self.losses = 0, None, []

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = float((logs or {}).get("loss", 0.0))
        if not math.isfinite(loss):
            self.nan = (self.epoch + 1, batch + 1)
            self.model.stop_training = True
        if self.on_progress is not None:
            done = self.epoch * self.steps + batch + 1
            message = f"self-supervised encoder, epoch {self.epoch + 1}/{self.epochs}"
            self.on_progress(Progress(done, self.epochs * self.steps, message, {"loss": loss}, "batches"))
        if self.cancel.cancelled:  # after the report: a cancel made while it was shown counts now
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        self.losses.append(float((logs or {}).get("loss", math.nan)))


def train_encoder(
    images_or_collection: Any,
    out_dir: str | Path,
    *,
    epochs: int = 40,
    batch_size: int = 64,
    seed: int = 0,
    settings: EncoderSettings | None = None,
    init: str | Path | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    cancel: CancelToken | None = None,
    on_unreadable: Callable[[int, str], None] | None = None,
) -> Path:
    """Train a self-supervised encoder on cutouts without labels and save it in a new folder.

    Parameters
    ----------
    images_or_collection : ndarray, shape (N, H, W, C), or Collection
        The cutouts (a collection is read lazily, in batches).
    out_dir : path
        The folder to create (or an empty one); it receives ``encoder.keras`` and ``encoder.json``.
        An existing model is never touched.
    epochs, batch_size, seed : int
        Passes over the cutouts; cutouts per batch (each batch compares 2 × batch_size views);
        the seed of the weights, order and views.
    settings : EncoderSettings, optional
    init : path, optional
        An encoder (``encoder.keras`` or its folder) the user supplies to start from; it must take
        the same working size and bands.
    on_progress : callable(Progress), optional
        Called after each batch, in batches.
    cancel : CancelToken, optional
        Checked after each batch: training stops there, :class:`Cancelled` is raised and nothing
        is written.
    on_unreadable : callable(index, reason), optional
        Called once training is done for each cutout that could not be read (it was left out).

    Returns
    -------
    Path
        ``out_dir / "encoder.keras"``.

    Raises
    ------
    TrainingFailed
        The loss became NaN or infinite (nothing is written).
    """
    settings, cancel, out_dir = settings or EncoderSettings(), cancel or CancelToken(), Path(out_dir)
    _check_request(images_or_collection, out_dir, epochs, batch_size)
    stretch = choose_stretch(settings.stretch, images_or_collection.dtype)
    settings = dataclasses.replace(settings, stretch=stretch)
    shape = source_shape(images_or_collection)
    keras.utils.set_random_seed(seed)
    encoder = _start(init, settings, shape[2])
    model = pair_model(encoder, settings.projection_dim)
    jit = False if keras.backend.backend() == "tensorflow" else "auto"  # XLA: 7× slower on CPUs
    model.compile(
        keras.optimizers.Adam(settings.learning_rate), NTXent(settings.temperature), jit_compile=jit
    )
    data = ViewPairs(images_or_collection, settings.size, settings.stretch, settings.field, batch_size, seed,
                     settings.augmentations)  # fmt: skip
    relay = _Relay(on_progress, cancel, epochs, len(data))
    started = time.monotonic()
    model.fit(data, epochs=epochs, callbacks=[relay], verbose=0)
    if cancel.cancelled:
        raise Cancelled()
    if relay.nan is not None:
        raise TrainingFailed(
            out_dir,
            f"the loss became NaN at epoch {relay.nan[0]}, batch {relay.nan[1]}: training diverged "
            f"(learning rate {settings.learning_rate:g} too high?); nothing was written",
        )
    for index, reason in sorted(data.unreadable.items()):
        if on_unreadable is not None:
            on_unreadable(index, reason)
    record = {"epochs": epochs, "batch_size": data.batch_size, "seed": seed, "n_images": data.n,
              "seconds": round(time.monotonic() - started, 1), "init": None if init is None else str(init)}  # fmt: skip
    card = _card(images_or_collection, shape, settings, relay.losses, record)
    return save_encoder(encoder, card, out_dir)


def _check_request(source: Any, out_dir: Path, epochs: int, batch_size: int) -> None:
    """ValueError/ModelError before any work: too few cutouts, bad counts, an occupied folder."""
    if len(source) < 2:
        raise ValueError(
            "contrastive training needs at least 2 cutouts (each batch's others are its negatives)"
        )
    if epochs < 1 or batch_size < 2:
        raise ValueError(f"epochs must be >= 1 and batch_size >= 2, got {epochs} and {batch_size}")
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise ModelError(out_dir, "already exists and is not empty; a new encoder needs a new folder")


def _start(init: str | Path | None, settings: EncoderSettings, channels: int) -> Any:
    """A fresh encoder, or the user's ``init`` encoder when it takes the same input."""
    if init is None:
        return build_encoder(settings.size, channels, settings.embedding_dim, settings.width)
    loaded = load_encoder(init)
    if (loaded.card.size, loaded.card.channels) != (settings.size, channels):
        raise ModelError(
            loaded.path,
            f"takes {loaded.card.size}×{loaded.card.size}×{loaded.card.channels} inputs; training here "
            f"uses {settings.size}×{settings.size}×{channels}",
        )
    return loaded.model


def _card(source: Any, shape: tuple[int, int, int], settings: EncoderSettings, losses: list[float],
          record: dict) -> EncoderCard:  # fmt: skip
    from galview.ml.devices import device_description

    training = {
        **record,
        "epochs_run": len(losses),
        "final_loss": losses[-1] if losses else None,
        "loss_history": [round(loss, 5) for loss in losses],
        "learning_rate": settings.learning_rate,
        "temperature": settings.temperature,
        "width": settings.width,
        "projection_dim": settings.projection_dim,
        "augmentations": settings.augmentations.to_dict(),
        "device": device_description(),
    }
    return EncoderCard(settings.size, shape[2], settings.stretch, settings.embedding_dim, shape,
                       training, _fingerprint(source), field=settings.field)  # fmt: skip


def _fingerprint(source: Any) -> str | None:
    if isinstance(source, np.ndarray):
        return None
    from galview.core.collection import fingerprint

    return fingerprint(source)


def encode(
    encoder: str | Path | LoadedEncoder | Any,
    images_or_collection: Any,
    batch_size: int = 256,
    on_progress: Callable[[Progress], None] | None = None,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """Unit-norm embeddings of every cutout.

    Parameters
    ----------
    encoder : path, LoadedEncoder or keras.Model
        A saved encoder (its card says how to prepare cutouts), or a model in memory (the whole
        cutout prepared at its input size, with the ``auto`` stretch).
    images_or_collection : ndarray, shape (N, H, W, C), or Collection
        Read in batches of ``batch_size``; C must be the encoder's bands.
    on_progress, cancel
        Progress in cutouts after each batch; :class:`Cancelled` between batches.

    Returns
    -------
    ndarray, float32, shape (N, D)
        L2-normalised rows (a zero embedding stays zero); NaN rows for cutouts that could not be read
        (a damaged image of a folder), which similarity never ranks.
    """
    loaded = (
        encoder if isinstance(encoder, LoadedEncoder) else _as_loaded(encoder, images_or_collection.dtype)
    )
    cancel, card, n = cancel or CancelToken(), loaded.card, len(images_or_collection)
    channels = source_shape(images_or_collection)[2]
    if channels != card.channels:
        raise ModelError(
            loaded.path or "encoder", f"takes {card.channels} band(s); these cutouts have {channels}"
        )
    out = np.empty((n, card.embedding_dim), dtype=np.float32)
    readable = np.ones(n, dtype=bool)
    done = 0
    batches = prepared_batches(images_or_collection, card.size, card.stretch, card.field, batch_size)
    for batch, batch_readable in batches:
        cancel.raise_if_cancelled()
        out[done : done + len(batch)] = keras.ops.convert_to_numpy(loaded.model(batch, training=False))
        readable[done : done + len(batch)] = batch_readable
        done += len(batch)
        if on_progress is not None:
            on_progress(Progress(done, n, "embedding cutouts", unit="cutouts"))
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    out = np.divide(out, norms, out=np.zeros_like(out), where=norms > 0)
    out[~readable] = np.nan  # never ranked (a zero row would rank as "not similar at all")
    return out


def _as_loaded(encoder: Any, dtype: Any) -> LoadedEncoder:
    if isinstance(encoder, str | Path):
        return load_encoder(encoder)
    _, size, _, channels = encoder.input.shape
    stretch = choose_stretch(EncoderSettings.stretch, dtype)
    card = EncoderCard(int(size), int(channels), stretch, int(encoder.output.shape[-1]),
                       (int(size), int(size), int(channels)))  # fmt: skip
    return LoadedEncoder(encoder, card)

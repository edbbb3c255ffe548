"""Where training runs, and the threads that feed it on a GPU (issue 12)."""

from __future__ import annotations

import threading
import time

import keras
import numpy as np

from galview.ml import devices, training
from galview.ml.augment import CutoutBatches
from galview.ml.cards import InputSpec
from galview.ml.training import TrainConfig

SPEC = InputSpec((8, 8, 3), ("R", "G", "B"), "uint8", "divide255")


def test_a_gpu_gets_several_feeding_threads_and_the_cpu_one(monkeypatch):
    monkeypatch.setattr(devices, "device_description", lambda: "GPU: NVIDIA H200 (JAX)")
    assert devices.feed_threads() == devices.GPU_FEED_THREADS > 1
    monkeypatch.setattr(devices, "device_description", lambda: "CPU (TensorFlow)")
    assert devices.feed_threads() == 1


def test_training_batches_use_the_threads_on_a_gpu(monkeypatch):
    images = np.zeros((40, 8, 8, 3), np.uint8)
    targets = np.zeros(40, np.float32)
    monkeypatch.setattr(devices, "feed_threads", lambda: 4)
    train, _ = training.training_batches(
        images, np.arange(32), np.arange(32, 40), SPEC, targets, 8, TrainConfig()
    )
    assert train.workers == 4
    monkeypatch.setattr(devices, "feed_threads", lambda: 1)
    train, _ = training.training_batches(
        images, np.arange(32), np.arange(32, 40), SPEC, targets, 8, TrainConfig()
    )
    assert train.workers == 1


class _OneReaderAtATime:
    """A source that fails if two threads read it at once, and records every index read."""

    def __init__(self, images):
        self.images, self.read, self.busy, self.overlaps = images, [], threading.Lock(), 0

    def get_batch(self, indices):
        if not self.busy.acquire(blocking=False):
            self.overlaps += 1
            self.busy.acquire()
        try:
            time.sleep(0.002)  # long enough for threads to collide if nothing serialised them
            self.read.extend(int(i) for i in indices)
            return self.images[indices]
        finally:
            self.busy.release()


def test_threaded_batches_read_one_at_a_time_and_cover_every_cutout():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (96, 8, 8, 3), dtype=np.uint8)
    targets = (np.arange(96) % 2).astype(np.float32)
    source = _OneReaderAtATime(images)
    batches = CutoutBatches(
        source, np.arange(96), SPEC, targets, 8, True, True, 0, workers=4, max_queue_size=16
    )
    inputs = keras.Input((8, 8, 3))
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(keras.layers.Flatten()(inputs)))
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit(batches, epochs=2, verbose=0)
    assert source.overlaps == 0
    counts = np.bincount(source.read, minlength=96)
    assert counts.min() >= 2  # every cutout in each of the two epochs

"""Which device the Keras backend trains on, and how many threads should prepare its batches.

Only Keras and the backend it runs on are imported (on demand); a broken driver never stops
training on the CPU.
"""

from __future__ import annotations

import keras

#: Threads that prepare training batches (flips, turns, context swap, scaling) when a GPU trains:
#: on an H200 one thread fed a DeepShadows epoch of 30,000 cutouts in 5.0 s, four in 2.2 s, eight in
#: 2.8 s (BENCHMARKS.md, issue 12). On the CPU the network's own threads need the cores: one.
GPU_FEED_THREADS = 4


def device_description() -> str:
    """``"GPU: NVIDIA H200 (JAX)"`` when the Keras backend sees a GPU, else ``"CPU (TensorFlow)"``."""
    backend = keras.backend.backend()
    label = {"tensorflow": "TensorFlow", "jax": "JAX", "torch": "PyTorch"}.get(backend, backend)
    name = _gpu_name(backend)
    return f"GPU: {name} ({label})" if name else f"CPU ({label})"


def _gpu_name(backend: str) -> str | None:
    try:
        if backend == "jax":
            import jax

            gpus = [d for d in jax.devices() if d.platform == "gpu"]
            return getattr(gpus[0], "device_kind", "GPU") if gpus else None
        if backend == "torch":
            import torch

            return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
        if backend == "tensorflow":
            import tensorflow as tf

            gpus = tf.config.list_physical_devices("GPU")
            if not gpus:
                return None
            return tf.config.experimental.get_device_details(gpus[0]).get("device_name", gpus[0].name)
    except Exception:  # a broken driver must not stop training on the CPU
        return None
    return None


def feed_threads() -> int:
    """Threads for preparing training batches: :data:`GPU_FEED_THREADS` on a GPU, else 1."""
    return GPU_FEED_THREADS if device_description().startswith("GPU") else 1

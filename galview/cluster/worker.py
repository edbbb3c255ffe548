"""What runs on a Dask worker: the model, loaded once per worker, and the scoring of one unit.

A worker process imports Keras only when its first task needs the model, after
:class:`ModelPlugin` has chosen the backend: ``KERAS_BACKEND`` must be set before Keras is imported,
and a worker with CUDA uses JAX (Keras' fastest backend for inference on a GPU here). Each unit's
score file is written under ``.partial`` and renamed when complete
(:func:`galview.ml.scoring.score_to_file`), so a worker killed mid-unit leaves nothing that counts as
done; Dask then runs the unit again on another worker.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from distributed import get_worker
from distributed.diagnostics.plugin import WorkerPlugin

from galview.cluster.units import ShardUnit
from galview.core.errors import UserFacingError
from galview.io.cluster_runs import INPUTS_ATTR, is_done, recorded_inputs

logger = logging.getLogger(__name__)

PLUGIN_NAME = "galview-model"
BACKENDS = ("auto", "jax", "tensorflow", "torch")
#: Models loaded in this worker process, by (path, size, mtime): a plugin registered again by a later
#: run on the same cluster (a resume) finds its model loaded.
_MODELS: dict[tuple, object] = {}


def has_cuda() -> bool:
    """Whether this machine has an NVIDIA GPU driver (a device node or ``nvidia-smi``)."""
    return Path("/dev/nvidiactl").exists() or shutil.which("nvidia-smi") is not None


def choose_backend(requested: str = "auto") -> str | None:
    """The Keras backend a worker should use: ``requested``, or with ``auto`` JAX where CUDA and JAX
    are present (unless ``KERAS_BACKEND`` is already set); None leaves Keras' own choice."""
    if requested != "auto":
        return requested
    if os.environ.get("KERAS_BACKEND"):
        return None
    import importlib.util

    return "jax" if has_cuda() and importlib.util.find_spec("jax") is not None else None


def worker_environment(requested: str = "auto") -> dict[str, str]:
    """Environment for worker processes started here (LocalCluster): ``KERAS_BACKEND`` when chosen."""
    backend = choose_backend(requested)
    return {} if backend is None else {"KERAS_BACKEND": backend}


class ModelPlugin(WorkerPlugin):
    """Loads the model once per worker (on the first task) and keeps it for every later task.

    Parameters
    ----------
    model_path : str
        The ``.keras`` file, readable from every worker.
    backend : str
        ``auto`` (JAX where the worker has CUDA), ``jax``, ``tensorflow`` or ``torch``.
    """

    name = PLUGIN_NAME

    def __init__(self, model_path: str, backend: str = "auto"):
        self.model_path = str(model_path)
        self.backend = backend
        self._loaded = None
        self._lock = None

    def setup(self, worker=None) -> None:
        import sys

        backend = choose_backend(self.backend)
        if backend is not None:
            if "keras" in sys.modules and os.environ.get("KERAS_BACKEND", "tensorflow") != backend:
                logger.warning("Keras was imported before the plugin; the %s backend is not used", backend)
            os.environ["KERAS_BACKEND"] = backend
        self._lock = threading.Lock()
        self._loaded = None

    def loaded(self):
        """The worker's LoadedModel, loaded on first use (tasks of one worker share it)."""
        with self._lock:
            if self._loaded is None:
                status = os.stat(self.model_path)
                key = (self.model_path, status.st_size, status.st_mtime_ns)
                if key not in _MODELS:
                    from galview.ml.loading import load_model

                    started = time.perf_counter()
                    _MODELS.clear()  # one model per worker
                    _MODELS[key] = load_model(self.model_path)
                    logger.info("model loaded in %.1f s", time.perf_counter() - started)
                self._loaded = _MODELS[key]
            return self._loaded


@dataclass(frozen=True)
class ScoreJob:
    """What every unit of a run shares: batch size, Grad-CAM count, the model's hash."""

    model_hash: str
    batch_size: int = 1024
    maps: int = 0


def score_unit(unit: ShardUnit, job: ScoreJob) -> dict:
    """Score one unit on this worker; a result dict (``status`` done/redone/skipped/failed).

    A unit whose output is already done (:func:`galview.io.cluster_runs.is_done`) is skipped; a bad
    shard (missing, corrupt, truncated) is ``failed`` with the reason naming the file, never raised.
    """
    started = time.perf_counter()
    result = {"unit": unit.label, "output": unit.output, "worker": _worker_address(), "pid": os.getpid()}
    try:
        expected = recorded_inputs(unit.path, unit.start, unit.stop, job.model_hash, job.maps, unit.options)
    except OSError as exc:
        return result | {"status": "failed", "reason": f"{unit.path}: cannot be read ({exc.strerror or exc})"}
    if is_done(unit.output, expected):
        return result | {"status": "skipped"}
    output = Path(unit.output)
    redone = output.exists() or output.with_name(output.name + ".partial").exists()
    try:
        n = _score(unit, job, expected)
    except UserFacingError as exc:
        return result | {"status": "failed", "reason": str(exc)}
    seconds = time.perf_counter() - started
    status = "redone" if redone else "done"
    return result | {"status": status, "n": n, "seconds": seconds, "backend": _keras_backend()}


def _score(unit: ShardUnit, job: ScoreJob, expected: dict) -> int:
    from galview.io import open_collection
    from galview.ml.scoring import score_to_file

    loaded = _plugin().loaded()
    Path(unit.output).parent.mkdir(parents=True, exist_ok=True)
    with open_collection(unit.path, **unit.options) as collection:
        stop = len(collection) if unit.stop is None else min(unit.stop, len(collection))
        rows = np.arange(unit.start, stop, dtype=np.int64)
        finish = top_maps(loaded, collection, rows, job.maps) if job.maps > 0 else None
        attrs = {INPUTS_ATTR: json.dumps(expected)}
        score_to_file(
            loaded, collection, unit.output, job.batch_size, indices=rows, attrs=attrs, finish=finish
        )
    return len(rows)


def top_maps(loaded, collection, rows: np.ndarray, k: int):
    """A ``finish`` step for :func:`score_to_file`: Grad-CAM maps of the unit's ``k`` best candidates
    (``maps`` (K, H, W) float32, ``map_index`` (K,) their indices in the shard)."""
    from galview.io.cluster_runs import candidate_score
    from galview.ml.gradcam import explain

    def finish(writer) -> None:
        score = candidate_score(writer.column("probs"))
        best = np.lexsort((np.arange(len(score)), -score))[:k]
        index = rows[best]
        maps = explain(loaded, collection.get_batch(index), collection=collection)
        writer.add_dataset("map_index", index)
        writer.add_dataset("maps", np.asarray(maps, dtype=np.float32))

    return finish


def _keras_backend() -> str:
    """The Keras backend this worker scored with (recorded per unit in the run's summary)."""
    import keras

    return keras.backend.backend()


def _plugin() -> ModelPlugin:
    return get_worker().plugins[PLUGIN_NAME]


def _worker_address() -> str:
    try:
        return get_worker().address
    except ValueError:  # called outside a worker (tests of the function itself)
        return "local"

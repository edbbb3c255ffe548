"""Scores and embeddings on disk, per (collection fingerprint, model version), bounded in size.

One folder per entry under GalView's data folder (``scores/<key>/``): ``probs.npy``,
``predicted.npy``, ``embeddings.npy`` when kept, and ``meta.json``. Entries are written in a
background thread into a temporary folder that is renamed into place, so a crash never leaves a
half-written entry; the least recently used entries are removed once the cache passes its size
limit. Arrays are read memory-mapped copy-on-write and never unpickled.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from galview.core.scores import Scores
from galview.io.cache_folders import META, evict_least_recent

logger = logging.getLogger(__name__)

#: Default size limit of the cache (all entries together).
MAX_BYTES = 1 << 30


def entry_key(fingerprint: str, version: str) -> str:
    """Folder name of the entry for a collection fingerprint and a model version."""
    return hashlib.sha1(f"{fingerprint}|{version}".encode()).hexdigest()[:20]


class ScoreCache:
    """Scores kept on disk; ``load`` and ``save`` as :class:`galview.core.kept_scores.KeptScores` asks.

    Parameters
    ----------
    folder : path
        Where the entries live (created when needed).
    max_bytes : int
        Size limit of all entries together; the least recently used go first.
    """

    def __init__(self, folder, max_bytes: int = MAX_BYTES):
        self.folder = Path(folder)
        self.max_bytes = int(max_bytes)
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="galview-score-cache")

    @classmethod
    def default(cls) -> ScoreCache:
        """The cache in GalView's data folder (``GALVIEW_HOME`` in tests)."""
        from galview.core.paths import data_dir

        return cls(data_dir() / "scores")

    def load(self, fingerprint: str, version: str) -> Scores | None:
        """The entry for this collection and model version, or None if there is none."""
        path = self.folder / entry_key(fingerprint, version)
        meta_file = path / META
        if not meta_file.is_file():
            return None
        meta = json.loads(meta_file.read_text())
        if meta.get("fingerprint") != fingerprint or meta.get("model_version") != version:
            return None
        probs = np.load(path / "probs.npy", mmap_mode="c", allow_pickle=False)
        predicted = np.load(path / "predicted.npy", mmap_mode="c", allow_pickle=False)
        embeddings = None
        if (path / "embeddings.npy").is_file():
            embeddings = np.load(path / "embeddings.npy", mmap_mode="c", allow_pickle=False)
        if probs.ndim != 2 or predicted.shape != (len(probs),):
            raise ValueError(f"{path}: probabilities and predictions do not match")
        if embeddings is not None and (embeddings.ndim != 2 or len(embeddings) != len(probs)):
            raise ValueError(f"{path}: embeddings do not match the probabilities")
        now = time.time()
        os.utime(meta_file, (now, now))  # recently used (an explicit time: file clocks are coarse)
        return Scores(
            np.asarray(probs, np.float32),
            np.asarray(predicted, np.int64),
            version,
            task=meta["task"],
            class_names=tuple(meta["class_names"]),
            positive_class=int(meta["positive_class"]),
            model_name=meta.get("model_name", ""),
            embeddings=None if embeddings is None else np.asarray(embeddings, np.float32),
        )

    def save(self, fingerprint: str, scores: Scores) -> None:
        """Write ``scores`` (kept as they are: pass a copy) in the background."""
        self._writer.submit(self._write, fingerprint, scores)

    def flush(self) -> None:
        """Wait until every entry asked for is written."""
        self._writer.submit(lambda: None).result()

    def close(self) -> None:
        """Finish pending writes."""
        self._writer.shutdown(wait=True)

    def _write(self, fingerprint: str, scores: Scores) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            final = self.folder / entry_key(fingerprint, scores.model_version)
            tmp = Path(tempfile.mkdtemp(prefix=".writing-", dir=self.folder))
            np.save(tmp / "probs.npy", scores.probs)
            np.save(tmp / "predicted.npy", scores.predicted)
            if scores.embeddings is not None:
                np.save(tmp / "embeddings.npy", scores.embeddings)
            meta = {
                "fingerprint": fingerprint,
                "model_version": scores.model_version,
                "task": scores.task,
                "class_names": list(scores.class_names),
                "positive_class": scores.positive_class,
                "model_name": scores.model_name,
                "n_scored": scores.n_scored,
                "saved": time.time(),
            }
            (tmp / META).write_text(json.dumps(meta))
            os.utime(tmp / META, (meta["saved"], meta["saved"]))
            if final.exists():
                shutil.rmtree(final)
            tmp.rename(final)
            self._evict()
        except Exception:  # noqa: BLE001 - a cache that cannot be written costs a rescore, nothing more
            logger.exception("could not keep scores on disk in %s", self.folder)

    def _evict(self) -> None:
        """Remove the least recently used entries until the cache fits :attr:`max_bytes`."""
        evict_least_recent(self.folder, self.max_bytes, "score cache")

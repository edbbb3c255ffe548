"""Similarity features on disk, per (cutouts, space, options, version), bounded in size.

One folder per entry under GalView's data folder (``similarity/<entry>/``; the entry name comes
from :func:`galview.core.feature_index.entry_name`): ``features.npy`` (N, D) float32 as the space
computed them, ``vectors.npy`` (N, D) float32, the unit rows a search multiplies (the index), and
``meta.json`` (the space's key, how many cutouts the entry covers and their fingerprint). Entries are
written into a temporary folder renamed into place, so a crash never leaves a half-written entry;
the least recently used go once the cache passes its size limit. Arrays are read memory-mapped,
copy-on-write, and never unpickled.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from galview.io.cache_folders import META, evict_least_recent

logger = logging.getLogger(__name__)

#: Default size limit of the cache (all entries together).
MAX_BYTES = 4 << 30


class FeatureCache:
    """Features kept on disk; ``load`` and ``save`` as :func:`galview.core.feature_index.build_index` asks.

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

    @classmethod
    def default(cls) -> FeatureCache:
        """The cache in GalView's data folder (``GALVIEW_HOME`` in tests)."""
        from galview.core.paths import data_dir

        return cls(data_dir() / "similarity")

    def load(self, entry: str) -> tuple[np.ndarray, np.ndarray, dict] | None:
        """``(features, vectors, meta)`` of an entry, or None if there is none.

        Raises
        ------
        ValueError
            If the entry's arrays do not match each other or its ``meta.json``.
        """
        path = self.folder / entry
        meta_file = path / META
        if not meta_file.is_file():
            return None
        meta = json.loads(meta_file.read_text())
        features = np.load(path / "features.npy", mmap_mode="c", allow_pickle=False)
        vectors = np.load(path / "vectors.npy", mmap_mode="c", allow_pickle=False)
        rows = meta.get("rows")
        if features.ndim != 2 or vectors.shape != features.shape or len(features) != rows:
            raise ValueError(
                f"{path}: features {features.shape}, vectors {vectors.shape}, {rows} rows recorded"
            )
        if features.dtype != np.float32 or vectors.dtype != np.float32:
            raise ValueError(f"{path}: expected float32 arrays, found {features.dtype} and {vectors.dtype}")
        now = time.time()
        os.utime(meta_file, (now, now))  # recently used (an explicit time: file clocks are coarse)
        return features, vectors, meta

    def save(self, entry: str, features: np.ndarray, vectors: np.ndarray, meta: dict) -> None:
        """Write an entry (replacing one of the same name), then keep the cache within its limit."""
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".writing-", dir=self.folder))
        try:
            np.save(tmp / "features.npy", np.asarray(features, dtype=np.float32))
            np.save(tmp / "vectors.npy", np.asarray(vectors, dtype=np.float32))
            saved = time.time()
            (tmp / META).write_text(json.dumps({**meta, "saved": saved}))
            os.utime(tmp / META, (saved, saved))
            final = self.folder / entry
            if final.exists():
                old = final.rename(self.folder / f".old-{entry}-{os.getpid()}")
                shutil.rmtree(old, ignore_errors=True)  # open memory maps of it stay valid on POSIX
            tmp.rename(final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self._evict(keep=entry)

    def _evict(self, keep: str) -> None:
        """Remove the least recently used entries until the cache fits :attr:`max_bytes`."""
        evict_least_recent(self.folder, self.max_bytes, "similarity cache", keep=keep)

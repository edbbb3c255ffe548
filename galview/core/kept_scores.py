"""Scores kept per (collection fingerprint, model version), so switching models costs no rescoring.

:class:`KeptScores` holds the most recent few in memory and, when given a ``disk`` (a
:class:`galview.io.score_cache.ScoreCache`, or anything with ``load``/``save``), keeps them across
sessions too. The state asks it whenever the collection or the active model changes.
"""

from __future__ import annotations

import logging
from collections import OrderedDict

from galview.core.scores import Scores

logger = logging.getLogger(__name__)

#: Score sets kept in memory (each holds probabilities and, for small collections, embeddings).
MEMORY_ENTRIES = 4


class KeptScores:
    """Scores by ``(fingerprint, model version)``: a small in-memory LRU, optionally backed by disk.

    Parameters
    ----------
    disk : object, optional
        With ``load(fingerprint, version) -> Scores | None`` and ``save(fingerprint, scores)``.
    entries : int
        Score sets kept in memory.
    """

    def __init__(self, disk=None, entries: int = MEMORY_ENTRIES):
        self.disk = disk
        self.entries = entries
        self._memory: OrderedDict[tuple[str, str], Scores] = OrderedDict()

    def get(self, fingerprint: str, version: str) -> Scores | None:
        """A copy of the scores kept for this collection and model version, or None."""
        key = (fingerprint, version)
        scores = self._memory.get(key)
        if scores is None and self.disk is not None:
            try:
                scores = self.disk.load(fingerprint, version)
            except Exception:  # noqa: BLE001 - a damaged cache entry means rescoring, nothing worse
                logger.exception("kept scores for %s / %s could not be read; rescoring", fingerprint, version)
                scores = None
            if scores is not None:
                self._remember(key, scores)
        if scores is None:
            return None
        self._memory.move_to_end(key)
        return scores.copy()

    def put(self, fingerprint: str, scores: Scores, to_disk: bool = True) -> None:
        """Keep a copy of ``scores`` (complete or not) for this collection; also on disk if asked."""
        kept = scores.copy()
        self._remember((fingerprint, scores.model_version), kept)
        if to_disk and self.disk is not None:
            try:
                self.disk.save(fingerprint, kept)
            except Exception:  # noqa: BLE001 - a full disk costs a rescore later, nothing now
                logger.exception("scores of %s could not be written to the cache", fingerprint)

    def _remember(self, key: tuple[str, str], scores: Scores) -> None:
        self._memory[key] = scores
        self._memory.move_to_end(key)
        while len(self._memory) > self.entries:
            self._memory.popitem(last=False)

    def close(self) -> None:
        """Let the disk finish what it is writing."""
        close = getattr(self.disk, "close", None)
        if close is not None:
            close()

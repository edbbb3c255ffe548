"""The review queue of each collection on disk: a small JSON file in GalView's data folder.

Named after the collection's fingerprint (the same cutouts find their queue wherever the file lies),
written atomically; a damaged or foreign file is reported, never trusted.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from galview.core.errors import UserFacingError
from galview.core.paths import data_dir
from galview.core.review_queue import ReviewQueue

FOLDER = "review_queues"


def queue_path(fingerprint: str) -> Path:
    """Where the review queue of the collection with this fingerprint is kept."""
    name = hashlib.sha1(fingerprint.encode()).hexdigest()[:20]
    return data_dir() / FOLDER / f"{name}.json"


def load_queue(fingerprint: str, n: int) -> ReviewQueue:
    """The collection's queue (empty when none was kept); UserFacingError naming the file if damaged."""
    path = queue_path(fingerprint)
    if not path.is_file():
        return ReviewQueue()
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
        indices = stored["indices"]
        valid = (
            stored.get("fingerprint") == fingerprint
            and isinstance(indices, list)
            and all(isinstance(i, int) and not isinstance(i, bool) and 0 <= i < n for i in indices)
        )
    except (OSError, ValueError, KeyError, TypeError):
        valid = False
    if not valid:
        raise UserFacingError(path, f"is not a review queue of this collection ({n} cutouts); it was ignored")
    return ReviewQueue().added(indices)


def save_queue(fingerprint: str, queue: ReviewQueue) -> Path:
    """Write the queue (an empty one removes the file); atomically, so a crash leaves the old one."""
    path = queue_path(fingerprint)
    if not len(queue):
        path.unlink(missing_ok=True)
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with open(partial, "w", encoding="utf-8") as handle:
        json.dump({"fingerprint": fingerprint, "indices": list(queue.indices)}, handle)
        handle.flush()
        os.fsync(handle.fileno())
    partial.replace(path)
    return path

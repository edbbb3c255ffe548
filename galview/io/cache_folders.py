"""Least-recently-used eviction shared by GalView's on-disk caches (scores, similarity features).

An entry is a folder holding ``meta.json``, whose modification time says when it was last used.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

logger = logging.getLogger(__name__)

META = "meta.json"


def evict_least_recent(folder: Path, max_bytes: int, what: str, keep: str | None = None) -> None:
    """Remove the least recently used entries of ``folder`` (never ``keep``) until they fit ``max_bytes``."""
    entries = []
    for path in folder.iterdir():
        meta = path / META
        if path.is_dir() and meta.is_file():
            size = sum(f.stat().st_size for f in path.iterdir())
            entries.append((meta.stat().st_mtime, size, path))
    total = sum(size for _, size, _ in entries)
    for _, size, path in sorted(entries):
        if total <= max_bytes:
            break
        if path.name == keep:
            continue
        shutil.rmtree(path, ignore_errors=True)
        total -= size
        logger.info("%s: removed %s (%d bytes) to stay under %d", what, path.name, size, max_bytes)

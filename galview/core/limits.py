"""Memory budgets: what GalView refuses before reading it, so a hostile or huge file cannot exhaust memory.

Readers compare what a file announces (header shapes, sizes in a zip directory) against these
budgets *before* reading, and refuse with a one-line error naming the file and the limit.
"""

from __future__ import annotations

#: Largest single cutout, in bytes once decoded (H × W × C × bytes per value): 256 MB.
MAX_CUTOUT_BYTES = 256 * 1024**2

#: Largest image Pillow may decode, in pixels: a 4-byte-per-pixel image of :data:`MAX_CUTOUT_BYTES`.
MAX_IMAGE_PIXELS = MAX_CUTOUT_BYTES // 4

#: Largest JSON member (``config.json``, ``metadata.json``) of a ``.keras`` model archive: 16 MB.
MAX_MODEL_CONFIG_BYTES = 16 * 1024**2

#: Largest label magnitude a file may hold: labels are class indices, stored as SQLite integers.
MAX_LABEL = 2**31 - 1


def megabytes(size: int) -> str:
    """``size`` bytes as a short human figure: ``"3.6 GB"``, ``"256 MB"``, ``"12 kB"``."""
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("kB", 1024)):
        if size >= scale:
            value = size / scale
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
    return f"{size} bytes"

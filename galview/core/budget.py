"""GalView's memory budget: what it agrees to read, checked before any pixel is read.

The window reads thumbnails 16 cutouts at a time and scales the cutout it shows in detail through a
few float copies; scoring reads batches of 256–1024 cutouts. These limits keep a window or a scoring
run of any collection within about 2 GB, and an input beyond them is refused when it is opened, with
a one-line message that names the limit, instead of exhausting the machine's memory:

* :data:`MAX_CUTOUTS` cutouts per collection (the window keeps a few numbers per cutout);
* :data:`MAX_CUTOUT_VALUES` values (height × width × bands) per cutout: 2048×2048 in one band,
  1182×1182 in three. A 4096×4096×3 float32 cutout (200 MB) is far beyond what can be shown;
* :data:`MAX_READ_BYTES` for one read of cutouts (:func:`cutouts_per_read` says how many fit), and
  :data:`MAX_SCORE_BATCH_BYTES` for one scoring batch (fewer, larger cutouts per batch);
* :data:`MAX_CHUNK_BYTES` for one storage chunk that must be decompressed whole to read one cutout
  (HDF5 chunks);
* :data:`MAX_WHOLE_ARRAY_BYTES` for an array that can only be read whole (a compressed member of an
  npz archive, a metadata column);
* :data:`MAX_CUTOUT_BYTES` for one decoded cutout of a file read image by image (FITS, PNG/JPEG),
  :data:`MAX_IMAGE_PIXELS` for what Pillow may decode, :data:`MAX_MODEL_CONFIG_BYTES` for a model's
  JSON, :data:`MAX_LABEL` for a label value;
* :func:`available_memory` for a similarity index, whose size is known after its first batch
  (:func:`galview.core.feature_index.check_index_fits`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from galview.core.errors import CollectionError

MAX_CUTOUTS = 10_000_000
MAX_CUTOUT_VALUES = 2048 * 2048
MAX_READ_BYTES = 1024 * 2**20
MAX_CHUNK_BYTES = 256 * 2**20
MAX_WHOLE_ARRAY_BYTES = 512 * 2**20
#: Cutouts (as stored) in one scoring batch: bringing survey fluxes to a colour model (the physical
#: adapter) makes float64 copies of a batch, so a batch of 1,024 cutouts of 128 × 128 float32 fluxes
#: would take over 2 GB; larger cutouts come in fewer per batch instead.
MAX_SCORE_BATCH_BYTES = 64 * 2**20


#: Largest single cutout, in bytes once decoded (H × W × C × bytes per value): 256 MB.
MAX_CUTOUT_BYTES = 256 * 1024**2

#: Largest image Pillow may decode, in pixels: a 4-byte-per-pixel image of :data:`MAX_CUTOUT_BYTES`.
MAX_IMAGE_PIXELS = MAX_CUTOUT_BYTES // 4

#: Largest JSON member (``config.json``, ``metadata.json``) of a ``.keras`` model archive: 16 MB.
MAX_MODEL_CONFIG_BYTES = 16 * 1024**2

#: Largest label magnitude a file may hold: labels are class indices, stored as SQLite integers.
MAX_LABEL = 2**31 - 1

#: The longest note on a cutout kept, in characters (a paragraph or two; longer text is refused, not cut).
MAX_NOTE_CHARS = 4000


def available_memory() -> int | None:
    """Bytes of memory this machine can give now without swapping (Linux's ``MemAvailable``, else the
    free physical pages); None where the system does not say."""
    import os

    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, OSError, ValueError):
        return None


def megabytes(size: int) -> str:
    """``size`` bytes as a short human figure: ``"3.6 GB"``, ``"256 MB"``, ``"12 kB"``."""
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("kB", 1024)):
        if size >= scale:
            value = size / scale
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
    return f"{size} bytes"


def size_text(n_bytes: int) -> str:
    """``1.8 GB``, ``512 MiB``-style text for messages (powers of 1024 shown as MiB/GiB)."""
    n_bytes = int(n_bytes)
    if n_bytes >= 2**30 and n_bytes % 2**30 == 0:
        return f"{n_bytes >> 30} GiB"
    if n_bytes >= 2**20 and n_bytes % 2**20 == 0:
        return f"{n_bytes >> 20} MiB"
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:.1f} {unit}"
    return f"{n_bytes} bytes"


def check_collection_size(path: str | Path, n: int, shape: tuple[int, int, int]) -> None:
    """Refuse a collection of more than :data:`MAX_CUTOUTS` cutouts or cutouts of more than
    :data:`MAX_CUTOUT_VALUES` values.

    Parameters
    ----------
    n : int
        Number of cutouts.
    shape : tuple of int
        (H, W, C) of one cutout.

    Raises
    ------
    CollectionError
        Naming the limit that was passed.
    """
    h, w, c = (int(v) for v in shape)
    values = h * w * c
    if values > MAX_CUTOUT_VALUES:
        raise CollectionError(
            path,
            f"cutouts of {h}×{w}×{c} ({values:,} values) are larger than GalView can show: its limit is "
            f"{MAX_CUTOUT_VALUES:,} values per cutout (2048×2048×1, 1182×1182×3); cut smaller stamps or bin them",
        )
    if int(n) > MAX_CUTOUTS:
        raise CollectionError(
            path,
            f"holds {int(n):,} cutouts, more than GalView's limit of {MAX_CUTOUTS:,} per collection; "
            "split it into smaller files",
        )


def cutout_bytes(shape: tuple[int, ...], dtype) -> int:
    """Bytes of one cutout of ``shape`` (H, W, C) and ``dtype``."""
    return int(np.prod([int(v) for v in shape], dtype=object)) * np.dtype(dtype).itemsize


def cutouts_per_read(shape: tuple[int, ...], dtype, wanted: int, limit: int | None = None) -> int:
    """How many cutouts one read may take: ``wanted``, or fewer to stay within ``limit`` bytes
    (default :data:`MAX_READ_BYTES`; :data:`MAX_SCORE_BATCH_BYTES` for a scoring batch)."""
    limit = MAX_READ_BYTES if limit is None else limit
    return max(1, min(int(wanted), limit // max(1, cutout_bytes(shape, dtype))))


def check_read(path: str | Path, count: int, shape: tuple[int, ...], dtype) -> None:
    """Refuse one read of ``count`` cutouts that would take more than :data:`MAX_READ_BYTES`."""
    needed = int(count) * cutout_bytes(shape, dtype)
    if needed > MAX_READ_BYTES:
        fit = cutouts_per_read(shape, dtype, count)
        raise CollectionError(
            path,
            f"reading {count} cutouts at once needs {size_text(needed)}, more than GalView's limit of "
            f"{size_text(MAX_READ_BYTES)} per read; read at most {fit} at a time (a smaller --batch-size)",
        )


def check_whole_array(path: str | Path, what: str, n_bytes: int, advice: str) -> None:
    """Refuse an array that must be read whole and holds more than :data:`MAX_WHOLE_ARRAY_BYTES`.

    ``what`` names the array in the message (``"array 'images'"``), ``advice`` says what to do instead.
    """
    if int(n_bytes) > MAX_WHOLE_ARRAY_BYTES:
        raise CollectionError(
            path,
            f"{what} holds {size_text(n_bytes)} and can only be read whole, more than GalView's limit of "
            f"{size_text(MAX_WHOLE_ARRAY_BYTES)}; {advice}",
        )


def check_chunk(path: str | Path, what: str, chunk_shape: tuple[int, ...], dtype) -> None:
    """Refuse a storage chunk of more than :data:`MAX_CHUNK_BYTES` (read whole for any cutout in it)."""
    n_bytes = int(np.prod([int(v) for v in chunk_shape], dtype=object)) * np.dtype(dtype).itemsize
    if n_bytes > MAX_CHUNK_BYTES:
        raise CollectionError(
            path,
            f"{what} is stored in chunks of {size_text(n_bytes)}, and reading one cutout reads a whole "
            f"chunk: GalView's limit is {size_text(MAX_CHUNK_BYTES)} per chunk; rechunk it "
            "(e.g. h5repack -l CHUNK=1xHxWxC)",
        )

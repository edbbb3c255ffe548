"""The similarity job: a collection's features in one space, computed in batches, kept on disk.

:func:`build_index` is a job (``on_progress`` in cutouts, ``cancel``; listed in :mod:`galview.jobs`
as ``"similarity"``). Given a ``store`` (:class:`galview.io.feature_cache.FeatureCache`, or anything
with ``load(entry)``/``save(entry, features, vectors, meta)``) it reuses the features kept for the
same cutouts, space, options and version, and computes only what is missing: features kept for
cutouts 0…M−1 of a collection that has grown to N cover the first M when those are unchanged
(:func:`galview.core.collection.fingerprint` of the first M), so only M…N−1 are computed. A
cancelled job keeps what it computed (the next run resumes there).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field

import numpy as np

from galview.core.budget import available_memory, megabytes
from galview.core.collection import Collection, fingerprint
from galview.core.errors import CollectionError
from galview.core.jobs import Cancelled, CancelToken, Progress
from galview.core.spaces import Space
from galview.core.vector_search import unit_rows

logger = logging.getLogger(__name__)

#: Bytes of float32 cutouts one call of a feature function may take (fewer cutouts when they are large).
BATCH_BYTES = 256 * 2**20
#: Copies of the (N, D) float32 features held at once while an index is assembled: the batches, their
#: concatenation and the unit vectors.
INDEX_COPIES = 3


@dataclass
class FeatureIndex:
    """A collection's features in one space, ready to search.

    Attributes
    ----------
    space : Space
    features : ndarray, (N, D) float32
        As the space computed them; NaN rows for cutouts that could not be read.
    vectors : ndarray, (N, D) float32
        Unit rows (standardised first where the space asks): what cosine similarity multiplies.
    mean, scale : ndarray, (D,) float32, or None
        The standardisation (the space's ``standardise``), applied to references too.
    computed : int
        Rows computed by this build (the others came from the store).
    unreadable : dict
        Cutout index → why, for the cutouts this build could not read (NaN rows; kept NaN rows
        from the store have no reason here).
    """

    space: Space
    features: np.ndarray
    vectors: np.ndarray
    mean: np.ndarray | None = None
    scale: np.ndarray | None = None
    computed: int = 0
    unreadable: dict[int, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.vectors)

    def query_vectors(self, images: np.ndarray) -> np.ndarray:
        """(Q, H, W, C) reference images → (Q, D) unit rows comparable with :attr:`vectors`."""
        return self.unit(self.space.features(np.asarray(images, dtype=np.float32)))

    def unit(self, features: np.ndarray) -> np.ndarray:
        """(Q, D) features of this space → (Q, D) unit rows, standardised like the collection's."""
        features = np.asarray(features, dtype=np.float32)
        if self.mean is not None:
            features = (features - self.mean) / self.scale
        return unit_rows(features)


def entry_name(collection: Collection, space: Space) -> str:
    """The store entry for this collection's features in ``space``: stable while the collection grows.

    A hash of the cutout shape, pixel type, the first cutout's bytes and the space's key (name,
    options, version); which cutouts an entry covers is checked separately (:func:`build_index`).
    """
    try:
        first = np.ascontiguousarray(collection.get(0)).tobytes()
    except CollectionError:
        first = b"unreadable"
    text = json.dumps(
        [list(collection.shape), collection.dtype.str, hashlib.sha256(first).hexdigest(), space.key()],
        sort_keys=True,
        default=str,
    )
    return hashlib.sha1(text.encode()).hexdigest()[:20]


def index_from_features(
    space: Space, features: np.ndarray, collection: Collection | None = None
) -> FeatureIndex:
    """An index over features computed elsewhere (the embeddings a scoring job kept), not copied.

    Parameters
    ----------
    space : Space
        The space they belong to (references are turned into features by it).
    features : ndarray, (N, D)
        NaN rows (cutouts not scored yet) are never ranked.
    collection : Collection, optional
        Their collection: then the unit vectors (one more copy of ``features``, two when the space is
        standardised) are refused before they are made if they would not fit in memory
        (:func:`check_index_fits`).

    Raises
    ------
    CollectionError
        When ``collection`` is given and the index would not fit in the memory available.
    """
    features = np.asarray(features, dtype=np.float32)
    if features.ndim != 2:
        raise ValueError(f"features of shape {features.shape}; expected (N, D)")
    if collection is not None:
        check_index_fits(collection, space, features.shape[1], copies=2 if space.standardise else 1)
    return _assemble(space, None, [features])


def build_index(
    collection: Collection,
    space: Space,
    store=None,
    batch_size: int | None = None,
    *,
    on_progress=None,
    cancel: CancelToken | None = None,
) -> FeatureIndex:
    """Compute (or reuse) the features of every cutout in ``space``.

    Parameters
    ----------
    collection : Collection
    space : Space
    store : object, optional
        Keeps features across sessions (see the module's description).
    batch_size : int, optional
        Cutouts per call of the feature function (default: the space's; fewer where their float32
        copies would pass :data:`BATCH_BYTES`).
    on_progress : callable, optional
        Receives :class:`Progress` in cutouts (reused cutouts count as done from the start).
    cancel : CancelToken, optional

    Returns
    -------
    FeatureIndex

    Raises
    ------
    Cancelled
        Once ``cancel`` is set; the rows computed so far are kept in ``store``.
    CollectionError
        After the first batch, when the whole index would not fit in the memory available (a million
        cutouts' pixels are 16 GB in each copy): refused before the rest is computed.
    """
    cancel = cancel or CancelToken()
    entry = entry_name(collection, space) if store is not None else ""
    kept = _kept(store, entry, collection, space)
    start = 0 if kept is None else len(kept[0])
    parts, n, unreadable = [], len(collection), {}
    step = batch_rows(collection.shape, batch_size or space.batch_size)
    try:
        for first in range(start, n, step):
            cancel.raise_if_cancelled()
            indices = np.arange(first, min(first + step, n))
            parts.append(_batch_features(collection, space, indices, unreadable))
            if first == start:  # the first batch says how many numbers each cutout takes
                check_index_fits(collection, space, parts[0].shape[1])
            if on_progress is not None:
                done = min(first + step, n)
                on_progress(Progress(done, n, f"similarity features ({space.name})", unit="cutouts"))
    except Cancelled:
        if parts:
            _save(store, entry, collection, space, _assemble(space, kept, parts))
        raise
    index = _assemble(space, kept, parts)
    index.unreadable = unreadable
    if parts:
        _save(store, entry, collection, space, index)
    return index


def check_index_fits(
    collection: Collection, space: Space, width: int, available=None, copies: int = INDEX_COPIES
) -> None:
    """Refuse an index of ``width`` features per cutout that would not fit in memory (``available``
    bytes; default: what the machine has now, :func:`~galview.core.budget.available_memory`) when it
    needs ``copies`` (N, ``width``) float32 arrays more than there are now.

    Raises
    ------
    CollectionError
        Naming the collection, the space, what it would need and what there is.
    """
    available = available_memory() if available is None else available
    needed = copies * len(collection) * int(width) * 4
    if available is None or needed <= available:
        return
    advice = " (a central crop keeps fewer pixels: --crop, or Similarity ▸ Pixel space options…)"
    raise CollectionError(
        collection.source,
        f"its {len(collection):,} cutouts' features in the {space.description or space.name} space "
        f"({width:,} numbers each) would need {megabytes(needed)} of memory and {megabytes(available)} "
        f"is free{advice if space.name == 'pixel' else ''}; a survey of this size is searched in its "
        "model's embeddings with galview score --cluster and galview similar-run",
    )


def batch_rows(shape: tuple[int, ...], wanted: int) -> int:
    """Cutouts of ``shape`` per feature batch: ``wanted``, or fewer to stay within :data:`BATCH_BYTES`."""
    return max(1, min(int(wanted), BATCH_BYTES // (4 * int(np.prod(shape)))))


def _kept(store, entry: str, collection: Collection, space: Space):
    """(features, vectors) the store keeps for the first M cutouts of this collection, or None."""
    if store is None:
        return None
    try:
        stored = store.load(entry)
    except Exception:  # noqa: BLE001 - a damaged entry means recomputing, nothing worse
        logger.exception("kept similarity features %s could not be read; recomputing", entry)
        return None
    if stored is None:
        return None
    features, vectors, meta = stored
    rows = int(meta.get("rows", -1))
    if meta.get("space") != space.key() or not 0 < rows <= len(collection) or len(features) != rows:
        return None
    if meta.get("fingerprint") != fingerprint(collection, rows):
        logger.info("kept similarity features %s are for other cutouts; recomputing", entry)
        return None
    return features, vectors


def _batch_features(
    collection: Collection, space: Space, indices: np.ndarray, unreadable: dict
) -> np.ndarray:
    """(B, D) features of cutouts ``indices``; NaN rows for cutouts that cannot be read, whose
    index → why is added to ``unreadable``."""
    images, skipped = collection.get_batch_skipping(indices)
    values = np.array(space.features(images.astype(np.float32)), dtype=np.float32)
    for position, why in skipped.items():
        values[position] = np.nan
        unreadable[int(indices[position])] = why
    return values


def _assemble(space: Space, kept, parts: list[np.ndarray]) -> FeatureIndex:
    """The index of the kept rows and the new ones (only new rows are normalised unless standardised)."""
    old_features, old_vectors = kept if kept is not None else (None, None)
    new = None if not parts else parts[0] if len(parts) == 1 else np.concatenate(parts)
    features = _stack(old_features, new)
    computed = 0 if new is None else len(new)
    if space.standardise:
        mean = np.nanmean(features, axis=0).astype(np.float32)
        scale = np.nanstd(features, axis=0).astype(np.float32)
        scale[~(scale > 0)] = 1.0
        return FeatureIndex(space, features, unit_rows((features - mean) / scale), mean, scale, computed)
    vectors = _stack(old_vectors, None if new is None else unit_rows(new))
    return FeatureIndex(space, features, vectors, computed=computed)


def _stack(old: np.ndarray | None, new: np.ndarray | None) -> np.ndarray:
    if old is None:
        return new
    return old if new is None else np.concatenate([old, new])


def _save(store, entry: str, collection: Collection, space: Space, index: FeatureIndex) -> None:
    if store is None:
        return
    rows = len(index.features)
    meta = {"space": space.key(), "rows": rows, "fingerprint": fingerprint(collection, rows)}
    meta["source"] = str(collection.source)
    try:
        store.save(entry, index.features, index.vectors, meta)
    except Exception:  # noqa: BLE001 - a full disk costs a recomputation later, nothing now
        logger.exception("similarity features of %s could not be kept on disk", collection.source)

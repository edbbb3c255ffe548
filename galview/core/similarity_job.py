"""The similarity search as one job: index the collection in a space, then compare with the references.

The window runs it through its one job runner (:mod:`galview.jobs`, ``"similar"``); the features
are kept on disk per (collection, space) by ``store``, so a second search in the same space only
compares. Where the features already exist (the embeddings a scoring job kept) pass them as
``features`` and nothing is computed.
"""

from __future__ import annotations

from galview.core.feature_index import build_index, index_from_features
from galview.core.jobs import CancelToken
from galview.core.similarity import SimilarityResult, similarity


def rank_by_similarity(
    collection,
    space,
    references,
    store=None,
    orientations: bool = True,
    combine: str = "mean",
    features=None,
    *,
    on_progress=None,
    cancel: CancelToken | None = None,
) -> SimilarityResult:
    """Similarity of every cutout of ``collection`` to ``references`` in ``space``.

    Parameters
    ----------
    collection : Collection
    space : Space
        See :func:`galview.spaces.make_space`.
    references : sequence of PreparedReference or int
        In the collection's cutout shape (:mod:`galview.core.reference`); an int is that cutout of the
        collection, read here (a window's thread reading the cutouts it searches from waited on the
        thread it shares the GIL with: 313 ms for one 424 × 424 PNG that takes 7 ms alone; BENCHMARKS.md).
    store : object, optional
        Keeps features across searches and sessions (:class:`galview.io.feature_cache.FeatureCache`).
    orientations, combine
        As :func:`galview.core.similarity.similarity`.
    features : ndarray (N, D), optional
        The collection's features in ``space`` computed already (the embeddings a scoring job kept):
        made into the index here, in the job, after a check that it fits in memory
        (:func:`~galview.core.feature_index.index_from_features`).
    on_progress, cancel
        The job protocol (:mod:`galview.core.jobs`); progress in cutouts while indexing.

    Returns
    -------
    SimilarityResult
    """
    cancel = cancel or CancelToken()
    references = [_cutout_read(collection, r) if isinstance(r, int) else r for r in references]
    if features is not None:
        index = index_from_features(space, features, collection)
    else:
        index = build_index(collection, space, store, on_progress=on_progress, cancel=cancel)
    cancel.raise_if_cancelled()
    return similarity(index, references, orientations=orientations, combine=combine)


def _cutout_read(collection, index: int):
    """Cutout ``index`` of ``collection`` as a reference."""
    from galview.core.reference import cutout_reference

    return cutout_reference(collection.get(index), index, f"cutout {index} ({collection.id_of(index)})")

"""The similarity job: progress in cutouts, cancel, kept features reused, only new cutouts computed."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from galview.core.collection import ArrayCollection, fingerprint
from galview.core.errors import CollectionError
from galview.core.feature_index import batch_rows, build_index, entry_name, index_from_features
from galview.core.jobs import Cancelled, CancelToken
from galview.core.spaces import morphology_space, pixel_space
from galview.jobs import get_job


class MemoryStore:
    """A store in a dict (the disk store is tested in tests/io)."""

    def __init__(self):
        self.entries = {}

    def load(self, entry):
        return self.entries.get(entry)

    def save(self, entry, features, vectors, meta):
        self.entries[entry] = (np.array(features), np.array(vectors), dict(meta))


def counting(space):
    """``space`` whose feature function records how many cutouts it was given."""
    seen = []

    def features(images):
        seen.append(len(images))
        return space.features(images)

    return dataclasses.replace(space, features=features), seen


@pytest.fixture
def images():
    return np.random.default_rng(0).integers(0, 255, (30, 16, 16, 3), dtype=np.uint8)


def test_progress_counts_cutouts_and_the_job_is_listed(images):
    reports = []
    index = build_index(
        ArrayCollection("a", images, "NHWC"), pixel_space(), batch_size=8, on_progress=reports.append
    )
    assert [r.done for r in reports] == [8, 16, 24, 30] and {r.unit for r in reports} == {"cutouts"}
    assert index.vectors.shape == (30, 256) and index.computed == 30
    np.testing.assert_allclose(np.linalg.norm(index.vectors, axis=1), 1, rtol=1e-5)
    assert get_job("similarity").function() is build_index


@pytest.mark.parametrize("make_space", [pixel_space, morphology_space])
def test_a_grown_collection_computes_only_its_new_cutouts(images, make_space):
    store = MemoryStore()
    first = build_index(ArrayCollection("a", images[:20], "NHWC"), make_space(), store, batch_size=8)
    space, seen = counting(make_space())
    grown = build_index(ArrayCollection("a", images, "NHWC"), space, store, batch_size=8)
    assert sum(seen) == 10 and grown.computed == 10
    np.testing.assert_array_equal(grown.features[:20], first.features)
    fresh = build_index(ArrayCollection("a", images, "NHWC"), make_space(), batch_size=8)
    np.testing.assert_allclose(grown.vectors, fresh.vectors, rtol=1e-5, atol=1e-6)
    space, seen = counting(make_space())
    again = build_index(ArrayCollection("a", images, "NHWC"), space, store)
    assert seen == [] and again.computed == 0
    np.testing.assert_array_equal(again.vectors, grown.vectors)


def test_changed_cutouts_are_recomputed_and_other_options_are_other_entries(images):
    store = MemoryStore()
    build_index(ArrayCollection("a", images, "NHWC"), pixel_space(), store)
    changed = images.copy()
    changed[10] = 255 - changed[10]
    collection = ArrayCollection("b", changed, "NHWC")
    assert fingerprint(collection, 20) != fingerprint(ArrayCollection("a", images, "NHWC"), 20)
    space, seen = counting(pixel_space())
    build_index(collection, space, store)
    assert sum(seen) == 30
    assert entry_name(collection, pixel_space()) != entry_name(collection, pixel_space(crop=8))


def test_a_cancelled_job_keeps_what_it_computed_and_the_next_run_resumes(images):
    store, token = MemoryStore(), CancelToken()

    def cancel_after_two(progress):
        if progress.done >= 16:
            token.cancel()

    with pytest.raises(Cancelled):
        build_index(
            ArrayCollection("a", images, "NHWC"),
            pixel_space(),
            store,
            8,
            on_progress=cancel_after_two,
            cancel=token,
        )
    (kept,) = store.entries.values()
    assert kept[2]["rows"] == 16
    space, seen = counting(pixel_space())
    assert (
        build_index(ArrayCollection("a", images, "NHWC"), space, store, 8).computed == 14 and sum(seen) == 14
    )


class Damaged(ArrayCollection):
    def _read(self, indices):
        if 0 in indices or 3 in indices:
            raise CollectionError(self.source, "cutouts 0 and 3 are damaged")
        return super()._read(indices)


def test_unreadable_cutouts_are_left_unranked(images):
    index = build_index(Damaged("d", images[:8], "NHWC"), pixel_space(), MemoryStore())
    assert (
        np.isnan(index.vectors[[0, 3]]).all() and np.isfinite(np.delete(index.vectors, [0, 3], axis=0)).all()
    )
    assert sorted(index.unreadable) == [0, 3]  # and why, for the user
    assert "damaged" in index.unreadable[3]


def test_large_cutouts_are_featured_in_smaller_batches():
    assert batch_rows((64, 64, 3), 256) == 256
    assert batch_rows((424, 424, 3), 256) == 124  # 256 MB of float32
    assert batch_rows((2048, 2048, 1), 256) == 16


def test_embeddings_kept_from_scoring_make_an_index_as_they_are():
    features = np.random.default_rng(1).normal(size=(5, 7)).astype(np.float32)
    features[2] = np.nan  # not scored yet
    index = index_from_features(pixel_space(), features)
    np.testing.assert_allclose(
        index.vectors[[0, 1, 3, 4]] * np.linalg.norm(features[[0, 1, 3, 4]], axis=1)[:, None],
        features[[0, 1, 3, 4]],
        rtol=1e-5,
    )
    assert np.isnan(index.vectors[2]).all()


def test_kept_embeddings_are_not_copied_and_their_unit_vectors_are_refused_beyond_free_memory(monkeypatch):
    """The scoring job's embeddings of a million cutouts are 4 GB: the index takes them as they are and
    makes one more copy (its unit vectors) only when it fits; two for a standardised space."""
    import galview.core.feature_index as feature_index

    features = np.random.default_rng(2).normal(size=(40, 6)).astype(np.float32)
    collection = ArrayCollection("scored.h5", np.zeros((40, 8, 8, 1), np.float32), "NHWC")
    assert index_from_features(pixel_space(), features, collection).features is features
    monkeypatch.setattr(feature_index, "available_memory", lambda: 40 * 6 * 4 - 1)
    with pytest.raises(CollectionError, match=r"^scored.h5: its 40 cutouts' features .*\(6 numbers each\)"):
        index_from_features(pixel_space(), features, collection)
    assert len(index_from_features(pixel_space(), features).vectors) == 40  # no collection: not checked
    monkeypatch.setattr(feature_index, "available_memory", lambda: 40 * 6 * 4)
    assert len(index_from_features(pixel_space(), features, collection).vectors) == 40
    with pytest.raises(CollectionError, match="would need 1.9 kB"):
        index_from_features(morphology_space(), features, collection)  # standardised: two copies


def test_an_index_that_would_not_fit_in_memory_is_refused_after_its_first_batch(monkeypatch):
    """A million cutouts' pixels are 16 GB a copy: the job says so after one batch, not after minutes of
    work and a machine out of memory; where the system does not say what is free, it goes on."""
    import galview.core.feature_index as feature_index
    from galview.core.budget import available_memory

    images = np.random.default_rng(0).random((50, 16, 16, 3)).astype(np.float32)
    collection = ArrayCollection("survey.h5", images, "NHWC")
    space, seen = counting(pixel_space())
    needed = 3 * 50 * 256 * 4  # three copies of 50 × 256 float32 features: 150 kB
    monkeypatch.setattr(feature_index, "available_memory", lambda: needed - 1)
    with pytest.raises(CollectionError) as raised:
        build_index(collection, space, batch_size=10)
    message = str(raised.value)
    assert message.startswith("survey.h5: its 50 cutouts' features in the pixel (sky subtracted) space")
    assert "(256 numbers each) would need 150 kB of memory" in message and "--crop" in message
    assert seen == [10]  # one batch computed, the other four not
    monkeypatch.setattr(feature_index, "available_memory", lambda: needed)
    assert len(build_index(collection, space, batch_size=10).vectors) == 50
    monkeypatch.setattr(feature_index, "available_memory", lambda: None)  # the system does not say
    assert len(build_index(collection, morphology_space()).vectors) == 50
    free = available_memory()
    assert free is None or free > 0

"""Similarity features on disk: reloaded identical, grown collections extended, damage means recomputing."""

from __future__ import annotations

import dataclasses

import numpy as np

from galview.core.collection import ArrayCollection
from galview.core.feature_index import build_index
from galview.core.spaces import morphology_space, pixel_space
from galview.io.feature_cache import FeatureCache


def _counting(space):
    seen = []

    def features(images):
        seen.append(len(images))
        return space.features(images)

    return dataclasses.replace(space, features=features), seen


def _images(n=40, seed=0):
    return np.random.default_rng(seed).integers(0, 255, (n, 24, 24, 3), dtype=np.uint8)


def test_reloaded_features_are_identical_and_memory_mapped(tmp_path):
    images = _images()
    first = build_index(ArrayCollection("a", images, "NHWC"), morphology_space(), FeatureCache(tmp_path))
    space, seen = _counting(morphology_space())
    again = build_index(ArrayCollection("a copy", images.copy(), "NHWC"), space, FeatureCache(tmp_path))
    assert seen == [] and again.computed == 0
    assert isinstance(again.features, np.memmap)
    np.testing.assert_array_equal(again.features, first.features)
    np.testing.assert_array_equal(again.vectors, first.vectors)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folder left


def test_added_cutouts_are_the_only_ones_computed(tmp_path):
    images = _images()
    cache = FeatureCache(tmp_path)
    first = build_index(ArrayCollection("a", images[:25], "NHWC"), pixel_space(), cache)
    space, seen = _counting(pixel_space())
    grown = build_index(ArrayCollection("a", images, "NHWC"), space, cache, batch_size=10)
    assert seen == [10, 5] and grown.computed == 15
    np.testing.assert_array_equal(grown.features[:25], first.features)
    whole = build_index(ArrayCollection("a", images, "NHWC"), pixel_space())
    np.testing.assert_allclose(grown.vectors, whole.vectors, atol=1e-6)
    _, vectors, meta = cache.load(next(p.name for p in tmp_path.iterdir()))
    assert meta["rows"] == 40 and len(vectors) == 40


def test_a_damaged_entry_is_recomputed(tmp_path):
    images = _images(10)
    build_index(ArrayCollection("a", images, "NHWC"), pixel_space(), FeatureCache(tmp_path))
    (entry,) = tmp_path.iterdir()
    (entry / "vectors.npy").write_bytes(b"\x93NUMPY garbage")
    space, seen = _counting(pixel_space())
    index = build_index(ArrayCollection("a", images, "NHWC"), space, FeatureCache(tmp_path))
    assert sum(seen) == 10 and index.vectors.shape == (10, 576)
    assert FeatureCache(tmp_path).load(entry.name) is not None  # rewritten whole


def test_the_least_recently_used_entries_go_when_the_cache_is_full(tmp_path):
    cache = FeatureCache(tmp_path, max_bytes=30_000)
    for seed in range(3):
        build_index(ArrayCollection("a", _images(5, seed), "NHWC"), pixel_space(), cache)  # ~23 kB each
    assert len(list(tmp_path.iterdir())) == 1

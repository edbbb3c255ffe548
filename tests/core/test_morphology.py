"""Morphology features: invariant to flips and quarter turns, nearly so to any rotation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from galview.core.collection import ArrayCollection
from galview.core.feature_index import build_index
from galview.core.morphology import morphology_features, n_features
from galview.core.orientations import orient
from galview.core.reference import cutout_reference
from galview.core.similarity import similarity
from galview.core.spaces import morphology_space
from galview.io import open_collection


@pytest.fixture(scope="module")
def rings(shared_data):
    with open_collection(shared_data / "gz_decals_rings") as collection:
        return collection.get_batch(np.arange(16)).astype(np.float32)


def test_features_are_invariant_to_the_eight_orientations(rings):
    images = rings[:2]
    features = morphology_features(images)
    assert features.shape == (2, n_features(3)) and np.isfinite(features).all()
    for code in range(1, 8):
        turned = np.stack([np.ascontiguousarray(orient(image, code)) for image in images])
        np.testing.assert_allclose(morphology_features(turned), features, rtol=1e-4, atol=1e-5)


def test_features_are_nearly_invariant_to_a_30_degree_turn(rings):
    """A real galaxy turned by 30° (cubic interpolation) is its own nearest neighbour among 16."""
    turned = ndimage.rotate(rings[5], 30, axes=(0, 1), reshape=False, order=3, mode="nearest")
    collection = ArrayCollection("rings", np.concatenate([rings, turned[np.newaxis]]), "NHWC")
    index = build_index(collection, morphology_space())
    result = similarity(index, [cutout_reference(rings[5], 5, "ring 5")])
    assert list(result.top(2)) == [5, 16]
    assert result.scores[16] > 0.95
    raw = index.features
    changed = np.abs(raw[16] - raw[5]) / (raw.std(axis=0) + 1e-12)
    assert np.median(changed) < 0.1  # in units of the spread between galaxies


def test_a_blank_cutout_gives_finite_features():
    features = morphology_features(np.zeros((2, 20, 30, 1), np.float32))
    assert features.shape == (2, n_features(1)) and np.isfinite(features).all()

"""The embedding space: the model's penultimate layer, for the collection and for references alike."""

from __future__ import annotations

import numpy as np
import pytest

from galview.core.collection import ArrayCollection
from galview.core.feature_index import build_index, index_from_features
from galview.core.orientations import orient
from galview.core.reference import cutout_reference, prepare_reference
from galview.core.similarity import similarity
from galview.spaces import make_space
from tests.ml.tiny_models import blobs, save_tiny_model


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("similarity")
    loaded = save_tiny_model(folder / "tiny.keras")
    with np.load(blobs(folder / "blobs.npz", n=12)) as data:
        images = data["images"]
    return loaded, images


@pytest.mark.slow  # imports TensorFlow (about 10 s here)
def test_index_and_references_share_the_scoring_forward_pass(tiny):
    from galview.ml.similarity import collection_embeddings, reference_embeddings

    loaded, images = tiny
    collection = ArrayCollection("blobs", images, "NHWC")
    space = make_space("embedding", loaded=loaded, collection=collection)
    assert space.key()["version"] == loaded.version and space.orientations
    index = build_index(collection, space, batch_size=5)
    scored = collection_embeddings(loaded, collection, batch_size=5)
    assert index.features.shape == scored.shape == (12, 8)
    np.testing.assert_allclose(index.features, scored, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(reference_embeddings(loaded, images[[3]]), scored[[3]], rtol=1e-5, atol=1e-6)
    kept = index_from_features(space, scored)  # embeddings the scoring job kept: nothing recomputed
    result = similarity(kept, [cutout_reference(images[3], 3, "blob 3")])
    assert result.top(1)[0] == 3 and result.scores[3] == pytest.approx(1.0, abs=1e-5)


@pytest.mark.slow
def test_a_turned_copy_is_found_with_its_orientation_and_a_file_reference_goes_through_the_model(tiny):
    loaded, images = tiny
    copy = np.ascontiguousarray(orient(images[1], 5))  # flip+rot90
    collection = ArrayCollection("blobs", np.concatenate([images, copy[np.newaxis]]), "NHWC")
    index = build_index(collection, make_space("embedding", loaded=loaded, collection=collection))
    result = similarity(index, [cutout_reference(images[1], 1, "blob 1")])
    assert result.orientation[12] == 5 and result.scores[12] == pytest.approx(1.0, abs=1e-5)
    external = prepare_reference(images[1, ::2, ::2].astype(np.float32) / 255, "half", (16, 16, 3), np.uint8)
    assert external.steps[0] == "resampled 8×8 → 16×16"
    assert np.isfinite(similarity(index, [external]).scores).all()

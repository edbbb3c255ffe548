"""The eight orientations, and similarity that finds a cutout's turned or mirrored copy."""

from __future__ import annotations

import numpy as np
import pytest

from galview.core.collection import ArrayCollection
from galview.core.feature_index import build_index
from galview.core.orientations import ORIENTATION_NAMES, orient, orientation_codes
from galview.core.rankings import SimilarityRanking, similarity_ranking
from galview.core.reference import cutout_reference
from galview.core.similarity import similarity
from galview.core.spaces import morphology_space, pixel_space
from galview.core.state import ViewerState
from galview.io import open_collection


@pytest.fixture(scope="module")
def rings(shared_data):
    """The first 12 real Galaxy Zoo DECaLS cutouts (424×424×3 uint8) and their labels."""
    with open_collection(shared_data / "gz_decals_rings") as collection:
        return collection.get_batch(np.arange(12)), collection.labels[:12]


def test_the_eight_orientations_are_distinct_and_named():
    image = np.arange(25).reshape(5, 5)
    views = {orient(image, code).tobytes() for code in range(8)}
    assert len(views) == 8
    assert ORIENTATION_NAMES[1] == "rot90" and ORIENTATION_NAMES[6] == "flip+rot180"
    np.testing.assert_array_equal(orient(image, 1), np.rot90(image))
    np.testing.assert_array_equal(orient(image, 6), np.flipud(image))  # mirror, then half a turn
    assert orientation_codes((4, 6, 1)) == (0, 2, 4, 6)  # non-square: only the shape-keeping ones
    assert orientation_codes((4, 4, 1), enabled=False) == (0,)


@pytest.mark.parametrize(
    "space",
    [pixel_space(), pixel_space(crop=200, normalisation="zscore"), pixel_space(colour=True)],
    ids=["plain", "crop-zscore", "colour"],
)
def test_a_cutouts_turned_copies_are_its_best_matches_with_the_orientation_recorded(rings, space):
    images, _ = rings
    reference = images[4]
    copies = np.stack([np.ascontiguousarray(orient(reference, code)) for code in range(1, 8)])
    collection = ArrayCollection("rings+copies", np.concatenate([images, copies]), "NHWC")
    result = similarity(build_index(collection, space), [cutout_reference(reference, 4, "ring 4")])
    top = result.top(8)
    assert sorted(top) == [4, *range(12, 19)]
    np.testing.assert_allclose(result.scores[top], 1.0, atol=1e-5)
    np.testing.assert_array_equal(result.orientation[12:19], np.arange(1, 8))
    assert result.orientation[4] == 0
    off = similarity(
        build_index(collection, space), [cutout_reference(reference, 4, "ring 4")], orientations=False
    )
    assert off.orientation is None and off.scores[13] < 0.99  # the half-turned copy is no longer a match


def test_the_ranking_is_a_descending_similarity_ranking_with_orientations(rings):
    images, _ = rings
    collection = ArrayCollection("rings", images, "NHWC")
    result = similarity(build_index(collection, pixel_space()), [cutout_reference(images[0], 0, "ring 0")])
    ranking = result.ranking()
    assert isinstance(ranking, SimilarityRanking)
    assert (ranking.name, ranking.title, ranking.badge, ranking.descending) == (
        "similar",
        "most similar to ring 0",
        "sim",
        True,
    )
    assert ranking.sort(np.arange(12))[0] == 0 and ranking.orientation_of(0) == "identity"
    state = ViewerState()
    state.set_collection(collection)
    state.set_ranking(ranking)
    state.set_sorting(sort="similar")
    np.testing.assert_array_equal(state.order, result.top(12))  # the grid shows the most similar first
    plain = similarity_ranking([0.1, 0.5], reference_name="LEDA 074886")
    assert plain.title == "most similar to LEDA 074886" and plain.orientation_of(1) == ""


def test_morphology_needs_no_orientations_and_several_references_combine(rings):
    images, _ = rings
    collection = ArrayCollection("rings", images, "NHWC")
    index = build_index(collection, morphology_space())
    references = [cutout_reference(images[i], i, f"ring {i}") for i in (1, 2, 3)]
    mean = similarity(index, references, combine="mean")
    best = similarity(index, references, combine="max")
    assert mean.orientation is None
    np.testing.assert_allclose(mean.scores, mean.per_reference.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(best.scores, best.per_reference.max(axis=0))
    assert list(best.best_reference[[1, 2, 3]]) == [0, 1, 2]
    assert best.reference_name() == "ring 1, ring 2 and 1 more"


def test_the_colour_pixel_space_tells_apart_what_grey_cannot():
    """Two cutouts of the same grey light, one red where the other is blue: the same in grey, unlike in colour;
    each band's own sky is subtracted, and a masked pixel leaves out every band of it."""
    from galview.core.pixel_space import pixel_features, pixel_mask

    rng = np.random.default_rng(0)
    y, x = np.indices((32, 32))
    blob = np.exp(-((x - 15.5) ** 2 + (y - 15.5) ** 2) / 20.0)
    red = np.stack([2 * blob, 0 * blob, blob], axis=-1) + rng.normal(0, 0.001, (32, 32, 3))
    blue = red[..., ::-1]
    pair = np.stack([red, blue]).astype(np.float32)
    grey, colour = pixel_features(pair), pixel_features(pair, colour=True)
    assert grey.shape == (2, 32 * 32) and colour.shape == (2, 32 * 32 * 3)
    cosine = lambda a, b: float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))  # noqa: E731
    assert cosine(*grey) > 0.99 and cosine(*colour) == pytest.approx(0.8, abs=0.01)  # (2, 0, 1)·(1, 0, 2) / 5
    skies = pixel_features(pair + np.array([5.0, 1.0, 3.0], dtype=np.float32), colour=True)
    np.testing.assert_allclose(skies, colour, atol=1e-3)  # each band's sky, not one for all
    mask = np.zeros((32, 32), bool)
    mask[:4, :4] = True
    touched = pixel_mask(mask, (32, 32, 3), colour=True)
    assert (
        touched.shape == (32 * 32 * 3,) and touched.reshape(32, 32, 3)[:4, :4].all() and touched.sum() == 48
    )
    assert pixel_space(colour=True).key() != pixel_space().key() and "colour" not in pixel_space().options

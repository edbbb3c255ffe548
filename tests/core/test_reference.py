"""References from outside the collection: resampled, band- and value-matched, masked, every step said."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits

from galview.core.collection import ArrayCollection
from galview.core.errors import UserFacingError
from galview.core.feature_index import build_index
from galview.core.reference import centre_mask, cutout_reference, prepare_reference
from galview.core.resample import resample
from galview.core.similarity import similarity
from galview.core.spaces import pixel_space


@pytest.fixture(scope="module")
def leda(shared_data):
    return fits.getdata(shared_data / "leda074886" / "leda074886_50px.fits").astype(np.float32)


def test_leda_is_resampled_to_the_collection_shape_with_the_mask_applied(leda):
    prepared = prepare_reference(leda, "LEDA 074886", (64, 64, 3), np.uint8, ("R", "G", "B"), mask_centre=4)
    assert prepared.image.shape == (64, 64, 3) and prepared.image.dtype == np.float32
    assert prepared.steps[:4] == (
        "centre masked: radius 4 px (52 of 50×50 pixels)",
        "resampled 50×50 → 64×64",
        "1 band → replicated to 3 bands (R, G, B)",
        f"values {prepared.steps[3].split()[1]} → 0–255 (the collection is uint8)",
    )
    assert prepared.steps[4].endswith("masked pixels left out of pixel comparisons (filled for the others)")
    # The mask is the 4-px disc scaled by 64/50, centred; its pixels are filled, not a hole.
    expected = centre_mask((64, 64), 4 * 64 / 50)
    assert abs(int(prepared.mask.sum()) - int(expected.sum())) <= 8
    assert prepared.mask[31:33, 31:33].all() and not prepared.mask[:20].any()
    ring = centre_mask((64, 64), 9) & ~centre_mask((64, 64), 7)
    grey = prepared.image[..., 0]
    assert grey[prepared.mask].min() > 0.6 * np.median(grey[ring])  # the hole (values near 0) is gone
    assert grey.min() >= 0 and grey.max() <= 255
    unmasked = prepare_reference(leda, "LEDA 074886", (64, 64, 3), np.uint8)
    assert unmasked.mask is None and unmasked.image[..., 0][prepared.mask].min() < 0.3 * np.median(grey[ring])


def test_a_masked_hole_does_not_count_in_the_pixel_space():
    """A cutout with a hole punched in it still matches its whole self exactly once the hole is masked."""
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[0:32, 0:32]
    galaxies = [np.exp(-((yy - 15.5) ** 2 / (2 * s**2) + (xx - 15.5) ** 2 / (8 * s**2))) for s in (3, 4, 5)]
    images = np.stack(galaxies)[..., np.newaxis] * 200 + rng.normal(0, 1, (3, 32, 32, 1))
    holed = images[1].copy()
    holed[centre_mask((32, 32), 3)] = 0
    index = build_index(ArrayCollection("memory", images.astype(np.float32), "NHWC"), pixel_space())
    masked = prepare_reference(holed, "holed", (32, 32, 1), np.float32, mask_centre=3)
    plain = prepare_reference(holed, "holed", (32, 32, 1), np.float32)
    assert similarity(index, [masked], orientations=False).scores[1] == pytest.approx(1.0, abs=1e-3)
    assert similarity(index, [plain], orientations=False).scores[1] < 0.95
    assert similarity(index, [cutout_reference(images[1], 1, "itself")]).scores[1] == pytest.approx(
        1.0, abs=1e-6
    )


def test_bands_and_non_finite_pixels():
    image = np.ones((10, 12, 3), np.float32)
    image[0, 0] = np.nan
    prepared = prepare_reference(image, "three", (10, 12, 1), np.float32)
    assert prepared.steps == (
        "1 non-finite pixels masked",
        "3 bands → greyscale",
        "1 masked pixels left out of pixel comparisons (filled for the others)",
    )
    assert np.isfinite(prepared.image).all() and prepared.image.shape == (10, 12, 1)
    four = prepare_reference(np.ones((10, 12, 4)), "four", (10, 12, 3), np.float32)
    assert four.steps == ("4 bands → greyscale, replicated to 3 bands",)


@pytest.mark.parametrize(
    ("image", "fragment"),
    [
        (np.full((8, 8), np.nan), "only 0 of 64 pixels are finite"),
        (np.ones(8), "expected one image"),
        (np.ones((2, 8, 8, 1)), "expected one image"),
        (np.array([["a", "b"], ["c", "d"]]), "expected a numeric image"),
    ],
)
def test_bad_references_are_refused_naming_the_file(image, fragment):
    with pytest.raises(UserFacingError) as info:
        prepare_reference(image, "ref", (8, 8, 1), np.float32, source="/data/ref.fits")
    assert str(info.value).startswith("/data/ref.fits: ") and fragment in str(info.value)
    with pytest.raises(UserFacingError, match="mask radius -1"):
        prepare_reference(np.ones((8, 8)), "ref", (8, 8, 1), np.float32, mask_centre=-1)


def test_resampling_keeps_flat_images_flat_and_averages_when_shrinking():
    np.testing.assert_allclose(resample(np.full((50, 50), 3.0), (64, 64)), 3.0, rtol=1e-6)
    checker = (np.indices((64, 64)).sum(axis=0) % 2).astype(np.float32)
    np.testing.assert_allclose(
        resample(checker, (32, 32))[1:-1, 1:-1], 0.5, atol=1e-6
    )  # edges: truncated filter
    np.testing.assert_allclose(resample(checker[np.newaxis, ..., np.newaxis], (64, 64))[0, ..., 0], checker)


def _blob(size: int, sigma: float) -> np.ndarray:
    yy, xx = np.indices((size, size)) - (size - 1) / 2
    return np.exp(-(yy**2 + xx**2) / (2 * sigma**2)).astype(np.float32)


def _width(image: np.ndarray) -> float:
    """Second-moment radius (pixels) of a centred blob, one band."""
    plane = image[..., 0]
    yy, xx = np.indices(plane.shape) - (np.array(plane.shape)[:, None, None] - 1) / 2
    return float(np.sqrt((plane * (yy**2 + xx**2)).sum() / plane.sum() / 2))


def test_with_both_pixel_scales_known_the_reference_keeps_its_size_on_the_sky():
    # 100 px at 0.2″ (20″ across) against cutouts of 40 px at 0.4″ (16″): 50 px at 0.4″, the central 40 kept
    reference = _blob(100, 10.0)  # σ = 2″
    prepared = prepare_reference(reference, "ref", (40, 40, 1), np.float32, scale=0.2, cutout_scale=0.4)
    assert prepared.image.shape == (40, 40, 1)
    assert _width(prepared.image) == pytest.approx(5.0, rel=0.1)  # σ = 2″ is 5 cutout pixels
    assert prepared.steps[0] == "resampled from 0.2″ to 0.4″ per pixel: 100×100 → 50×50"
    assert prepared.steps[1] == "its central 40×40 pixels kept (the cutouts' 16″ × 16″)"
    assert prepared.mask is None
    by_pixels = prepare_reference(reference, "ref", (40, 40, 1), np.float32)  # scales unknown: 100 → 40 px
    assert _width(by_pixels.image) == pytest.approx(4.0, rel=0.1)


def test_a_reference_covering_less_sky_is_padded_and_the_padding_masked():
    # 20 px at 0.5″ (10″) against 40 px cutouts at 0.5″ (20″): in the middle, the rest masked
    prepared = prepare_reference(
        _blob(20, 3.0), "small", (40, 40, 1), np.float32, scale=0.5, cutout_scale=0.5
    )
    assert prepared.image.shape == (40, 40, 1) and np.isfinite(prepared.image).all()
    assert prepared.mask is not None and prepared.mask.sum() == 40 * 40 - 20 * 20
    assert not prepared.mask[10:30, 10:30].any() and prepared.mask[:10].all()
    assert "the 1200 pixels it does not cover are masked" in prepared.steps[0]
    holed = prepare_reference(
        _blob(20, 3.0), "small", (40, 40, 1), np.float32, mask_centre=2, scale=0.5, cutout_scale=0.5
    )
    assert "the 1200 pixels it does not cover" in holed.steps[1]  # the padding, not the centre hole
    assert holed.mask.sum() > 1200 and holed.mask[20, 20]


def test_one_unknown_scale_falls_back_to_the_cutouts_size_and_says_so():
    prepared = prepare_reference(_blob(100, 10.0), "ref", (40, 40, 1), np.float32, scale=0.2)
    assert prepared.image.shape == (40, 40, 1)
    assert prepared.steps[0] == (
        "resampled 100×100 → 40×40 (the cutouts' pixel scale unknown: the fields may differ on the sky)"
    )

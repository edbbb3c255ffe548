"""The physical adapter on synthetic FITS with a known WCS and known sources: geometry, flux, orientation.

No Keras: the adapter is numpy (and the simulator's viewer-colour function).
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest

from galview.io import open_collection
from galview.ml.adapt import adapt_for, sky_of
from galview.ml.cards import InputSpec, load_card
from galview.ml.errors import ModelError
from galview.ml.inputs import model_input
from galview.ml.physical import (
    apply_physical,
    describe,
    heat_to_cutout,
    overlap_matrix,
    physical_adapter,
    resample_fluxes,
)

SHIPPED_CARD = Path(__file__).resolve().parents[2] / "models" / "deepshadows_des_sim.json"  # this checkout's
SCALE = 0.2  # ″ per pixel of the synthetic cutouts
SIZE = 200  # 40″ fields
#: A flux model: 60×60 pixels of 0.5″ (a 30″ field), g,r,z nanomaggies.
FLUX_MODEL = InputSpec(
    (60, 60, 3), ("g", "r", "z"), pixel_scale=0.5, field_arcsec=30.0, representation="flux: nanomaggies"
)


def gaussian(dx_arcsec: float, dy_arcsec: float, flux: float, sigma_arcsec: float = 0.8) -> np.ndarray:
    """A (SIZE, SIZE) image of a Gaussian of total ``flux``, ``dx`` east and ``dy`` north of the centre,
    on a north-up, east-left grid (row 0 north, column 0 east)."""
    axis = (np.arange(SIZE) - (SIZE - 1) / 2) * SCALE
    x, y = np.meshgrid(-axis, -axis)  # column index grows westward, row index grows southward
    image = np.exp(-((x - dx_arcsec) ** 2 + (y - dy_arcsec) ** 2) / (2 * sigma_arcsec**2))
    return (flux * image / image.sum()).astype(np.float32)


def write_fits(
    folder, planes: np.ndarray, name="obj.fits", north_up=False, bunit=None, bands="grz", wcs=True
):
    """A Legacy-Survey-like cutout: (3, H, W) with BANDS and a TAN WCS of SCALE ″/px.

    ``planes`` are given north up, east left; stored as FITS usually is (row 0 south) unless ``north_up``.
    """
    from astropy.io import fits

    header = fits.Header()
    if bands:
        header["BANDS"] = bands
    if bunit:
        header["BUNIT"] = bunit
    if wcs:
        header.update(
            {"CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN", "CRVAL1": 150.0, "CRVAL2": 2.0,
             "CRPIX1": SIZE / 2 + 0.5, "CRPIX2": SIZE / 2 + 0.5, "CD1_1": -SCALE / 3600, "CD1_2": 0.0,
             "CD2_1": 0.0, "CD2_2": (-1 if north_up else 1) * SCALE / 3600}
        )  # fmt: skip
    data = planes if north_up else planes[:, ::-1, :]
    folder.mkdir(exist_ok=True)
    fits.PrimaryHDU(np.ascontiguousarray(data), header=header).writeto(folder / name)
    return folder


def source_and_distractor() -> np.ndarray:
    """g, r, z planes: a source 3″ north and 2″ east of centre (fluxes 5, 8, 12 nmgy) and one 19″ west
    of centre, outside a 30″ field (flux 100 in every band)."""
    planes = [gaussian(2.0, 3.0, f) + gaussian(-19.0, 0.0, 100.0, 0.6) for f in (5.0, 8.0, 12.0)]
    return np.stack(planes)


def test_overlap_matrix_conserves_flux_and_crops_the_centre():
    m = overlap_matrix(10, 4, 1.5)  # 4 output pixels of 1.5 input pixels: input 2..8 kept
    assert m.shape == (4, 10)
    np.testing.assert_allclose(m.sum(axis=1), 1.5)
    np.testing.assert_allclose(m.sum(axis=0), [0, 0, 1, 1, 1, 1, 1, 1, 0, 0])
    np.testing.assert_array_equal(overlap_matrix(10, 4, 1.5, flip=True), m[::-1])


def test_the_batch_path_gives_what_one_cutout_at_a_time_gives():
    """The adapter's two float32 products equal the one float64 contraction to float32 precision, and
    the colours made for a whole batch at once equal each cutout's own ``viewer_rgb``."""
    from galview.core.viewer_colours import viewer_rgb, viewer_rgb_batch

    rng = np.random.default_rng(1)
    fluxes = rng.gamma(0.5, 0.02, (5, 40, 36, 3)).astype(np.float32)
    fluxes[1, 3, 4, 0] = np.nan  # a masked pixel counts as no flux
    adapter = {
        "from": {"pixel_scale": 0.2},
        "physical": {
            "select_bands": [2, 0, 1],
            "pixel_scale": 0.263,
            "pixels": 20,
            "flip_rows": True,
            "flip_cols": False,
        },
    }
    got = resample_fluxes(fluxes, adapter)
    x = np.nan_to_num(fluxes.astype(np.float64))[..., [2, 0, 1]]
    rows, cols = overlap_matrix(40, 20, 0.263 / 0.2, True), overlap_matrix(36, 20, 0.263 / 0.2)
    expected = np.einsum("ij,bjkc,lk->bilc", rows, x, cols)
    assert got.shape == (5, 20, 20, 3) and got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-9)
    batch = viewer_rgb_batch(got, ("z", "g", "r"), 16, 90)
    for k in range(5):
        np.testing.assert_array_equal(batch[k], viewer_rgb(got[k], ("z", "g", "r"), 16, 90))


@pytest.mark.parametrize("north_up", [False, True])
def test_crop_resample_keeps_the_flux_and_the_position_of_a_known_source(tmp_path, north_up):
    folder = write_fits(tmp_path / "fits", source_and_distractor(), north_up=north_up, bunit="nanomaggy")
    with open_collection(folder) as collection:
        sky = sky_of(collection)
        assert sky.pixel_scale == pytest.approx(SCALE) and sky.flux_unit == "nanomaggies"
        assert sky.problems == () and sky.unit_note == "BUNIT"
        adapter = physical_adapter(sky, FLUX_MODEL)
        out = model_input(collection.get_batch([0]), dataclasses.replace(FLUX_MODEL, adapter=adapter))[0]
    assert out.shape == (60, 60, 3) and out.dtype == np.float32
    np.testing.assert_allclose(out.sum(axis=(0, 1)), [5.0, 8.0, 12.0], rtol=2e-3)  # distractor cut away
    rows, cols = np.indices(out.shape[:2])
    weights = out[..., 2] / out[..., 2].sum()
    y, x = (weights * rows).sum(), (weights * cols).sum()
    assert y == pytest.approx(29.5 - 3.0 / 0.5, abs=0.02)  # 3″ north: 6 model pixels above the centre
    assert x == pytest.approx(29.5 - 2.0 / 0.5, abs=0.02)  # 2″ east: 4 model pixels to the left


def test_colour_models_get_the_simulators_viewer_colours(tmp_path):
    """The shipped card's spec: the adapted cutout is the simulator's ``viewer_rgb`` of the fluxes
    resampled to its 0.263″ grid (the same function, not a copy)."""
    from galview.sim.scene import viewer_rgb

    spec = load_card(SHIPPED_CARD).input
    rng = np.random.default_rng(0)
    planes = source_and_distractor() * 0.01 + rng.normal(0, 0.003, (3, SIZE, SIZE)).astype(np.float32)
    folder = write_fits(tmp_path / "fits", planes)
    with open_collection(folder) as collection:
        adapted, note = adapt_for(_Loaded(_Card(spec)), collection)
        cutouts = collection.get_batch([0])
    adapter = adapted.card.input.adapter
    assert adapter["physical"]["pixels"] == 114 and adapter["physical"]["pixel_scale"] == 0.263
    colours = apply_physical(cutouts, adapter)
    assert colours.shape == (1, 64, 64, 3) and colours.dtype == np.uint8
    native = resample_fluxes(cutouts, adapter)[0]  # (114, 114, 3) g, r, z at 0.263″/px
    np.testing.assert_array_equal(colours[0], viewer_rgb(np.moveaxis(native, -1, 0), ("g", "r", "z")))
    np.testing.assert_allclose(model_input(cutouts, adapted.card.input), colours / 255.0, rtol=1e-6)
    assert note == describe(adapter)
    assert note.startswith("200×200 g,r,z nanomaggies at 0.200″/px → 64×64 viewer colours at 0.468″/px")
    assert "crop 30.0″, flux-conserving resample to 0.263″/px, Legacy-Survey colours" in note
    assert "flux unit assumed nanomaggies (no BUNIT" in note  # said, not guessed silently


def test_heat_maps_come_back_where_the_model_looked(tmp_path):
    folder = write_fits(tmp_path / "fits", source_and_distractor())  # stored south up
    with open_collection(folder) as collection:
        adapter = physical_adapter(sky_of(collection), FLUX_MODEL)
    heat = np.zeros((1, 60, 60), np.float32)
    heat[0, 29 - 6 : 31 - 6, 29 - 4 : 31 - 4] = 1.0  # the model's view of the source, 3″ N, 2″ E
    back = heat_to_cutout(heat, adapter)[0]
    assert back.shape == (SIZE, SIZE)
    y, x = np.unravel_index(np.argmax(back), back.shape)
    stored = source_and_distractor()[2, ::-1, :]  # the cutout as the collection holds it
    sy, sx = np.unravel_index(np.argmax(stored * (np.abs(np.arange(SIZE) - 100) < 40)[None, :]), stored.shape)
    assert abs(y - sy) <= 2 and abs(x - sx) <= 2
    edge = (SIZE - 30.0 / SCALE) / 2  # 25 pixels outside the 30″ field on each side
    assert back[: int(edge) - 1].max() == 0 and back[:, -int(edge) + 1 :].max() == 0


def test_what_is_unknown_is_said(tmp_path):
    flux = source_and_distractor()
    cases = {
        "no_wcs": ({"wcs": False}, "pixel scale unknown (no celestial WCS)"),
        "no_bands": ({"bands": None}, "flux unit unknown"),
        "adu": ({"bunit": "ADU"}, "the model's fluxes are in nanomaggies; the collection's in ADU"),
        "gri": ({"bands": "gri"}, "the model needs bands g,r,z; the collection has g,r,i"),
    }
    for name, (options, message) in cases.items():
        folder = write_fits(tmp_path / name, flux, **options)
        with open_collection(folder) as collection, pytest.raises(ModelError, match=re.escape(message)):
            physical_adapter(sky_of(collection), FLUX_MODEL)
    small = write_fits(tmp_path / "small", flux[:, :100, :100].copy())
    with open_collection(small) as collection, pytest.raises(ModelError, match="cover 20.0″; the model"):
        physical_adapter(sky_of(collection), FLUX_MODEL)
    with open_collection(tmp_path / "adu") as collection, pytest.raises(ModelError, match="record the field"):
        physical_adapter(sky_of(collection), InputSpec((60, 60, 3), ("g", "r", "z")))


def test_old_cards_load_and_keep_their_version_text():
    """Cards without the sky fields still load, and write exactly what they wrote before."""
    old = {
        "shape": [64, 64, 3],
        "bands": ["R", "G", "B"],
        "dtype": "uint8",
        "scale": "divide255",
        "adapter": None,
    }
    spec = InputSpec.from_dict(old)
    assert spec.pixel_scale is None and spec.colours is None and spec.to_dict() == old
    assert InputSpec.from_dict(FLUX_MODEL.to_dict()) == FLUX_MODEL
    with pytest.raises(ModelError, match="pixel_scale must be a positive number"):
        InputSpec.from_dict({**old, "pixel_scale": -1})


@dataclasses.dataclass
class _Card:
    input: InputSpec


@dataclasses.dataclass
class _Loaded:
    """The one attribute of a LoadedModel that adapt_for reads (``card.input``)."""

    card: _Card

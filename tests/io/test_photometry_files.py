"""Photometry kept per collection: what was measured comes back, exactly; damaged, foreign or stale files
are not trusted."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from galview.core.errors import UserFacingError
from galview.core.forced_photometry import BandMagnitude
from galview.core.photometry import FitErrors, SersicFit
from galview.io.measuring import Calibration
from galview.io.photometry_files import KeptPhotometry, load_photometry, photometry_path, save_photometry

KEY = "12×64×64×3 float32 #0123456789ab"
CALIBRATION = Calibration(0, "g", 22.5, None, ("g", "r", "z"))


def a_fit(mag=20.0) -> SersicFit:
    """A fit as :func:`fit_sersic` returns them, numpy numbers and booleans included."""
    magnitudes = (
        BandMagnitude("g", mag, 0.03, 40.0),
        BandMagnitude("r", mag - 0.5, 0.04, 30.0),
        BandMagnitude("z", math.nan, math.nan, 0.0),
    )
    shape = dict(mu0=23.9, mu_eff=25.4, mean_mu_eff=24.9, r_eff=4.3, n=0.9, axis_ratio=0.81, angle=12.0)
    return SersicFit(
        mag=mag, **shape, x=31.6, y=32.2, snr=np.float64(45.0), pixel_scale=0.263, reliable=np.bool_(True),
        sky=0.01, noise=0.004, magnitudes=magnitudes, psf_fwhm=1.1, sky_gradient=(1e-5, -2e-5),
        errors=FitErrors(mag=0.05, mu0=0.1, mu_eff=0.08, mean_mu_eff=0.07, r_eff=0.2, n=0.05, axis_ratio=math.nan),
    )  # fmt: skip


def test_what_was_measured_comes_back_exactly():
    why = "more than half of the cutout's pixels are not numbers (NaN)"
    kept = KeptPhotometry(CALIBRATION, {3: a_fit(), 7: why})
    save_photometry(KEY, kept)
    back = load_photometry(KEY, 12)
    assert back.calibration == CALIBRATION
    assert back.fits[7] == kept.fits[7] and set(back.fits) == {3, 7}
    fit = back.fits[3]
    assert (
        fit.mag == 20.0 and fit.reliable is True and fit.magnitudes[1] == BandMagnitude("r", 19.5, 0.04, 30.0)
    )
    assert math.isnan(fit.magnitudes[2].mag) and fit.describe("g") == kept.fits[3].describe("g")
    assert fit.sky_gradient == (1e-5, -2e-5) and fit.errors.r_eff == 0.2 and math.isnan(fit.errors.axis_ratio)
    assert np.array_equal(fit.model_image((8, 8)), kept.fits[3].model_image((8, 8)))
    assert load_photometry("another collection", 12) is None  # nothing kept for it


def test_new_measurements_are_added_unless_their_calibration_differs():
    kept = KeptPhotometry(CALIBRATION, {1: a_fit(19.0)})
    assert set(kept.merged(CALIBRATION, [(2, a_fit())]).fits) == {1, 2}
    other = Calibration(0, "g", 30.0, None, ("g", "r", "z"))  # another zero point: a new start
    assert set(kept.merged(other, [(2, a_fit())]).fits) == {2}


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: text[: len(text) // 2],  # cut short
        lambda text: text.replace('"index": 3,', '"index": 99,'),  # a cutout the collection does not have
        lambda text: text.replace('"index": 3,', '"index": "3",'),  # an index that is not a number
        lambda text: text.replace('"index": 7,', '"index": 3,'),  # a cutout twice
        lambda text: text.rsplit("\n", 2)[0] + "\n",  # the last line lost: cut short between two fits
        lambda text: text.replace('"why": "', '"why": 7, "was": "'),  # a reason that is not text
        lambda text: text.replace(KEY, "another"),  # another collection's
        lambda text: text.replace('"mag": 20.0', '"mag": "bright"'),  # not a number
        lambda text: text.replace('"mag": 20.0', '"magnitude": 20.0'),  # a field it does not know
        lambda text: text.replace('"sky_gradient": [1e-05, -2e-05]', '"sky_gradient": [1e-05]'),  # one of two
        lambda text: text.replace('"r_eff": 0.2', '"r_eff": "wide"'),  # an error that is not a number
        lambda text: text.replace('"r_eff": 0.2', '"r_eff": true'),
        lambda text: text.replace('"mag_err": 0.04', '"mag_err": "small"'),  # a band's magnitude damaged
        lambda text: text.replace('"band": "r"', '"band": 7'),
    ],
)
def test_a_damaged_or_foreign_file_is_said_and_not_trusted(damage):
    why = "more than half of the cutout's pixels are not numbers (NaN)"
    path = save_photometry(KEY, KeptPhotometry(CALIBRATION, {3: a_fit(), 7: why}))
    assert load_photometry(KEY, 12) is not None
    path.write_text(damage(path.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(
        UserFacingError, match=rf"{path.name}: is not photometry of this collection \(12 cutouts\)"
    ):
        load_photometry(KEY, 12)


def test_measurements_of_another_method_version_are_measured_again():
    path = save_photometry(KEY, KeptPhotometry(CALIBRATION, {3: a_fit()}))
    header, *fits = path.read_text(encoding="utf-8").splitlines(keepends=True)
    stored = json.loads(header)
    stored["method_version"] = 1
    path.write_text(json.dumps(stored) + "\n" + "".join(fits), encoding="utf-8")
    assert load_photometry(KEY, 12) is None
    assert photometry_path(KEY) == path and not path.with_name(path.name + ".partial").exists()


def test_a_file_of_the_earlier_one_document_form_is_read():
    """Until 2026-12-07 the whole file was one JSON document, the fits an object by index."""
    from galview.core.photometry import METHOD_VERSION
    from galview.io.photometry_files import _plain_fit

    why = "more than half of the cutout's pixels are not numbers (NaN)"
    path = photometry_path(KEY)
    path.parent.mkdir(parents=True, exist_ok=True)
    calibration = {
        "band": 0,
        "band_name": "g",
        "zeropoint": 22.5,
        "pixel_scale": None,
        "bands": ["g", "r", "z"],
    }
    stored = {
        "fingerprint": KEY,
        "method_version": METHOD_VERSION,
        "calibration": {**calibration, "psf_fwhm": 0.0},
        "fits": {"3": _plain_fit(a_fit()), "7": why},
    }
    path.write_text(json.dumps(stored, default=lambda v: v.item()), encoding="utf-8")
    back = load_photometry(KEY, 12)
    assert back.calibration == CALIBRATION and back.fits[7] == why
    assert back.fits[3].describe("g") == a_fit().describe("g") and back.fits[3].errors.r_eff == 0.2
    stored["fits"]["3"]["mag"] = "bright"  # and trusted no more than the new form when damaged
    path.write_text(json.dumps(stored, default=lambda v: v.item()), encoding="utf-8")
    with pytest.raises(UserFacingError, match="is not photometry of this collection"):
        load_photometry(KEY, 12)


def test_the_file_holds_one_fit_per_line_after_its_header():
    fits = {i: a_fit(18.0 + i) for i in range(5)}
    path = save_photometry(KEY, KeptPhotometry(CALIBRATION, fits))
    header, *lines = path.read_text(encoding="utf-8").splitlines()
    assert json.loads(header)["count"] == 5 and "fits" not in json.loads(header)
    assert [json.loads(line)["index"] for line in lines] == [0, 1, 2, 3, 4]
    assert [fit.mag for fit in load_photometry(KEY, 12).fits.values()] == [18.0, 19.0, 20.0, 21.0, 22.0]

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
from galview.io.photometry_files import (
    KeptPhotometry,
    add_to_kept,
    load_photometry,
    photometry_path,
    save_photometry,
)

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


def _lines(path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def test_a_measurement_with_the_same_calibration_is_one_line_appended():
    why = "more than half of the cutout's pixels are not numbers (NaN)"
    path = save_photometry(KEY, KeptPhotometry(CALIBRATION, {3: a_fit(), 7: why}))
    before = _lines(path)
    assert add_to_kept(KEY, 12, CALIBRATION, [(5, a_fit(21.0))]) is None
    after = _lines(path)
    assert after[: len(before)] == before and len(after) == len(before) + 1
    assert json.loads(after[-1])["index"] == 5
    back = load_photometry(KEY, 12)
    assert set(back.fits) == {3, 5, 7} and back.fits[5].mag == 21.0 and back.fits[7] == why


def test_a_cutout_measured_again_is_shown_with_its_latest_fit():
    save_photometry(KEY, KeptPhotometry(CALIBRATION, {3: a_fit(20.0)}))
    add_to_kept(KEY, 12, CALIBRATION, [(3, a_fit(21.0))])
    add_to_kept(KEY, 12, CALIBRATION, [(3, a_fit(22.0)), (4, a_fit())])
    back = load_photometry(KEY, 12)
    assert set(back.fits) == {3, 4} and back.fits[3].mag == 22.0


def test_nothing_kept_yet_or_another_calibration_writes_the_file_anew():
    assert add_to_kept(KEY, 12, CALIBRATION, [(2, a_fit())]) is None  # no file yet
    assert set(load_photometry(KEY, 12).fits) == {2}
    other = Calibration(0, "g", 30.0, None, ("g", "r", "z"))
    assert add_to_kept(KEY, 12, other, [(4, a_fit())]) is None
    path = photometry_path(KEY)
    header, *fits = _lines(path)
    assert json.loads(header)["calibration"]["zeropoint"] == 30.0 and len(fits) == 1
    assert load_photometry(KEY, 12).fits.keys() == {4}


def test_a_last_line_cut_short_by_a_crash_is_left_out_then_cut_off():
    path = save_photometry(KEY, KeptPhotometry(CALIBRATION, {3: a_fit()}))
    add_to_kept(KEY, 12, CALIBRATION, [(5, a_fit())])
    text = path.read_text(encoding="utf-8")
    path.write_text(text + text.splitlines(keepends=True)[-1][:40], encoding="utf-8")  # an append cut short
    assert set(load_photometry(KEY, 12).fits) == {3, 5}
    assert add_to_kept(KEY, 12, CALIBRATION, [(6, a_fit())]) is None
    assert (
        path.read_text(encoding="utf-8").startswith(text) and len(_lines(path)) == len(text.splitlines()) + 1
    )
    assert set(load_photometry(KEY, 12).fits) == {3, 5, 6}


def test_appended_lines_that_outgrow_the_file_are_folded_into_a_rewrite(monkeypatch):
    from galview.io import photometry_files

    monkeypatch.setattr(photometry_files, "APPEND_ALLOWANCE_BYTES", 0)
    path = save_photometry(KEY, KeptPhotometry(CALIBRATION, {3: a_fit()}))
    add_to_kept(KEY, 12, CALIBRATION, [(3, a_fit(21.0))])  # twice the fits written: still appended
    assert len(_lines(path)) == 3
    add_to_kept(KEY, 12, CALIBRATION, [(3, a_fit(22.0))])  # more: written anew, one line a cutout
    header, *fits = _lines(path)
    assert json.loads(header)["count"] == 1 and len(fits) == 1
    assert load_photometry(KEY, 12).fits[3].mag == 22.0


def test_a_damaged_file_is_replaced_by_the_new_measurements_and_said():
    path = save_photometry(KEY, KeptPhotometry(CALIBRATION, {3: a_fit()}))
    path.write_text(path.read_text(encoding="utf-8").replace(KEY, "another"), encoding="utf-8")
    replaced = add_to_kept(KEY, 12, CALIBRATION, [(4, a_fit())])
    assert replaced is not None and "is not photometry of this collection" in replaced
    assert set(load_photometry(KEY, 12).fits) == {4}


def test_writers_at_the_same_time_lose_nothing(monkeypatch):
    """The window's Measure and ``galview measure`` may add at once, appends and rewrites mixed."""
    import threading

    from galview.io import photometry_files

    monkeypatch.setattr(photometry_files, "APPEND_ALLOWANCE_BYTES", 0)  # rewrites (read, then write) often
    save_photometry(KEY, KeptPhotometry(CALIBRATION, {0: a_fit()}))

    def add(first: int) -> None:
        for index in range(first, 120, 4):
            add_to_kept(KEY, 120, CALIBRATION, [(index, a_fit())])

    writers = [threading.Thread(target=add, args=(first,)) for first in range(4)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    assert set(load_photometry(KEY, 120).fits) == set(range(120))

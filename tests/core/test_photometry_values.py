"""What the photometry rankings sort by: ⟨μ⟩e and one colour of each reliable fit."""

from __future__ import annotations

import math

import numpy as np

from galview.core.forced_photometry import BandMagnitude
from galview.core.photometry import SersicFit
from galview.core.photometry_values import photometry_values


def a_fit(mean_mu_eff: float, g: float, r: float, i: float = math.nan, reliable: bool = True) -> SersicFit:
    magnitudes = (BandMagnitude("g", g, 0.03, 40.0), BandMagnitude("r", r, 0.03, 40.0))
    if not math.isnan(i):
        magnitudes += (BandMagnitude("i", i, 0.03, 40.0),)
    return SersicFit(mag=g, mu0=23.0, mu_eff=24.0, mean_mu_eff=mean_mu_eff, r_eff=4.0, n=1.0, axis_ratio=0.8,
                     angle=0.0, x=32, y=32, snr=40.0, pixel_scale=0.263, reliable=reliable,
                     magnitudes=magnitudes)  # fmt: skip


def test_reliable_fits_give_their_numbers_and_every_other_cutout_nan():
    fits = {1: a_fit(25.0, 20.0, 19.4), 3: a_fit(26.0, 21.0, 20.0, reliable=False), 4: "too faint to fit"}
    values = photometry_values(fits, ("g", "r", "z"), 6)
    assert values.colour_name == "g−r"  # g r z: no g − i to split by; the first colour
    assert values.mean_mu_eff[1] == 25.0 and np.isnan(np.delete(values.mean_mu_eff, 1)).all()
    assert values.colour[1] == np.float64(20.0) - 19.4 and np.isnan(np.delete(values.colour, 1)).all()


def test_g_minus_i_where_there_is_one_and_no_colour_with_one_band():
    fits = {0: a_fit(25.0, 20.0, 19.4, 19.0)}
    values = photometry_values(fits, ("g", "r", "i"), 2)
    assert values.colour_name == "g−i" and values.colour[0] == np.float64(20.0) - 19.0  # DES Y3's split
    one = photometry_values(fits, ("g",), 2)
    assert one.colour_name is None and one.colour is None and one.mean_mu_eff[0] == 25.0

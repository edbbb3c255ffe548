"""Cross-matching positions with a catalogue: the nearest source within the radius, exact separations."""

from __future__ import annotations

import numpy as np
import pytest

from galview.core.crossmatch import describe_match, match_positions, match_ranking


def haversine_arcsec(ra1, dec1, ra2, dec2):
    ra1, dec1, ra2, dec2 = (np.radians(v) for v in (ra1, dec1, ra2, dec2))
    half = np.sin((dec2 - dec1) / 2) ** 2 + np.cos(dec1) * np.cos(dec2) * np.sin((ra2 - ra1) / 2) ** 2
    return np.degrees(2 * np.arcsin(np.sqrt(half))) * 3600


def test_the_nearest_source_within_the_radius_across_ra_zero_and_near_the_pole():
    ra = np.array([359.9999, 10.0, 120.0, 45.0, np.nan, 200.0])
    dec = np.array([0.0, 89.9996, -30.0, 10.0, 5.0, -60.0])
    cat_ra = np.array([0.0001, 190.0, 120.0, 120.0 + 2.5 / 3600 / np.cos(np.radians(30)), 45.0, np.nan])
    cat_dec = np.array([0.0, 89.9996, -30.0 + 1 / 3600, -30.0, 10.0 + 4 / 3600, -60.0])
    match = match_positions(ra, dec, cat_ra, cat_dec, radius_arcsec=3.0)
    assert match.row.tolist() == [0, 1, 2, -1, -1, -1]
    # 0.72″ across RA 0; 2.88″ across the pole (RA 10° and 190°, 1.44″ from it); 1″ away beats 2.5″
    assert match.separation_arcsec[0] == pytest.approx(0.72, abs=1e-6)
    assert match.row[1] == 1 and match.separation_arcsec[1] == pytest.approx(
        haversine_arcsec(10.0, 89.9996, 190.0, 89.9996), rel=1e-6
    )
    assert match.separation_arcsec[2] == pytest.approx(1.0, rel=1e-6)
    assert np.isnan(match.separation_arcsec[3:]).all()  # 4″ away; no position; a source with none
    assert match.positioned == 5 and match.sources_matched() == 3


def test_the_radius_is_a_hard_edge_and_separations_match_haversine():
    rng = np.random.default_rng(1)
    cat_ra, cat_dec = rng.uniform(0, 360, 5000), np.degrees(np.arcsin(rng.uniform(-1, 1, 5000)))
    offsets = rng.uniform(0, 6, 5000) / 3600  # 0–6″ north of each source
    dec = np.clip(cat_dec + offsets, -90, 90)
    match = match_positions(cat_ra, dec, cat_ra, cat_dec, radius_arcsec=3.0)
    truth = haversine_arcsec(cat_ra, dec, cat_ra, cat_dec)
    inside = truth <= 3.0
    assert (match.matched[inside]).all() and not match.matched[truth > 3.0 + 1e-6].any()
    np.testing.assert_allclose(match.separation_arcsec[inside], truth[inside], atol=1e-6)


def test_what_is_refused_and_how_a_match_is_told():
    with pytest.raises(ValueError, match="more than 0″ and at most 3,600″"):
        match_positions([1.0], [1.0], [1.0], [1.0], radius_arcsec=0)
    with pytest.raises(ValueError, match="two 1-D arrays"):
        match_positions([1.0, 2.0], [1.0], [1.0], [1.0])
    match = match_positions([1.0, 2.0, np.nan], [0.0, 0.0, 0.0], [1.0], [0.0])
    assert describe_match(match, 4, "known.csv") == (
        "1 of 3 cutouts have a source of known.csv within 3″ (1 of its 4 rows); 1 cutouts have no position and "
        "were not matched"
    )
    ranking = match_ranking(match, np.array(["KDG 61"]), "known.csv")
    assert ranking.sort(np.arange(3)).tolist() == [0, 1, 2] and ranking.descending is False
    assert ranking.describe(0) == "KDG 61 · 0.00″ (known.csv)"
    assert ranking.describe(1) == "none within 3″ in known.csv"
    assert ranking.matched_names.tolist() == ["KDG 61", "", ""] and ranking.decimals == 2


def test_catalogue_rows_without_a_position_keep_the_others_row_numbers():
    match = match_positions([10.0, 20.0], [0.0, 0.0], [np.nan, 20.0, np.nan, 10.0], [np.nan, 0.0, 5.0, 0.0])
    assert match.row.tolist() == [3, 1]  # rows of the catalogue as given, not of its readable rows

"""Cutout ▸ Go to… and ``galview find``: an index, an id or part of one, or a sky position."""

from __future__ import annotations

import numpy as np
import pytest

from galview.core.finding import find_cutout, parse_position

IDS = np.array(["DES J0001-0001", "DES J0002-0002", "12", "LEDA 074886", "leda 1234"])
RA = np.array([150.0, 150.1, np.nan, 10.0, 359.99])
DEC = np.array([2.0, 2.2, np.nan, -30.0, 0.0])


def found(text, ids=IDS):
    result = find_cutout(text, len(IDS), ids, RA, DEC)
    return result.index, result.how


def test_index_id_and_part_of_an_id():
    assert found("#2") == (2, "index")
    assert found("12") == (2, "id")  # an id that looks like a number is the id
    assert found("3") == (3, "index")
    assert found("0") == (0, "index")
    assert found("0002") == (1, "part of an id")  # leading zeros: an id's digits, not an index
    assert found("3", ids=None) == (3, "index")
    assert found("  leda 074886 ") == (3, "id")  # exact, in any case
    assert found("074886") == (3, "part of an id")
    assert found("j0002") == (1, "part of an id")
    assert find_cutout(" j0002", 5, IDS).describe(" j0002") == "cutout 1 (the one id that holds 'j0002')"


def test_positions_in_degrees_and_sexagesimal():
    assert found("150.1 2.2") == (1, "position")
    assert found("150.1, 2.2") == (1, "position")
    assert found("10:00:24 +02:12:00") == (1, "position")  # RA in hours: 150.1°
    assert found("10h00m24s 2d12m0s") == (1, "position")
    assert found("10 00 24 +02 12 00") == (1, "position")
    assert found("10:00:24+02:12:00") == (1, "position")
    link = "https://www.legacysurvey.org/viewer/?ra=150.1000&dec=2.2000&layer=ls-dr10&zoom=15"
    assert found(link) == (1, "position")  # a sky viewer's link, pasted
    assert found("ra=150.1&dec=2.2") == (1, "position")
    result = find_cutout("0.0 0.0", len(IDS), IDS, RA, DEC)
    assert result.index == 4 and result.separation_arcsec == pytest.approx(36.0, abs=0.01)  # across RA 0
    assert result.describe("0.0 0.0") == "cutout 4 (nearest to RA 0.00000°, Dec +0.00000°: 36.0″ away)"
    assert parse_position("10:00:24 -02:12:00") == pytest.approx((150.1, -2.2))


def test_what_is_refused_says_why():
    for text, message in (
        ("", "type an index"),
        ("#5", "'5' is not a cutout index; the collection has 5 (0–4)"),
        ("#x", "not a cutout index"),
        ("DES", "2 ids contain 'DES' (DES J0001-0001, DES J0002-0002): type more of one"),
        ("M31", "no cutout has the index, id or position 'M31'"),
        ("99", "'99' is not a cutout index (0–4), and no id holds it"),
        ("400 2", "RA must be 0–360° (0–24h) and Dec −90–90°"),
        ("25:00:00 +02:00:00", "RA must be 0–360°"),
    ):
        with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
            found(text)
    with pytest.raises(ValueError, match="no sky positions"):
        find_cutout("150 2", 3, None, None, None)
    with pytest.raises(ValueError, match="the cutouts have no ids"):
        find_cutout("M31", 3)
    with pytest.raises(ValueError, match="is not a position"):
        parse_position("M31")


def test_a_word_of_a_note_finds_its_cutout_when_no_id_holds_it():
    notes = {2: "Tidal tail to the NE?", 3: "ring galaxy, faint", 4: "another ring?"}
    result = find_cutout("tidal", len(IDS), IDS, RA, DEC, notes=notes)
    assert (result.index, result.how) == (2, "note")
    assert result.describe("tidal") == "cutout 2 (the one note that holds 'tidal')"
    assert find_cutout("tidal", 5, notes=notes).index == 2  # a collection without ids
    with pytest.raises(ValueError, match=r"2 notes hold 'ring' \(#3, #4\): type more of one"):
        find_cutout("ring", len(IDS), IDS, RA, DEC, notes=notes)
    assert (
        find_cutout("DES J0002", len(IDS), IDS, notes={0: "DES J0002 is its neighbour"}).how
        == "part of an id"
    )

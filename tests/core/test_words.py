"""The one-line messages about cutouts that could not be read."""

from __future__ import annotations

from galview.core.words import count, unreadable_cutouts


def test_one_unreadable_cutout_is_named_with_its_reason():
    assert unreadable_cutouts({7: "/d/c7.png: is truncated"}) == (
        "1 cutout could not be read and has no score (cutout 7: /d/c7.png: is truncated)"
    )
    assert unreadable_cutouts({3: "cutout 3 has no finite pixel"}, left_out_of="training") == (
        "1 cutout could not be read and was left out of training (cutout 3 has no finite pixel)"
    )


def test_several_are_counted_and_the_first_is_named():
    text = unreadable_cutouts({9: "b", 2: "a", 5: "c"}, left_out_of="the heat maps")
    assert text == "3 cutouts could not be read and were left out of the heat maps (cutout 2: a; and 2 more)"
    assert unreadable_cutouts({1: "x", 4: "y"}).endswith("have no score (cutout 1: x; and 1 more)")
    assert count(1_200, "cutout") == "1,200 cutouts"

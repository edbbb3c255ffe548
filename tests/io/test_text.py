"""Readers hand out valid text, and reasons quoted in errors stay on one line (issue 11)."""

from __future__ import annotations

import os

from galview.io.text import name_text, one_line, stem_text, valid_text


def test_valid_text_keeps_good_text_and_replaces_what_is_not_utf8():
    assert valid_text("ngc 1052 — é") == "ngc 1052 — é"
    assert valid_text(b"ngc\xe9") == "ngc\ufffd"
    assert valid_text(os.fsdecode(b"ngc\xe9\xff")) == "ngc\ufffd\ufffd"  # a file name with surrogate escapes
    assert valid_text("\ud800alone") == "?alone"  # a lone surrogate that is no file-name escape
    assert valid_text(42) == "42"
    for value in (b"\xff", os.fsdecode(b"\xfe.png"), "\udcff"):
        valid_text(value).encode("utf-8")


def test_names_and_stems_of_non_utf8_paths():
    path = os.fsdecode(b"/data/caf\xe9.fits.gz")
    assert name_text(path) == "caf\ufffd.fits.gz"
    assert stem_text(path) == "caf\ufffd.fits"


def test_one_line_collapses_a_multi_line_reason():
    error = ValueError("Card 'NAXIS1' is not FITS standard.\n  Fixed value: 64\n\n  Other problem")
    assert one_line(error) == "Card 'NAXIS1' is not FITS standard. Fixed value: 64 Other problem"
    assert one_line(KeyError()) == "KeyError"
    assert len(one_line(OSError("x" * 1000))) == 200


def test_many_ids_are_checked_at_once_and_each_mended_where_one_is_not_valid_text():
    import numpy as np

    from galview.io.text import valid_texts

    plain = valid_texts(np.array(["J0001", "J0002"]))
    assert plain == ["J0001", "J0002"] and all(type(text) is str for text in plain)
    mended = valid_texts(np.array(["ok", "ngc\udce9.png"]))  # a non-UTF-8 file name among them
    assert mended == ["ok", "ngc\ufffd.png"]
    assert valid_texts([b"x\xff", 7]) == ["x\ufffd", "7"]
    assert valid_texts(["J1", "ngc\udce9.png"]) == ["J1", "ngc\ufffd.png"]  # a list of str, one not valid
    assert valid_texts(["J1", 7]) == ["J1", "7"]

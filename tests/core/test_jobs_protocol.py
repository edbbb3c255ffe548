"""The job protocol's helpers: a reading loop hands the GIL to the window's thread as it goes."""

from __future__ import annotations

from galview.core import jobs


def test_rows_come_through_in_order_with_the_gil_handed_over_every_so_many(monkeypatch):
    handed = []
    monkeypatch.setattr(jobs.time, "sleep", lambda seconds: handed.append(seconds))
    rows = list(jobs.rows_letting_others_run(iter(range(5 * jobs.ROWS_BETWEEN_YIELDS + 7))))
    assert rows == list(range(5 * jobs.ROWS_BETWEEN_YIELDS + 7))
    assert handed == [0] * 5
    assert list(jobs.rows_letting_others_run([])) == []


def test_costlier_rows_hand_the_gil_over_more_often(monkeypatch):
    handed = []
    monkeypatch.setattr(jobs.time, "sleep", lambda seconds: handed.append(seconds))
    assert list(jobs.rows_letting_others_run(range(100), every=32)) == list(range(100))
    assert handed == [0] * 3


def test_kept_photometry_is_read_and_written_handing_the_gil_over(monkeypatch):
    """10,000 fits read in a thread kept the window's thread waiting 0.8–1.3 s without it."""
    from galview.io import photometry_files
    from galview.io.measuring import Calibration
    from galview.io.photometry_files import KeptPhotometry, load_photometry, save_photometry

    handed = []
    monkeypatch.setattr(jobs.time, "sleep", lambda seconds: handed.append(seconds))
    why = {i: "more than half of the cutout's pixels are not numbers (NaN)" for i in range(100)}
    every = 100 // photometry_files.FITS_BETWEEN_YIELDS
    save_photometry("key", KeptPhotometry(Calibration(0, "g", 22.5, None, ("g",)), why))
    assert handed == [0] * 2 * every  # as the lines are made, and as they are written
    assert load_photometry("key", 100).fits == why and len(handed) == 3 * every

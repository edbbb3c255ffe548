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

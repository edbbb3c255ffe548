"""Figures the window saves, drawn by a job: progress, Cancel before anything is written, unreadable
cutouts said."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from galview.core.jobs import Cancelled, CancelToken
from galview.core.mosaic import PAD
from galview.io import open_collection
from galview.io.figure_jobs import CUTOUTS_PER_STEP, write_grid_figure


def _collection(tmp_path, n=70):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "cutouts.npy", rng.integers(0, 255, (n, 16, 16, 3), dtype=np.uint8))
    return open_collection(tmp_path / "cutouts.npy")


def _grid(tmp_path, collection, cutouts, **job):
    ids = [collection.id_of(i) for i in cutouts]
    return write_grid_figure(
        tmp_path / "grid.png", collection, cutouts, None, ids, ["LSBG"] * len(cutouts), None, "p", 10, **job
    )


def test_the_grid_figure_is_drawn_a_chunk_at_a_time_and_written(tmp_path):
    reports = []
    with _collection(tmp_path) as collection:
        cutouts = list(range(0, 70))
        assert _grid(tmp_path, collection, cutouts, on_progress=reports.append) == {}
    assert [p.done for p in reports] == list(range(0, 70, CUTOUTS_PER_STEP)) and reports[0].total == 70
    width, height = Image.open(tmp_path / "grid.png").size
    assert width == PAD + 10 * (128 + PAD) and height > 7 * 128  # ten a row: seven rows


def test_cancel_writes_nothing(tmp_path):
    token = CancelToken()

    def cancel_at(done: int):
        def report(progress) -> None:
            if progress.done == done:
                token.cancel()

        return report

    for done in (CUTOUTS_PER_STEP, 2 * CUTOUTS_PER_STEP):  # while drawing; once all are drawn
        token = CancelToken()
        with _collection(tmp_path) as collection, pytest.raises(Cancelled):
            _grid(tmp_path, collection, list(range(70)), on_progress=cancel_at(done), cancel=token)
        assert not (tmp_path / "grid.png").exists()


def test_cutouts_that_cannot_be_read_are_said_by_their_place_in_the_figure(tmp_path):
    from tests.ml.tiny_models import blob_pngs

    folder, _ = blob_pngs(tmp_path / "pngs", damaged=CUTOUTS_PER_STEP + 3, n=CUTOUTS_PER_STEP + 8)
    with open_collection(folder) as collection:
        cutouts = list(range(len(collection)))[1:]  # the damaged one in the second chunk drawn
        unreadable = _grid(tmp_path, collection, cutouts)
    assert list(unreadable) == [CUTOUTS_PER_STEP + 2]

"""The grid showing a large selection: how long the window's thread takes (offscreen, real window).

Opens a sparse 1,000,000-cutout ``.npy`` (written here: 12 GB of zeros that take no disk space) and times, in the
GUI thread: the state's selection of k cutouts shown by the grid (consecutive in the grid, and scattered),
one more cutout Ctrl-clicked into it (the grid's selection read back into the state), and a new order with
the selection kept (the grid selects its cells again).

    python benchmarks/bench_grid_selection.py [--n 1000000] [--sizes 1000,10000,100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    folder = Path(tempfile.mkdtemp())
    os.environ.setdefault("GALVIEW_HOME", str(folder / "home"))
    from PyQt6.QtCore import QItemSelectionModel
    from PyQt6.QtTest import QTest

    from galview.qt.app import make_app
    from galview.qt.window import MainWindow

    data = folder / "survey.npy"
    np.lib.format.open_memmap(data, mode="w+", dtype=np.uint8, shape=(args.n, 64, 64, 3)).flush()
    make_app()
    window = MainWindow()
    window.resize(1280, 800)
    window.show()
    window.scoring.auto_limit = 0
    window.open_path(data)
    while window.state.collection is None or window.runner.busy:
        QTest.qWait(20)
    state, grid = window.state, window.grid
    rng = np.random.default_rng(0)
    print(
        f"{args.n:,} cutouts, {grid.grid_model.columns} columns; milliseconds in the GUI thread, median of {args.repeat}"
    )
    for k in (int(s) for s in args.sizes.split(",")):
        for how in ("consecutive", "scattered"):
            chosen = (
                np.arange(5, 5 + k) if how == "consecutive" else np.sort(rng.choice(args.n, k, replace=False))
            )
            shown = _median(
                lambda c=chosen: (state.set_selection([]), _ms(lambda: state.set_selection(c)))[1],
                args.repeat,
            )
            extra = int(chosen[-1]) + 2

            def click(extra=extra):
                cell = grid.grid_model.cell_of(extra)
                return _ms(
                    lambda: grid.selectionModel().select(cell, QItemSelectionModel.SelectionFlag.Select)
                )

            clicked = _median(lambda c=chosen: (state.set_selection(c), click())[1], args.repeat)
            assert len(state.selection) == k + 1
            reorder = _median(
                lambda c=chosen: (
                    state.set_sorting(sort="file"),
                    state.set_selection(c),
                    _ms(lambda: state.set_sorting(sort="random")),
                )[2],
                args.repeat,
            )
            state.set_sorting(sort="file")
            print(
                f"{k:>7,} {how:11s}: shown {shown:7.1f}   one more Ctrl-clicked {clicked:7.1f}   new order {reorder:7.1f}"
            )
    window.close()


def _ms(call) -> float:
    started = time.perf_counter()
    call()
    return 1000 * (time.perf_counter() - started)


def _median(measure, repeat: int) -> float:
    return float(np.median([measure() for _ in range(repeat)]))


if __name__ == "__main__":
    main()

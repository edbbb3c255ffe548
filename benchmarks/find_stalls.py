"""Where the window's thread stops answering: a scripted session with a watchdog (offscreen, real window).

A 10 ms timer on the window's thread marks each time the event loop answers; a watchdog thread looks every
10 ms and, while the last mark is older than ``--over`` ms, samples every thread's stack. The session opens
a collection (default: the demo's simulation, scored and explained as a user's window does), browses it,
labels, measures a selection, searches by similarity, sorts by each ranking, exports the labels, shows
the heat maps over the grid, saves a figure, finds suspected label errors, retrains (probe) and opens the
collection again. Printed: each step's worst lateness, then the stacks seen most
often during stalls (the window's thread first). Labels, the retrained version and what GalView keeps
go to temporary folders.

    python benchmarks/find_stalls.py [--data FILE] [--over 100] [--browse 60] [--skip similar,measure,retrain]
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path


class StallWatchdog:
    """Samples every thread's stack while the window's thread has not answered for ``over_s``."""

    def __init__(self, over_s: float):
        self.over_s = over_s
        self.last = time.perf_counter()
        self.samples: collections.Counter = collections.Counter()
        self.worst = 0.0
        self._main = threading.main_thread().ident
        threading.Thread(target=self._watch, daemon=True).start()

    def tick(self) -> None:
        now = time.perf_counter()
        self.worst = max(self.worst, now - self.last)
        self.last = now

    def _watch(self) -> None:
        while True:
            time.sleep(0.01)
            if time.perf_counter() - self.last < self.over_s:
                continue
            for ident, frame in sys._current_frames().items():
                if ident == threading.get_ident():
                    continue
                stack = traceback.extract_stack(frame)[-6:]
                where = " <- ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(stack))
                self.samples[("window" if ident == self._main else "other", where)] += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="a collection (default: the demo's simulation)")
    parser.add_argument("--over", type=float, default=100, help="ms without an answer that count as a stall")
    parser.add_argument("--browse", type=int, default=60, help="cutouts browsed one by one")
    parser.add_argument("--skip", default="", help="steps left out, comma-separated (e.g. similar,measure)")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("GALVIEW_LABEL_STORES", tempfile.mkdtemp())
    os.environ.setdefault("GALVIEW_HOME", tempfile.mkdtemp())  # the retrained version and kept files go there
    from PyQt6.QtCore import QTimer
    from PyQt6.QtTest import QTest
    from PyQt6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

    from galview.qt.app import make_app
    from galview.qt.window import MainWindow

    QInputDialog.getDouble = staticmethod(lambda *a, **k: (22.5, True))  # a zero point, where asked
    QMessageBox.question = staticmethod(lambda *a, **k: QMessageBox.StandardButton.No)
    data = args.data or _demo_file()
    export = Path(tempfile.mkdtemp()) / "labels.csv"
    QFileDialog.getSaveFileName = staticmethod(lambda *a, **k: (str(export), ""))
    make_app()
    dog = StallWatchdog(args.over / 1000)
    timer = QTimer()
    timer.timeout.connect(dog.tick)
    timer.start(10)
    window = MainWindow()
    window.resize(1280, 800)
    window.show()

    def settle(limit_s: float = 600.0) -> None:
        ended = time.perf_counter() + limit_s
        QTest.qWait(100)
        while (window.runner.busy or window.opener.busy) and time.perf_counter() < ended:
            QTest.qWait(20)
        QTest.qWait(300)

    skipped = {word.strip() for word in args.skip.split(",") if word.strip()}

    def timed(name: str, action) -> None:
        if name.split()[0] in skipped:
            return
        dog.worst, dog.last = 0.0, time.perf_counter()
        started = time.perf_counter()
        action()
        settle()
        print(
            f"{name:<34} {time.perf_counter() - started:6.1f} s   worst lateness {1000 * dog.worst:5.0f} ms"
        )

    def browse() -> None:
        for index in range(min(args.browse, window.state.n)):
            window.state.set_current(index)
            QTest.qWait(40)

    def label() -> None:
        for index in range(30):
            window.state.set_current(index)
            window.labelling.label(index % 2)
            QTest.qWait(40)

    def measure() -> None:
        window.state.set_selection(list(range(40)))
        window.measuring.measure()

    def sorts() -> None:
        for name in list(window.state.rankings):
            window.state.set_sorting(sort=name)
            QTest.qWait(150)

    def heat_maps() -> None:
        window.grid_overlay_action.trigger()  # Grad-CAM over every thumbnail shown (its own thread)
        QTest.qWait(3000)
        window.grid_overlay_action.trigger()

    def figure() -> None:
        from galview.qt.grid_export import save_figure

        save_figure(window, export.with_name("grid.png"), window.state.order[:100].tolist())

    def retrain() -> None:
        window.show_retrain()
        panel = window.retrain_dock.widget()
        modes = [panel.mode.itemText(i) for i in range(panel.mode.count())]
        panel.mode.setCurrentIndex(next(i for i, text in enumerate(modes) if text.startswith("probe")))
        panel.retrain_button.click()

    settle()
    timed("start-up (the model loaded)", lambda: None)
    timed("open (background), scored", lambda: window.open_path(data, background=True))
    timed("browse", browse)
    timed("label 30", label)
    timed("measure 40 selected", measure)
    timed("similar to the current cutout", lambda: window.similarity.rank_like_current())
    timed("sort by every ranking", sorts)
    timed("export the labels", lambda: window.labelling.start_export(export))
    timed("heat maps over the grid", heat_maps)
    timed("figure of the first 100", figure)
    timed("suspected label errors", lambda: window.triage.find_suspects())
    timed("retrain (probe)", retrain)
    timed("open again", lambda: window.open_path(data, background=True))
    timed("browse again", browse)
    window.close()
    print(f"\nstacks seen while the window's thread was over {args.over:g} ms late (most often first):")
    for (thread, where), count in sorted(
        dog.samples.items(), key=lambda item: (item[0][0] != "window", -item[1])
    )[:30]:
        print(f"{count:4d} {thread:<6} {where}")


def _demo_file() -> Path:
    from galview.demo import ensure_demo_collection

    return ensure_demo_collection()


if __name__ == "__main__":
    main()

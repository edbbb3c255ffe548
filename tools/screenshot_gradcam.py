"""Render docs/screenshot_gradcam.png: the window on real DES cutouts, Grad-CAM beside a cutout and in the grid.

    QT_QPA_PLATFORM=offscreen python tools/screenshot_gradcam.py [--index 13] [-o docs/screenshot_gradcam.png]

Uses the shipped model (or ``$GALVIEW_MODEL``) and ``../shared/data/des_lsbg/des_lsbg_dev.npz``; the
README shows the result. Under Xvfb it draws the real window the same way.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

DES = Path(__file__).resolve().parents[2] / "shared" / "data" / "des_lsbg" / "des_lsbg_dev.npz"


def wait(app, condition, timeout: float = 120.0) -> None:
    """Run the event loop until ``condition()`` holds (or the timeout)."""
    started = time.monotonic()
    while not condition() and time.monotonic() - started < timeout:
        app.processEvents()
        time.sleep(0.02)


def scored_window(data: Path):
    """(app, window): the real window, 1400×860, on ``data``, once the shipped model has scored it."""
    from galview.qt.app import make_app, window_ready
    from galview.qt.window import MainWindow

    app = make_app()
    window = MainWindow()
    window.resize(1400, 860)
    window.show()
    if not window.open_path(data):
        raise SystemExit(f"could not open {data}: {window.last_error}")
    wait(
        app, lambda: window.state.scores is not None and window.state.scores.complete and window_ready(window)
    )
    return app, window


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DES)
    parser.add_argument("--index", type=int, default=13, help="the cutout shown beside the grid")
    parser.add_argument("-o", "--output", type=Path, default=Path("docs/screenshot_gradcam.png"))
    args = parser.parse_args()

    from galview.qt.app import window_ready

    app, window = scored_window(args.data)
    window.state.set_current(args.index)
    window.grid_overlay_action.trigger()
    wait(app, lambda: window.detail.overlay.heat is not None and window_ready(window))
    wait(app, lambda: False, timeout=1.0)  # let the grid repaint its overlays
    window.grid.viewport().repaint()
    window.grab().save(str(args.output), "PNG")
    print(args.output)
    window.close()


if __name__ == "__main__":
    main()

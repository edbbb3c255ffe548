"""Open a folder of large colour images with the shipped model and accept the offered adapter, with screenshots.

    xvfb-run -a -s "-screen 0 1600x1000x24" python tools/screenshot_adapt.py [--data FOLDER] [--retrain] [-o adapt.png]

On ``../shared/data/gz_decals_rings`` (424×424 PNG) the shipped 64×64 model refuses the cutouts and the
window offers to resize them. Saves the question box (``adapt_question.png``) and the window once the adapted
model has scored the collection and drawn the current cutout's heat map. With ``--retrain``, also retrains
the adapted model on the folder's labels (probe) and saves the window with the Retrain panel's result
(``adapt_retrained.png``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from screenshot_gradcam import wait

RINGS = Path(__file__).resolve().parents[2] / "shared" / "data" / "gz_decals_rings"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=RINGS)
    parser.add_argument("--retrain", action="store_true", help="also retrain on the folder's labels")
    parser.add_argument("-o", "--output", type=Path, default=Path("adapt.png"))
    args = parser.parse_args()

    from galview.qt.app import make_app, window_ready
    from galview.qt.window import MainWindow

    app = make_app()
    window = MainWindow()
    window.resize(1400, 860)
    window.show()
    window.open_path(args.data)
    wait(app, lambda: window.adapting.box is not None or window.state.scores is not None, 120)
    if window.adapting.box is None:  # e.g. FITS with a pixel scale: adapted without a question
        print("no adapter was offered:", window.statusBar().currentMessage())
        window.close()
        raise SystemExit(1)
    wait(app, lambda: False, 1.0)
    question = args.output.with_name(args.output.stem + "_question" + args.output.suffix)
    window.adapting.box.grab().save(str(question))
    print(question, "|", window.adapting.box.text().replace("\n", " "))
    window.adapting.answer(True)
    wait(app, lambda: window.state.scores is not None and window.state.scores.complete, 120)
    wait(app, lambda: window.detail.overlay.heat is not None and window_ready(window), 60)
    wait(app, lambda: False, 1.0)
    window.grab().save(str(args.output))
    print(args.output, "|", window.statusBar().currentMessage(), "|", window.detail.overlay.caption.text())
    if args.retrain:
        _retrain(app, window, args.output.with_name(args.output.stem + "_retrained" + args.output.suffix))
    window.close()


def _retrain(app, window, output: Path) -> None:
    """Model ▸ Retrain… with the default (probe) recipe; the window once the result is shown."""
    window.show_retrain()
    panel = window.retrain_panel
    panel.retrain_button.click()
    wait(app, lambda: panel.agreement_label.text() != "", 300)
    wait(app, lambda: not window.runner.busy, 120)
    wait(app, lambda: False, 1.0)
    window.grab().save(str(output))
    print(output, "|", panel.verdict_label.text(), "|", panel.change_label.text())


if __name__ == "__main__":
    main()

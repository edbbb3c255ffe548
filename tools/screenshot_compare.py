"""Drive the real window through retrain → use → compare with the shipped model, timed, with a screenshot.

    GALVIEW_HOME=/tmp/gvhome xvfb-run -a -s "-screen 0 1600x1000x24" python tools/screenshot_compare.py [-o compare.png]

On ``../shared/data/des_lsbg/des_lsbg_dev.npz`` with the shipped model: Retrain (the default recipe), Use
this model, then Model ▸ Retrained versions ▸ Compare the active model with ▸ The shipped model. Prints
the time from the menu to the filled panel and the panel's texts; saves the window, grid sorted by the
cutouts that change class, then with the compared model's map (B) and with both maps side by side
(Shift+B). Use a scratch ``GALVIEW_HOME``: the retrained version is written there.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from screenshot_gradcam import DES, scored_window, wait


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DES)
    parser.add_argument("-o", "--output", type=Path, default=Path("compare.png"))
    parser.add_argument("--index", type=int, help="the cutout shown beside the grid (default: the first)")
    args = parser.parse_args()

    from galview.core.retrain_compare import FLIPPED

    app, window = scored_window(args.data)
    window.show_retrain()
    window.retrain_panel.retrain_button.click()
    wait(app, lambda: window.retraining.comparison is not None and not window.runner.busy, 300)
    parent = window.retraining.parent_model
    window.retrain_panel.use_button.click()
    wait(app, lambda: not window.runner.busy and window.state.model.path != parent.path, 60)

    window.versions.fill()
    window.versions._fill_compare()
    shipped = [a for a in window.versions.compare_menu.actions() if a.text() == "The shipped model"]
    if not shipped:
        raise SystemExit("the shipped model is not in the Compare menu")
    started = time.perf_counter()
    shipped[0].trigger()
    wait(app, lambda: window.retraining.comparison is not None and not window.runner.busy, 300)
    print(f"compared in {time.perf_counter() - started:.1f} s (load, score, compare)")
    panel = window.retrain_panel
    for label in (panel.metrics_label, panel.change_label, panel.agreement_label):
        print(label.text())
    window.state.set_sorting(sort=FLIPPED)
    if args.index is not None:
        window.state.set_current(args.index)
    wait(app, lambda: False, 1.5)
    window.grab().save(str(args.output))
    print(args.output)
    window.compared_map_action.trigger()  # Explain ▸ Map of the compared model (B)
    wait(app, lambda: window.explaining.heatmaps.get(window.state.current, request=False) is not None, 60)
    wait(app, lambda: False, 1.0)
    other = args.output.with_name(args.output.stem + "_other_map" + args.output.suffix)
    window.grab().save(str(other))
    print(other, window.detail.overlay.caption.text())
    window.both_maps_action.trigger()  # Explain ▸ Both models' maps side by side (Shift+B)
    second = window.explaining.second
    wait(app, lambda: second.get(window.state.current, request=False) is not None, 60)
    wait(app, lambda: False, 1.0)
    both = args.output.with_name(args.output.stem + "_both_maps" + args.output.suffix)
    window.grab().save(str(both))
    print(both, window.detail.overlay.caption.text(), "|", window.detail.overlay_b.caption.text())
    window.close()


if __name__ == "__main__":  # the retraining child process starts by spawn: it must not rerun this
    main()

"""Render docs/screenshot_labelling.png: the real DES cutouts sorted by suspected label errors, ready to relabel.

    GALVIEW_HOME=/tmp/gvhome QT_QPA_PLATFORM=offscreen python tools/screenshot_labelling.py
        [-o docs/screenshot_labelling.png]

Opens ``../shared/data/des_lsbg/des_lsbg_dev.npz`` with the shipped model, sorts the grid by suspected label
errors (computed in the background), relabels the sixth suspect as a person would (its thumbnail gets the
white ring of a label set in GalView), selects the first three for one key, and saves the window. Use a
scratch ``GALVIEW_HOME``: the label store is written there, since GalView leaves the read-only shared data
folder alone (:func:`galview.io.label_paths.store_path_for`, even when run as root).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from screenshot_gradcam import DES, scored_window, wait


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=Path("docs/screenshot_labelling.png"))
    args = parser.parse_args()

    app, window = scored_window(DES)
    window.state.set_sorting(sort="suspects")
    wait(app, lambda: "suspects" in window.state.rankings and not window.runner.busy, 300)
    order = window.state.order
    sixth = int(order[5])
    old = int(window.state.labels[sixth])
    window.labelling.label(1 - old, [sixth])  # the person's call on the sixth suspect
    window.state.set_current(int(order[0]))
    window.state.select_first(3)
    wait(app, lambda: False, 1.5)
    window.grab().save(str(args.output))
    print(f"relabelled cutout {sixth} from {old} to {1 - old}; {window.statusBar().currentMessage()}")
    print(args.output)
    window.close()


if __name__ == "__main__":
    main()

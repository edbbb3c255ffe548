"""Render docs/screenshot_inspectors.png: three inspectors' labels of the real DES cutouts, split votes first.

    GALVIEW_HOME=/tmp/gvhome QT_QPA_PLATFORM=offscreen python tools/screenshot_inspectors.py
        [-o docs/screenshot_inspectors.png]

Opens ``../shared/data/des_lsbg/des_lsbg_dev.npz`` with the shipped model and names its classes. Three
made-up inspectors label it as the file does with some answers changed at random (12–15%, seeded): "you"
all 112 in the window's store, bob and carol most of them in their own stores in a temporary folder. Then
Labels ▸ Compare with other inspectors' labels… takes both stores, and the window is saved. Use a scratch
``GALVIEW_HOME``: your store is written there (GalView leaves the read-only shared data folder alone).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
from screenshot_gradcam import DES, scored_window, wait


def changed(labels: np.ndarray, share: float, seed: int) -> np.ndarray:
    """``labels`` with about ``share`` of them given the other class."""
    flip = np.random.default_rng(seed).random(len(labels)) < share
    return np.where(flip, 1 - labels, labels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=Path("docs/screenshot_inspectors.png"))
    args = parser.parse_args()
    from galview.io.label_store import open_label_store

    app, window = scored_window(DES)
    window.label_menu.set_class_names("artifact, LSBG")
    truth = np.asarray(window.state.collection.labels, dtype=np.int64)
    window.labelling.session.label_each(
        dict(enumerate(changed(truth, 0.12, 1).tolist())), "made up for the screenshot"
    )
    with tempfile.TemporaryDirectory() as folder:
        stores = []
        for name, seed, cutouts in (("bob", 2, range(12, 112)), ("carol", 3, range(0, 90))):
            stores.append(Path(folder) / f"{name}.labels.sqlite")
            values = changed(truth, 0.13, seed)
            with open_label_store(window.state.collection, stores[-1]) as store:
                store.set_many([(i, int(values[i])) for i in cutouts], user=name)
        window.inspector.compare_with(*stores)
        wait(app, lambda: window.state.sorting.sort == "inspector" and not window.runner.busy, 30.0)
        window.state.set_current(int(window.state.order[6]))
        wait(app, lambda: False, 2.0)
        window.grab().save(str(args.output))
        print(window.statusBar().currentMessage())
    print(args.output)
    window.close()


if __name__ == "__main__":
    main()

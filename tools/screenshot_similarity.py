"""Render docs/screenshot_similarity.png: the demo survey ranked by similarity to one simulated LSBG.

    GALVIEW_HOME=/tmp/gvhome QT_QPA_PLATFORM=offscreen python tools/screenshot_similarity.py
        [--space morphology] [--index I] [-o docs/screenshot_similarity.png]

Opens the demo collection (simulated with this GalView's simulator, made on first use) with the shipped
model, ranks it by similarity to cutout ``--index`` (default: the first LSBG the model calls one with
p > 0.8, a clear example) in ``--space``, and saves the
window with the grid at the top of the ranking and the best other match in the detail view, the
reference pinned beside it. Prints how many of the ten nearest other cutouts are
LSBGs, for the README's caption.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from screenshot_gradcam import scored_window, wait


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--space", default="morphology", choices=("pixel", "embedding", "morphology"))
    parser.add_argument("--index", type=int, help="the reference cutout (default: the first clear LSBG)")
    parser.add_argument("-o", "--output", type=Path, default=Path("docs/screenshot_similarity.png"))
    args = parser.parse_args()

    from galview.demo import ensure_demo_collection

    app, window = scored_window(ensure_demo_collection())
    labels = np.asarray(window.state.collection.labels)
    probs = np.asarray(window.state.scores.probs)[:, 0]
    clear = np.flatnonzero((labels == 1) & (probs > 0.8))
    reference = args.index if args.index is not None else int(clear[0])
    window.similarity.set_space(args.space)
    window.state.set_current(reference)
    if not window.similarity.rank_like_current():
        raise SystemExit("the similarity search could not start")
    wait(app, lambda: window.state.ranking("similar") is not None and not window.runner.busy, 300)
    result = window.similarity.result
    nearest = [i for i in result.top(11) if i != reference][:10]
    window.state.set_current(nearest[0])  # the best other match, beside the pinned reference
    wait(app, lambda: False, 1.5)
    window.grab().save(str(args.output))
    print(
        f"reference #{reference} ({args.space}): {int((labels[nearest] == 1).sum())} of the 10 nearest are LSBGs"
    )
    print(args.output)
    window.close()


if __name__ == "__main__":
    main()

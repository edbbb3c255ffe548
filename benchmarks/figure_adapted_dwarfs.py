"""The 12 Legacy Survey dwarfs through the shipped model, before and after the physical adapter (issue 11).

    python benchmarks/figure_adapted_dwarfs.py [--model models/deepshadows_des_sim.keras]
        [--figure docs/adapted_dwarfs.png]

Prints a markdown table of P(LSBG) per dwarf: before (the old way in, a plain bilinear resize of the
float nanomaggies: ``--resize``, now refused), after (the physical adapter, as ``galview score`` and the
window apply it), and the mean over the 8 flips and quarter turns of the adapted cutout (how much the
call depends on orientation). Writes a figure: each dwarf as GalView displays it by default (asinh,
99.5% interval, Lupton colours; turned north up, the 30″ field the model sees outlined) beside its adapted
64×64 cutout, and a row of real DES viewer cutouts for comparison. The dwarfs' labels (all LSB dwarfs)
are not used to choose anything.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from galview.core.display import default_settings, render
from galview.io import open_collection
from galview.ml.adapt import adapt_for
from galview.ml.inputs import make_adapter, model_input
from galview.ml.loading import load_model
from galview.ml.physical import apply_physical
from galview.ml.scoring import score_batches

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
TILE, GAP, CAPTION = 192, 6, 16


def before(loaded, collection, cutouts: np.ndarray) -> np.ndarray:
    """P(LSBG) the old way: float fluxes resized to 64×64 and divided by 255 (what ``--resize`` did)."""
    spec = loaded.card.input
    resize = dataclasses.replace(spec, adapter=make_adapter(collection.shape, spec, resize=True))
    return loaded.model.predict(model_input(cutouts, resize), verbose=0)[:, 0]


def dihedral_mean(loaded, adapted: np.ndarray) -> np.ndarray:
    """Mean P(LSBG) over the 8 flips and quarter turns of each adapted (N, 64, 64, 3) cutout."""
    views = [np.rot90(adapted, k, axes=(1, 2)) for k in range(4)]
    views += [v[:, :, ::-1] for v in views]
    x = np.concatenate([model_input(np.ascontiguousarray(v), loaded.card.input) for v in views])
    return loaded.model.predict(x, verbose=0)[:, 0].reshape(8, -1).mean(axis=0)


def tile(image: np.ndarray) -> Image.Image:
    """A TILE × TILE image: nearest-neighbour up (64 → 192), area-averaged down (256 → 192)."""
    filter_ = Image.Resampling.NEAREST if image.shape[0] <= TILE else Image.Resampling.BOX
    return Image.fromarray(np.ascontiguousarray(image)).resize((TILE, TILE), filter_)


def original_tile(cutout: np.ndarray, bands, adapter: dict) -> Image.Image:
    """GalView's default rendering, turned like the adapted cutout, the model's field outlined."""
    rgb = render(cutout, default_settings(cutout.dtype, cutout.shape[2]), bands=bands)
    step = adapter["physical"]
    if step["flip_rows"]:
        rgb = rgb[::-1]
    if step["flip_cols"]:
        rgb = rgb[:, ::-1]
    image = tile(rgb)
    half = step["field_arcsec"] / adapter["from"]["pixel_scale"] / cutout.shape[0] * TILE / 2
    box = (TILE / 2 - half, TILE / 2 - half, TILE / 2 + half, TILE / 2 + half)
    ImageDraw.Draw(image).rectangle(box, outline=(255, 255, 0))
    return image


def figure(path: Path, originals: list, adapted: np.ndarray, captions: list[str], des: np.ndarray) -> Path:
    per_row = 3  # pairs
    pair_w = 2 * TILE + GAP
    width = per_row * (pair_w + 3 * GAP) + GAP
    rows = -(-len(originals) // per_row)
    height = (rows + 1) * (CAPTION + TILE + GAP) + GAP
    canvas = Image.new("RGB", (width, height), (255, 255, 255))
    draw, font = ImageDraw.Draw(canvas), ImageFont.load_default()
    for k, (original, caption) in enumerate(zip(originals, captions, strict=True)):
        left = GAP + (k % per_row) * (pair_w + 3 * GAP)
        top = GAP + (k // per_row) * (CAPTION + TILE + GAP)
        draw.text((left, top + 2), caption, fill=(0, 0, 0), font=font)
        canvas.paste(original, (left, top + CAPTION))
        canvas.paste(tile(adapted[k]), (left + TILE + GAP, top + CAPTION))
    top = GAP + rows * (CAPTION + TILE + GAP)
    draw.text((GAP, top + 2), "real DES viewer cutouts (des_lsbg_dev.npz), for comparison", fill=(0, 0, 0))
    for k, cutout in enumerate(des[: (width - GAP) // (TILE + GAP)]):
        canvas.paste(tile(cutout), (GAP + k * (TILE + GAP), top + CAPTION))
    path.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(path)
    return path


def print_statistics(adapted: np.ndarray, des: np.ndarray) -> None:
    """Median background level and noise per channel (border ring, grey levels), adapted dwarfs vs DES."""
    from galview.sim.realism import image_statistics

    ours, theirs = image_statistics(adapted), image_statistics(des)
    print("\n| median, R/G/B | adapted dwarfs | real DES viewer cutouts |\n|---|---|---|")
    for key in ("background", "noise"):
        a, b = (" / ".join(f"{v:.1f}" for v in np.median(s[key], axis=0)) for s in (ours, theirs))
        print(f"| {key} | {a} | {b} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "deepshadows_des_sim.keras")
    parser.add_argument("--figure", type=Path, default=ROOT / "docs" / "adapted_dwarfs.png")
    args = parser.parse_args()
    loaded = load_model(args.model)
    started = time.perf_counter()
    with open_collection(DATA / "legacy_dwarfs") as collection:
        cutouts = collection.get_batch(np.arange(len(collection)))
        ids = [collection.id_of(i) for i in range(len(collection))]
        p_before = before(loaded, collection, cutouts)
        p_after = np.concatenate([b.probs[:, 0] for b in score_batches(loaded, collection)])
        adapted_model, note = adapt_for(loaded, collection)
        adapter = adapted_model.card.input.adapter
        adapted = apply_physical(cutouts, adapter)
        originals = [original_tile(c, collection.bands, adapter) for c in cutouts]
    p_turned = dihedral_mean(loaded, adapted)
    print(f"adapter: {note}\n")
    print("| dwarf | before (resize) | after (physical adapter) | after, mean of 8 flips/turns |")
    print("|---|---|---|---|")
    for row in zip(ids, p_before, p_after, p_turned, strict=True):
        print(f"| {row[0]} | {row[1]:.4f} | {row[2]:.4f} | {row[3]:.4f} |")
    for name, p in (("before", p_before), ("after", p_after), ("after, 8-view mean", p_turned)):
        print(
            f"\n{name}: {int((p > 0.5).sum())} of {len(p)} called LSBG (p > 0.5), range {p.min():.4f}–{p.max():.4f}"
        )
    des = np.load(DATA / "des_lsbg" / "des_lsbg_dev.npz")
    print_statistics(adapted, des["images"])
    picks = np.flatnonzero(des["labels"] == 1)[::9][:6]
    captions = [f"{i}  before {b:.3f}  after {a:.3f}" for i, b, a in zip(ids, p_before, p_after, strict=True)]
    out = figure(args.figure, originals, adapted, captions, des["images"][picks])
    print(f"\n{out} ({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()

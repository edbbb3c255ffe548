"""LEDA 074886 as the reference over a simulated DES-like collection: its best matches and their truth (issue 13).

    python benchmarks/figure_leda_matches.py [--n 2000] [--seed 74886] [--top 6]
        [--spaces pixel,morphology,embedding] [--figure docs/leda_matches.png]

Simulates ``--n`` DES-like cutouts with this GalView's simulator (cached under bench_data/), brings the
50×50 reference image of LEDA 074886 (``../shared/data/leda074886``; relative intensity recovered from a
published figure, its centre hole masked) to the cutouts as ``galview similar --reference FILE
--mask-centre 5`` does, ranks the collection in each space with the reference's 8 orientations, and
prints the truth of the best matches (kind, μ0 and ⟨μ⟩_eff in g, r_eff, Sérsic n, axis ratio). The
reference's own axis ratio is measured from its image moments; its published figures are quoted.
Writes a figure: per space, the reference as compared and its best matches, each with its truth.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

import h5py
import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[1]
LEDA = ROOT.parent / "shared" / "data" / "leda074886" / "leda074886_50px.fits"
TILE, GAP, CAPTION, LINE = 160, 6, 30, 12
#: What the discovery paper says (Graham et al. 2012, ApJ 750, 121), for the figure's header.
PUBLISHED = (
    "LEDA 074886 (Graham et al. 2012): a dwarf at 21 Mpc, M_R = -17.3; an embedded edge-on disc "
    '2 R_e,disk = 12" (1.2 kpc); very boxy isophotes, a4/a = -0.05 to -0.08 at 3-5 kpc'
)
TRUTH = ("kind", "label", "mu0_g", "mu_eff_g", "r_eff", "sersic_n", "axis_ratio")


def simulation(n: int, seed: int) -> Path:
    """The cached DES-like simulation of ``n`` cutouts and ``seed``, written first if missing."""
    from galview.sim import SIMULATOR_VERSION
    from galview.sim.generate import write_simulation
    from galview.sim.surveys import DES

    path = ROOT / "bench_data" / f"leda_des_sim{SIMULATOR_VERSION}_{n}_seed{seed}.h5"
    if not path.is_file():
        path.parent.mkdir(exist_ok=True)
        write_simulation(path, DES, n, seed)
    return path


def truth_table(path: Path) -> dict[str, np.ndarray]:
    with h5py.File(path, "r") as handle:
        return {name: handle["truth"][name][:] for name in TRUTH}


def axis_ratio(image: np.ndarray, mask_radius: float) -> float:
    """b/a of the reference from the second moments of its light above the median, the centre hole filled."""
    from galview.core.reference import centre_mask, fill_masked

    x = image.astype(np.float64)
    x = x[..., None] if x.ndim == 2 else x
    x = fill_masked(x, centre_mask(x.shape[:2], mask_radius)).mean(axis=2)
    weights = np.clip(x - np.median(x), 0, None)
    yy, xx = np.indices(x.shape, dtype=np.float64)
    total = weights.sum()
    yc, xc = (weights * yy).sum() / total, (weights * xx).sum() / total
    cov = np.cov(np.vstack([(xx - xc).ravel(), (yy - yc).ravel()]), aweights=weights.ravel())
    small, large = np.linalg.eigvalsh(cov)
    return float(np.sqrt(small / large))


def ranked(space_name: str, collection, reference, model: Path | None):
    """The similarity result of ``reference`` over ``collection`` in one space (8 orientations)."""
    from galview.core.similarity_job import rank_by_similarity
    from galview.spaces import make_space

    if space_name == "embedding":
        from galview.assets import default_model_path
        from galview.ml.loading import load_model

        space = make_space(
            "embedding", loaded=load_model(model or default_model_path()), collection=collection
        )
    else:
        space = make_space(space_name)
    return rank_by_similarity(collection, space, [reference], orientations=True)


def summary_row(space_name: str, subset: str, truth: dict, top: list[int], scores: np.ndarray) -> str:
    """One markdown row: what the 10 nearest are, by their truth."""
    lsbg = truth["label"][top] == 1
    kinds = Counter(_kind(truth, i) for i in top)
    kinds_text = ", ".join(f"{k} {v}" for k, v in sorted(kinds.items(), key=lambda kv: -kv[1]))

    def median(column: str, chosen: np.ndarray) -> str:
        values = truth[column][top][chosen]
        return f"{np.nanmedian(values):.2f}" if np.isfinite(values).any() else "—"

    return (
        f"| {space_name} | {subset} | {int(lsbg.sum())} | {kinds_text} | {median('axis_ratio', np.ones_like(lsbg))} "
        f"| {median('r_eff', lsbg)}″ | {median('sersic_n', lsbg)} | {median('mu0_g', lsbg)} "
        f"| {scores[top[0]]:.3f} / {scores[top[-1]]:.3f} |"
    )


def _kind(truth: dict, i: int) -> str:
    kind = truth["kind"][i]
    return kind.decode() if isinstance(kind, bytes) else str(kind)


def caption(truth: dict, i: int, score: float) -> tuple[str, str]:
    kind = _kind(truth, i)
    first = f"#{i} sim {score:.3f} {kind}"
    if kind == "lsbg":
        second = f'mu0 {truth["mu0_g"][i]:.1f} re {truth["r_eff"][i]:.1f}" n {truth["sersic_n"][i]:.1f} q {truth["axis_ratio"][i]:.2f}'
    elif np.isfinite(truth["r_eff"][i]):
        q = truth["axis_ratio"][i]
        second = f'r_e {truth["r_eff"][i]:.1f}"' + (f" q {q:.2f}" if np.isfinite(q) else "")
    else:
        second = ""
    return first, second


def tile(image: np.ndarray) -> Image.Image:
    return Image.fromarray(np.ascontiguousarray(image)).resize((TILE, TILE), Image.Resampling.NEAREST)


def figure(path: Path, rows: list, reference_rgb: np.ndarray, header: list[str]) -> Path:
    top_k = max(len(r[1]) for r in rows)
    width = GAP + (top_k + 1) * (TILE + GAP)
    head = LINE * len(header) + GAP
    height = head + len(rows) * (LINE + TILE + CAPTION + GAP) + GAP
    canvas = Image.new("RGB", (width, height), (255, 255, 255))
    draw, font = ImageDraw.Draw(canvas), ImageFont.load_default()
    for k, text in enumerate(header):
        draw.text((GAP, GAP + k * LINE), text, fill=(0, 0, 0), font=font)
    for r, (title, tiles) in enumerate(rows):
        top = head + r * (LINE + TILE + CAPTION + GAP)
        draw.text((GAP, top), title, fill=(0, 0, 0), font=font)
        canvas.paste(tile(reference_rgb), (GAP, top + LINE))
        draw.text((GAP, top + LINE + TILE + 2), "the reference, as compared", fill=(0, 0, 0), font=font)
        for k, (image, lines) in enumerate(tiles):
            left = GAP + (k + 1) * (TILE + GAP)
            canvas.paste(tile(image), (left, top + LINE))
            for j, text in enumerate(lines):
                draw.text((left, top + LINE + TILE + 2 + j * LINE), text, fill=(0, 0, 0), font=font)
    path.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=74886)
    parser.add_argument("--top", type=int, default=6, help="matches shown per space")
    parser.add_argument("--mask-centre", type=float, default=5.0, help="radius of the reference's hole, px")
    parser.add_argument("--spaces", default="pixel,morphology,embedding")
    parser.add_argument("--figure-spaces", default="pixel,morphology", help="the spaces drawn in the figure")
    parser.add_argument("--model", type=Path, help="for the embedding (default: the shipped model)")
    parser.add_argument("--figure", type=Path, default=ROOT / "docs" / "leda_matches.png")
    args = parser.parse_args()

    from galview.core.reference import prepare_reference
    from galview.io import open_collection
    from galview.io.reference_files import read_reference

    started = time.perf_counter()
    path = simulation(args.n, args.seed)
    truth = truth_table(path)
    image, name = read_reference(LEDA)
    q_reference = axis_ratio(np.asarray(image), args.mask_centre)
    rows, summary, shown_spaces = [], [], args.figure_spaces.split(",")
    with open_collection(path) as collection:
        reference = prepare_reference(
            image, name, collection.shape, collection.dtype, collection.bands, args.mask_centre, source=LEDA
        )
        for space_name in args.spaces.split(","):
            result = ranked(space_name, collection, reference, args.model)
            order = np.argsort(-result.scores, kind="stable")
            lsbgs = order[truth["label"][order] == 1]
            for subset, chosen in (("all", order), ("LSBGs only", lsbgs)):
                top = [int(i) for i in chosen[:10]]
                summary.append(summary_row(space_name, subset, truth, top, result.scores))
                if space_name in shown_spaces:
                    tiles = [
                        (collection.get(i), caption(truth, i, result.scores[i])) for i in top[: args.top]
                    ]
                    what = (
                        f"of the {args.n} simulated DES-like cutouts"
                        if subset == "all"
                        else "simulated LSBGs"
                    )
                    rows.append((f"{space_name}: the {args.top} most similar {what}", tiles))
        rows.sort(key=lambda row: "LSBGs" in row[0])  # every space on all cutouts first, then on LSBGs only
    print(f"reference: {'; '.join(reference.steps)}")
    print(f"reference axis ratio (image moments, centre filled): {q_reference:.2f}\n")
    print(
        "| space | among | LSBGs in the 10 nearest | kinds of the 10 | median q = b/a | median r_eff, LSBGs "
        "| median n, LSBGs | median μ0(g), LSBGs | similarity 1st / 10th |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(summary))
    lsbg = truth["label"] == 1
    print(
        f"\ncollection: {args.n} cutouts, {lsbg.mean():.0%} LSBGs; its LSBGs' medians: q "
        f"{np.nanmedian(truth['axis_ratio'][lsbg]):.2f}, r_eff {np.nanmedian(truth['r_eff'][lsbg]):.2f}″, "
        f"n {np.nanmedian(truth['sersic_n'][lsbg]):.2f}, μ0(g) {np.nanmedian(truth['mu0_g'][lsbg]):.2f}"
    )
    header = [
        PUBLISHED,
        f"Reference: 50x50 relative intensity from the discovery figure, centre hole masked (r = {args.mask_centre:g} px); "
        f"axis ratio from its moments {q_reference:.2f}. Truth under each match: mu0(g) mag/arcsec2, r_eff, Sersic n, q = b/a.",
    ]
    shown = np.clip(np.nan_to_num(reference.image), 0, 255).astype(np.uint8)
    written = figure(args.figure, rows, shown, header)
    print(f"{written} ({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()

"""The ``self-supervised`` similarity space (issue 13) on real ring galaxies, against baselines, in one run.

    python benchmarks/bench_contrastive.py [--seeds 0] [--epochs 30] [--variants real,centre,sim]
                                           [--sim-n 2000] [--pre-epochs 3]

Data: the 100 Galaxy Zoo DECaLS galaxies of ../shared/data/gz_decals_rings (424×424 RGB PNG, 50 rings).
Every encoder is trained on the images only; ``labels.csv`` is read only to score the spaces.
Figure of merit: for each ring, the fraction of rings among its 10 nearest neighbours by cosine
similarity (itself left out), averaged over the 50 rings (0.5 = chance; the issue's goal is 0.8).

Spaces, all in the same run:

- ``pixels``: grey (mean of the bands) cutouts resized to 32×32, raw values; also the central 60%.
- ``untrained encoder``: the encoder's random initial weights (what the architecture alone gives).
- ``real`` (variant): SimCLR on the 100 real images with GalView's defaults (whole cutout).
- ``centre`` (variant): the same on the central 60% of each cutout's side (``field=0.6``; work on
  survey cutouts trains on central crops of larger cutouts; 0.6 is a round value, not tuned); the
  only setting changed.
- ``sim`` (variant): pretrained on ``--sim-n`` DES-like simulations of GalView's own
  (``galview simulate --survey des``, cached in bench_data/), then trained on the real images as
  ``centre``, starting from those weights (``init=``).

Results are printed and written as JSON in bench_data/.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from galview.io import open_collection
from galview.ml.contrastive import EncoderSettings, encode, train_encoder
from galview.ml.contrastive_model import build_encoder

ROOT = Path(__file__).resolve().parents[1]
RINGS = ROOT.parent / "shared" / "data" / "gz_decals_rings"
CACHE = ROOT / "bench_data"
K = 10
CENTRE = 0.6


def ring_precision(embeddings: np.ndarray, labels: np.ndarray, k: int = K) -> float:
    """Mean fraction of rings among the ``k`` nearest neighbours (cosine) of each ring, itself excluded.

    Parameters
    ----------
    embeddings : ndarray, shape (N, D)
    labels : ndarray of int, shape (N,)
        1 for a ring, 0 otherwise.
    """
    unit = embeddings / np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-12)
    similarity = unit @ unit.T
    np.fill_diagonal(similarity, -np.inf)
    rings = np.flatnonzero(labels == 1)
    nearest = np.argsort(-similarity[rings], axis=1, kind="stable")[:, :k]
    return float((labels[nearest] == 1).mean())


def pixel_space(images: np.ndarray, field: float = 1.0, size: int = 32) -> np.ndarray:
    """Grey cutouts (mean of the bands), central ``field`` of the side, resized to ``size``², flattened."""
    grey = images.astype(np.float32).mean(axis=-1, keepdims=True)
    from galview.ml.contrastive_views import centre_crop, resize

    return resize(np.ascontiguousarray(centre_crop(grey, field)), size).reshape(len(images), -1)


def simulations(n: int, seed: int = 13) -> Path:
    """DES-like simulations of GalView's own (cached in bench_data/)."""
    from galview.sim.generate import write_simulation
    from galview.sim.surveys import SURVEYS

    path = CACHE / f"des_sim_{n}_seed{seed}.h5"
    if not path.is_file():
        CACHE.mkdir(exist_ok=True)
        write_simulation(path, SURVEYS["des"], n, seed, workers=2)
    return path


def train_variant(variant: str, images, folder: Path, seed: int, args) -> tuple[Path, dict]:
    """Train one variant's encoder on the real images; (its path, {phase: seconds})."""
    field = 1.0 if variant == "real" else CENTRE
    times, init = {}, None
    if variant == "sim":
        sims = open_collection(simulations(args.sim_n))
        started = time.monotonic()
        init = train_encoder(sims, folder / f"pre{seed}", epochs=args.pre_epochs, batch_size=64, seed=seed)
        times["pretrain on simulations"] = time.monotonic() - started
    started = time.monotonic()
    path = train_encoder(images, folder / f"{variant}{seed}", epochs=args.epochs, batch_size=50, seed=seed,
                         settings=EncoderSettings(field=field), init=init)  # fmt: skip
    times["train on the 100 real"] = time.monotonic() - started
    return path, times


def baselines(images: np.ndarray, labels: np.ndarray, seeds: list[int]) -> dict[str, list[float]]:
    """Pixel spaces and the untrained encoder (one per seed)."""
    import keras

    scores = {
        "pixels, grey 32×32": [ring_precision(pixel_space(images), labels)],
        f"pixels, grey 32×32, central {CENTRE:.0%}": [ring_precision(pixel_space(images, CENTRE), labels)],
        "untrained encoder": [],
    }
    for seed in seeds:
        keras.utils.set_random_seed(seed)
        settings = EncoderSettings()
        scores["untrained encoder"].append(
            ring_precision(
                encode(build_encoder(settings.size, 3, settings.embedding_dim, settings.width), images),
                labels,
            )  # fmt: skip
        )
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="0", help="comma-separated seeds")
    parser.add_argument("--epochs", type=int, default=30, help="epochs on the real images")
    parser.add_argument("--variants", default="real,centre,sim")
    parser.add_argument("--sim-n", type=int, default=2000)
    parser.add_argument("--pre-epochs", type=int, default=3, help="epochs of pretraining on simulations")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    started = time.monotonic()
    collection = open_collection(RINGS)
    labels = np.asarray(collection.labels, dtype=np.int64)
    images = collection.get_batch(np.arange(len(collection)))
    scores, times = baselines(images, labels, seeds), {}
    with tempfile.TemporaryDirectory() as tmp:
        for variant in args.variants.split(","):
            for seed in seeds:
                path, phases = train_variant(variant, collection, Path(tmp), seed, args)
                scores.setdefault(f"self-supervised: {variant}", []).append(
                    ring_precision(encode(path, collection), labels)
                )
                for phase, seconds in phases.items():
                    times.setdefault(f"{variant}: {phase}", []).append(seconds)
    report(scores, times, args, time.monotonic() - started, len(images), int(labels.sum()))


def report(scores: dict, times: dict, args, total: float, n: int, n_rings: int) -> None:
    """Print the table and write it as JSON in bench_data/."""
    print(f"{n} real galaxies ({n_rings} rings); precision of rings among the {K} nearest neighbours "
          f"of each ring (chance {n_rings / n:.2f}); seeds {args.seeds}, {args.epochs} epochs")  # fmt: skip
    for name, values in scores.items():
        spread = (
            f" ± {np.std(values):.3f} (seeds: {', '.join(f'{v:.3f}' for v in values)})"
            if len(values) > 1
            else ""
        )
        print(f"  {name:<45} {np.mean(values):.3f}{spread}")
    for name, values in times.items():
        print(f"  time, {name:<45} {np.mean(values):6.1f} s")
    print(f"  whole benchmark: {total:.0f} s")
    CACHE.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = CACHE / f"bench_contrastive_{stamp}.json"
    out.write_text(
        json.dumps({"args": vars(args), "scores": scores, "seconds": times, "total_s": total}, indent=2)
    )
    print(f"  written {out}")


if __name__ == "__main__":
    main()

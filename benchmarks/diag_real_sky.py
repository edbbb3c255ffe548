"""Issue 14's real-sky lever, as a diagnostic: simulated candidates injected into real Legacy Survey sky.

    REALSKY_SHARE=0.5 [REALSKY_COMMON=1] [REALSKY_FIELD=1] \
        python benchmarks/diag_real_sky.py OUT.h5 --n N --seed S [--workers 2]
    python benchmarks/bench_sim_realism.py OUT.h5 --max-sim 1000     # then judge it

For a share of cutouts (``REALSKY_SHARE``) the simulator's Gaussian sky noise, and unless
``REALSKY_FIELD=1`` its faint field, are replaced by a crop of one of the 12 ``legacy_dwarfs`` g, r, z
cubes (real images, used unlabelled; their catalogue is not read): resampled from 0.2″/px to the DES
native 0.263″/px (flux per pixel kept), scaled so that their noise on the 64-px output grid matches
the noise this cutout drew (per band, or with ``REALSKY_COMMON=1`` one factor for the three bands, white
noise topping up the others), turned and flipped at random. Everything else is the simulator as it is.
The settings are environment variables and the patch is made at import, so that the spawned simulation
workers use them too. BENCHMARKS.md (issue 14, *Real sky*) has what it gave.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import os
from pathlib import Path

import numpy as np

import galview.sim.scene as scene
from galview.sim.canvas import Canvas

SHARE = float(os.environ.get("REALSKY_SHARE", "0.5"))
KEEP_FIELD = os.environ.get("REALSKY_FIELD", "0") == "1"
COMMON_SCALE = os.environ.get("REALSKY_COMMON", "0") == "1"
FOLDER = Path(__file__).resolve().parents[2] / "shared" / "data" / "legacy_dwarfs"
_TILES: list[tuple[np.ndarray, np.ndarray]] | None = None


def tiles(native_scale: float) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each cube as (3, m, m) fluxes per native pixel and its per-band noise on the output grid (cached).

    The noise is :func:`output_scale_noise` relative to that of unit white noise, so it compares directly
    with the simulator's σ per native pixel.
    """
    global _TILES
    if _TILES is None:
        from astropy.io import fits
        from scipy.ndimage import zoom

        _TILES = []
        for path in sorted(glob.glob(f"{FOLDER}/*.fits")):
            cube = np.nan_to_num(fits.getdata(path).astype(np.float64))
            factor = 0.2 / native_scale
            planes = np.stack([zoom(b, factor, order=1) for b in cube]) * (native_scale / 0.2) ** 2
            planes -= np.median(planes, axis=(1, 2), keepdims=True)
            sigma = output_scale_noise(planes) / output_scale_noise(WHITE)  # σ of white noise alike there
            _TILES.append((planes.astype(np.float32), sigma))
    return _TILES


WHITE = np.random.default_rng(0).standard_normal((3, 194, 194))


def output_scale_noise(planes: np.ndarray) -> np.ndarray:
    """Per-band MAD σ after averaging the native pixels down to the 64-px output grid (0.47″/px).

    The Legacy Survey cubes are themselves resampled, so their noise is correlated: matching σ per native
    pixel left them ~1.4× too noisy in the viewer's cutouts (the first realism run). Matching at the output
    scale, relative to white noise treated the same way, is what the viewer's cutouts see.
    """
    from PIL import Image

    n = planes.shape[-1]
    size = int(round(n * 64 / 114))
    out = []
    for plane in planes:
        small = np.asarray(
            Image.fromarray(plane.astype(np.float32), mode="F").resize((size, size), Image.Resampling.BOX)
        )
        out.append(1.4826 * np.median(np.abs(small - np.median(small))))
    return np.array(out)


def real_sky(canvas: Canvas, depth: float) -> int:
    """Add a random crop of a real cube, its noise matched to this cutout's; returns the cube's index."""
    rng = canvas.rng
    all_tiles = tiles(canvas.scale)
    k = int(rng.integers(len(all_tiles)))
    planes, sigma = all_tiles[k]
    n, m = canvas.size, planes.shape[-1]
    y0, x0 = rng.integers(0, m - n + 1, 2)
    crop = planes[:, y0 : y0 + n, x0 : x0 + n]
    crop = np.rot90(crop, int(rng.integers(4)), axes=(1, 2))
    if rng.random() < 0.5:
        crop = crop[:, :, ::-1]
    target = canvas.survey.pixel_noise() * depth
    scale = np.minimum(target / sigma, 1.0)
    if COMMON_SCALE:  # one factor for the three bands keeps the real sources' colours; white noise tops up
        scale = np.full(3, scale.min())
    canvas.planes += (crop * scale[:, None, None]).astype(np.float32)
    top_up = np.sqrt(np.maximum(target**2 - (sigma * scale) ** 2, 0.0)).astype(np.float32)
    canvas.planes += rng.standard_normal(canvas.planes.shape, dtype=np.float32) * top_up[:, None, None]
    return k


def draw_planes_realsky(survey, label, seed):
    """The simulator's `_draw_planes`, with real sky in place of its noise (and field) for a share of draws."""
    rng = np.random.default_rng(seed)
    conditions = scene.observing_conditions(rng)
    canvas = Canvas(survey, rng, seeing=conditions["seeing"])
    use_real = rng.random() < SHARE
    with _without_field() if use_real and not KEEP_FIELD else contextlib.nullcontext():
        kind, truth = scene.draw_scene(canvas, label)
    canvas.finish()
    if use_real:
        real_sky(canvas, conditions["depth"])
    else:
        canvas.add_noise(conditions["depth"])
    return canvas.planes, conditions, scene.draw_truth(kind, truth, canvas, conditions)


@contextlib.contextmanager
def _without_field():
    """The scene drawn without the simulator's faint field (the real sky brings its own)."""
    original = scene.add_field
    scene.add_field = lambda *args, **kwargs: None
    try:
        yield
    finally:
        scene.add_field = original


scene._draw_planes = draw_planes_realsky

if __name__ == "__main__":
    from galview.sim.generate import write_simulation
    from galview.sim.surveys import SURVEYS

    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--survey", default="des")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    write_simulation(args.out, SURVEYS[args.survey], args.n, args.seed, workers=args.workers)
    print("wrote", args.out)

"""The ``morphology`` similarity space: shape numbers that no rotation or flip changes.

Per cutout, after subtracting each band's sky (the median of its border pixels), within the disc
inscribed in the cutout (radius R = min(H, W) / 2, about the cutout's centre):

- radial profiles: the mean of each band in :data:`N_PROFILE` equal-width annuli, divided by the
  sum of its absolute values (the profile's shape, not its brightness);
- azimuthal Fourier modes m = 1…4 of the greyscale image in :data:`N_FOURIER` annuli:
  ``|Σ I e^{-imθ}| / Σ |I|`` (lopsidedness, bars, spiral arms, rings broken into arcs);
- concentration ``5 log10(r80 / r20)`` of the positive greyscale flux, and the 180° asymmetry
  ``Σ|I − I₁₈₀| / (2 Σ|I|)``.

Every number is invariant to the eight orientations of the pixel grid (exactly, up to float
rounding) and nearly invariant to any rotation about the centre. Each is a different kind of
quantity, so the space standardises them across the collection (z-score per feature) before cosine.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from galview.core.pixel_space import border_median
from galview.core.resample import resample

N_PROFILE = 8
N_FOURIER = 4
MODES = (1, 2, 3, 4)
N_GROWTH = 32  # radial bins of the curve of growth (concentration)
#: Larger cutouts are shrunk (antialiased) to this longest side first: the features need no more.
MAX_SIDE = 128


def n_features(n_bands: int) -> int:
    """How many numbers :func:`morphology_features` gives for cutouts of ``n_bands`` bands."""
    return N_PROFILE * n_bands + N_FOURIER * len(MODES) + 2


@lru_cache(maxsize=8)
def _geometry(h: int, w: int) -> dict[str, np.ndarray]:
    """Per-pixel weights for an h×w grid: annuli, Fourier kernels and growth bins, (H·W, K) each."""
    yy, xx = np.mgrid[0:h, 0:w]
    dy, dx = (yy - (h - 1) / 2).ravel(), (xx - (w - 1) / 2).ravel()
    r = np.hypot(dy, dx) / (min(h, w) / 2)  # 1 at the inscribed circle
    theta = np.arctan2(dy, dx)

    def rings(n):
        index = np.minimum((r * n).astype(np.int64), n)  # n: outside the disc
        return (index[:, np.newaxis] == np.arange(n)).astype(np.float32)

    profile = rings(N_PROFILE)
    fourier = rings(N_FOURIER)
    kernels = [fourier * f(m * theta)[:, np.newaxis] for m in MODES for f in (np.cos, np.sin)]
    return {
        "profile": profile / np.maximum(profile.sum(axis=0), 1),
        "fourier": fourier,
        "kernels": np.concatenate(kernels, axis=1).astype(np.float32),
        "growth": rings(N_GROWTH),
        "disc": (r < 1).astype(np.float32),
    }


def morphology_features(images: np.ndarray) -> np.ndarray:
    """Morphology features of cutouts.

    Parameters
    ----------
    images : ndarray, (N, H, W, C)
        Cutouts in their own value range; NaN/inf pixels count as sky. Cutouts larger than
        :data:`MAX_SIDE` are shrunk to it first (the same for every orientation: shrinking commutes
        with flips and quarter turns).

    Returns
    -------
    ndarray, (N, :func:`n_features`) float32
        Radial profiles (band-major, inner annulus first), Fourier amplitudes (annulus-major,
        m = 1…4), concentration, asymmetry.
    """
    x = np.nan_to_num(np.asarray(images, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    n, h, w, c = x.shape
    if max(h, w) > MAX_SIDE:
        h, w = max(2, round(h * MAX_SIDE / max(h, w))), max(2, round(w * MAX_SIDE / max(h, w)))
        x = resample(x, (h, w))
    sky = np.stack([border_median(x[..., b]) for b in range(c)], axis=1)
    x = x - sky[:, np.newaxis, np.newaxis, :]
    g = _geometry(h, w)
    flat = x.reshape(n, h * w, c)
    profiles = np.einsum("npc,pk->nck", flat, g["profile"])
    profiles /= np.maximum(np.abs(profiles).sum(axis=2, keepdims=True), 1e-12)
    grey_image = x.mean(axis=3)
    grey = grey_image.reshape(n, -1)
    return np.concatenate(
        [
            profiles.reshape(n, -1),
            _fourier(grey, g),
            _concentration(grey, g)[:, np.newaxis],
            _asymmetry(grey_image, g["disc"].reshape(h, w))[:, np.newaxis],
        ],
        axis=1,
    ).astype(np.float32)


def _fourier(grey: np.ndarray, g: dict) -> np.ndarray:
    """(N, H·W) → (N, N_FOURIER·len(MODES)): mode amplitudes per annulus, normalised by Σ|I|."""
    parts = (grey @ g["kernels"]).reshape(len(grey), len(MODES), 2, N_FOURIER)
    amplitude = np.hypot(parts[:, :, 0], parts[:, :, 1])  # (N, modes, annuli)
    total = np.abs(grey) @ g["fourier"]  # (N, annuli)
    return (amplitude / np.maximum(total, 1e-12)[:, np.newaxis, :]).transpose(0, 2, 1).reshape(len(grey), -1)


def _concentration(grey: np.ndarray, g: dict) -> np.ndarray:
    """(N, H·W) → (N,): 5 log10(r80 / r20) of the positive flux inside the disc (0 without flux)."""
    growth = np.cumsum(np.clip(grey, 0, None) @ g["growth"], axis=1)
    radii = np.arange(1, N_GROWTH + 1) / N_GROWTH
    out = np.zeros(len(grey), dtype=np.float32)
    for i, curve in enumerate(growth):
        if curve[-1] <= 0:
            continue
        fraction = np.concatenate(([0.0], curve / curve[-1]))
        r20, r80 = np.interp([0.2, 0.8], fraction, np.concatenate(([0.0], radii)))
        out[i] = 5 * np.log10(max(r80, 1e-6) / max(r20, 1e-6))
    return out


def _asymmetry(grey: np.ndarray, disc: np.ndarray) -> np.ndarray:
    """(N, H, W) → (N,): Σ|I − I rotated 180°| / (2 Σ|I|) inside the disc."""
    turned = grey[:, ::-1, ::-1]
    difference = (np.abs(grey - turned) * disc).sum(axis=(1, 2))
    return difference / np.maximum(2 * (np.abs(grey) * disc).sum(axis=(1, 2)), 1e-12)

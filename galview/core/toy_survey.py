"""A small toy survey of LSBG-like blobs and artifacts, generated with numpy alone.

It gives ``galview demo`` something to show on a machine with no data. Profiles are
exponential discs (LSBGs), point sources with halos and spikes, and compact bright
galaxies (artifacts), in g, r, z with Gaussian sky noise. Flux unit: nanomaggies-like.
"""

from __future__ import annotations

import numpy as np

BANDS = ("g", "r", "z")


def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    centre = (size - 1) / 2
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    return xx - centre, yy - centre


def _ellipse_radius(x, y, x0, y0, axis_ratio, angle):
    dx, dy = x - x0, y - y0
    c, s = np.cos(angle), np.sin(angle)
    u, v = dx * c + dy * s, -dx * s + dy * c
    return np.sqrt(u**2 + (v / axis_ratio) ** 2)


def _add_stars(image, x, y, rng, count, flux_range, psf_sigma):
    for _ in range(count):
        x0, y0 = rng.uniform(x.min(), x.max(), 2)
        flux = rng.uniform(*flux_range)
        colour = rng.uniform(0.6, 1.6, 3)
        profile = np.exp(-((x - x0) ** 2 + (y - y0) ** 2) / (2 * psf_sigma**2)) / (2 * np.pi * psf_sigma**2)
        image += flux * profile[..., None] * colour


def toy_cutout(label: int, rng: np.random.Generator, size: int = 64) -> np.ndarray:
    """One (size, size, 3) float32 g, r, z cutout; label 1 = LSBG, 0 = artifact."""
    x, y = _grid(size)
    image = np.zeros((size, size, 3), dtype=np.float32)
    psf_sigma = 1.0
    _add_stars(image, x, y, rng, rng.integers(0, 4), (2, 30), psf_sigma)
    if label == 1:
        r_eff = rng.uniform(4, 14)
        radius = _ellipse_radius(x, y, *rng.normal(0, 1.5, 2), rng.uniform(0.5, 1), rng.uniform(0, np.pi))
        surface = rng.uniform(0.02, 0.08) * np.exp(-1.68 * radius / r_eff)
        image += surface[..., None] * np.array([0.7, 1.0, 1.2], dtype=np.float32) * rng.uniform(0.8, 1.2)
    else:
        kind = rng.integers(0, 2)
        x0, y0 = rng.uniform(-14, 14, 2)
        if kind == 0:  # bright star with a diffuse halo and spikes
            radius = np.hypot(x - x0, y - y0)
            halo = rng.uniform(0.05, 0.2) * np.exp(-radius / rng.uniform(5, 10))
            spikes = 0.3 * np.exp(-np.minimum(np.abs(x - x0), np.abs(y - y0)) / 0.7) * np.exp(-radius / 12)
            image += (halo + spikes)[..., None] * np.array([1.0, 1.1, 1.2], dtype=np.float32)
            _add_stars(image, x - x0, y - y0, rng, 1, (200, 600), psf_sigma)
        else:  # compact, high-surface-brightness galaxy
            radius = _ellipse_radius(x, y, x0 / 3, y0 / 3, rng.uniform(0.4, 1), rng.uniform(0, np.pi))
            core = rng.uniform(0.5, 2.0) * np.exp(-radius / rng.uniform(1.0, 2.5))
            image += core[..., None] * np.array([0.6, 1.0, 1.5], dtype=np.float32)
    noise = np.array([0.006, 0.009, 0.02], dtype=np.float32)
    image += rng.normal(0.0, 1.0, image.shape).astype(np.float32) * noise
    return image


def toy_survey(n: int, seed: int = 0, size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """``n`` toy cutouts, half LSBGs: images (n, size, size, 3) float32 and labels (n,) int8."""
    rng = np.random.default_rng(seed)
    labels = (np.arange(n) % 2).astype(np.int8)
    rng.shuffle(labels)
    images = np.stack([toy_cutout(int(lab), rng, size) for lab in labels])
    return images, labels

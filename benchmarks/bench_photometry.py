"""Sérsic photometry against known truth (simulated LSBGs) and against a published fit (real dwarfs).

    python benchmarks/bench_photometry.py [--sim bench_data/des_sim_6k.h5] [--n 300]

1. Simulated DES LSBGs (GalView's simulator, g-band fluxes in nanomaggies, 64 × 64 at 0.469″ per pixel,
   PSF 1″, field stars and galaxies, clumps and nuclei as drawn): the fit against the drawn truth —
   median difference and robust scatter (1.4826 MAD) of magnitude, ⟨μ⟩e, μ0, log r_eff, n and b/a —, how
   many pass the DES Y3 cuts they were drawn to pass, and the time per cutout. Then the colours of
   forced photometry through that fit (g − r and g − z against the drawn g − i: the simulator's
   g − r = 0.65 (g − i), g − z = 1.15 (g − i)), and the time of the forced photometry of three bands and
   of the residual image the window draws. A file made with ``galview simulate`` (or ``--sim``) is used
   when given, else 600 cutouts are simulated first. Then (1b) the same fits through the PSF.
2. The 12 real Legacy Survey DR8 dwarfs around NGC 3115 (``../shared/data/legacy_dwarfs``, g band,
   nanomaggies, 0.2″ per pixel) against the imfit values of their catalogue (``candidates.csv``: m_g,
   Re_g in pc at the distance its m − M gives, n_g, ell_g; m_g − m_r for the colour). Reported only:
   nothing is tuned on them.
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np

from galview.core.crossmatch import match_positions
from galview.core.forced_photometry import forced_magnitude
from galview.core.photometry import fit_sersic
from galview.io import open_collection
from galview.io.measuring import calibration, measure_cutout, residual_of

DWARFS = Path(__file__).resolve().parents[2] / "shared" / "data" / "legacy_dwarfs"


def robust(values) -> tuple[float, float]:
    values = np.asarray(values, float)
    centre = float(np.median(values))
    return centre, float(1.4826 * np.median(np.abs(values - centre)))


def simulated(path: Path, n: int) -> None:
    with h5py.File(path) as handle:
        truth = {key: handle["truth"][key][:] for key in handle["truth"]}
        chosen = np.flatnonzero(truth["label"] == 1)[:n]
        scale = float(handle["flux"].attrs.get("pixel_scale", 30 / 64))
        bands = handle["flux"].attrs["bands"].split(",")
        fits, seconds, forced_seconds, colours, errors = [], [], [], [], []
        for i in chosen:
            cube = handle["flux"][i]
            start = time.perf_counter()
            fits.append(fit_sersic(cube[..., 0], scale))
            seconds.append(time.perf_counter() - start)
            start = time.perf_counter()
            forced = [forced_magnitude(cube[..., k], fits[-1], band) for k, band in enumerate(bands)]
            forced_seconds.append(time.perf_counter() - start)
            colours.append([forced[0].mag - forced[k].mag for k in range(1, len(bands))])
            errors.append([np.hypot(forced[0].mag_err, forced[k].mag_err) for k in range(1, len(bands))])
    clean = np.array([not f.note for f in fits])
    print(f"1. {len(chosen)} simulated DES LSBGs ({path.name}), g band; {clean.sum()} fits without a note")
    print(
        "| quantity | median fit − truth | robust scatter | without a note: median, scatter | median stated "
        "error | robust scatter of (fit − truth) / stated error: all, reliable, beside a bright galaxy |"
    )
    print("|---|---|---|---|---|---|")
    near_galaxy = truth["near_galaxy"][chosen].astype(bool)
    reliable = np.array([f.reliable for f in fits])
    pairs = {
        "magnitude": ([f.mag for f in fits], truth["mag_g"][chosen], [f.errors.mag for f in fits]),
        "⟨μ⟩e (mag/arcsec²)": (
            [f.mean_mu_eff for f in fits],
            truth["mu_eff_g"][chosen],
            [f.errors.mean_mu_eff for f in fits],
        ),
        "μ0 (mag/arcsec²)": ([f.mu0 for f in fits], truth["mu0_g"][chosen], [f.errors.mu0 for f in fits]),
        "ln r_eff": (
            np.log([f.r_eff for f in fits]),
            np.log(truth["r_eff"][chosen]),
            [f.errors.r_eff / f.r_eff for f in fits],
        ),
        "Sérsic n": ([f.n for f in fits], truth["sersic_n"][chosen], [f.errors.n for f in fits]),
        "b/a": (
            [f.axis_ratio for f in fits],
            truth["axis_ratio"][chosen],
            [f.errors.axis_ratio for f in fits],
        ),
    }
    for name, (fitted, true, stated) in pairs.items():
        difference = np.asarray(fitted) - np.asarray(true, float)
        (m, s), (mc, sc) = robust(difference), robust(difference[clean])
        stated = np.asarray(stated, float)
        pulls = difference / stated
        finite = np.isfinite(pulls)
        spreads = [robust(pulls[finite & subset])[1] for subset in (finite, reliable, near_galaxy)]
        print(
            f"| {name} | {m:+.3f} | {s:.3f} | {mc:+.3f}, {sc:.3f} | {np.nanmedian(stated):.3f} | "
            + ", ".join(f"{v:.2f}" for v in spreads)
            + " |"
        )
    passed = np.mean([f.low_surface_brightness for f in fits])
    print(
        f"reliable (a source measured, not noise or a profile past the cutout's edge): {np.mean([f.reliable for f in fits]):.3f}"
    )
    print(
        f"pass the DES Y3 cuts (all were drawn to): {passed:.3f}; per cutout: median {np.median(seconds) * 1000:.0f} ms, "
        f"max {max(seconds) * 1000:.0f} ms"
    )
    colours = np.asarray(colours)
    slopes = {"r": 0.65, "i": 1.0, "z": 1.15}  # the simulator's colours per unit of g − i
    errors = np.asarray(errors)
    print(
        "| colour (forced through the g fit) | median − truth | robust scatter | reliable fits: median, scatter "
        "| median stated error | robust scatter of (fit − truth) / stated error |"
    )
    print("|---|---|---|---|---|---|")
    for k, band in enumerate(bands[1:]):
        difference = colours[:, k] - slopes[band] * truth["g_i"][chosen]
        finite = np.isfinite(difference)
        (m, s), (mr, sr) = robust(difference[finite]), robust(difference[finite & reliable])
        pulls = robust(difference[finite] / errors[finite, k])[1]
        print(
            f"| g − {band} | {m:+.3f} | {s:.3f} | {mr:+.3f}, {sr:.3f} | {np.median(errors[finite, k]):.3f} | {pulls:.2f} |"
        )
    print(
        f"forced photometry of {len(bands)} bands: median {np.median(forced_seconds) * 1000:.1f} ms per cutout; "
        f"no magnitude in {int((~np.isfinite(colours)).any(axis=1).sum())} of {len(colours)}"
    )
    with open_collection(path, dataset="flux") as fluxes:  # what the window does per cutout shown
        found = calibration(fluxes, pixel_scale=scale)
        index = int(chosen[0])
        fit = measure_cutout(fluxes.get(index), scale, found)
        started = time.perf_counter()
        for _ in range(20):
            residual_of(fluxes, index, fit, found.band)
        print(
            f"residual image for the window: {(time.perf_counter() - started) / 20 * 1000:.1f} ms per cutout"
        )


def through_psf(path: Path, n: int) -> None:
    """The same LSBGs fitted with the PSF left in, through the survey's nominal PSF (1″ for DES) and
    through each cutout's own (the truth's FWHM; the simulator draws Moffat PSFs of 0.85–1.3″)."""
    with h5py.File(path) as handle:
        truth = {key: handle["truth"][key][:] for key in handle["truth"]}
        chosen = np.flatnonzero(truth["label"] == 1)[:n]
        scale = float(handle["flux"].attrs.get("pixel_scale", 30 / 64))
        images = [handle["flux"][i][..., 0] for i in chosen]
    print(f"\n1b. The same {len(chosen)} LSBGs through the PSF (g band): median fit − truth, robust scatter")
    print("| PSF in the fit | time per fit | reliable | magnitude | ⟨μ⟩e | μ0 | ln r_eff | n | b/a |")
    print("|---|---|---|---|---|---|---|---|---|")
    cases = {
        "left in": lambda i: 0.0,
        "nominal 1.0″": lambda i: 1.0,
        "each cutout's own": lambda i: float(truth["psf_fwhm"][i]),
    }
    for name, psf in cases.items():
        started = time.perf_counter()
        fits = [fit_sersic(image, scale, psf_fwhm=psf(i)) for image, i in zip(images, chosen, strict=True)]
        per_fit = (time.perf_counter() - started) / len(fits) * 1000
        cells = []
        for attr, key, log in (
            ("mag", "mag_g", False), ("mean_mu_eff", "mu_eff_g", False), ("mu0", "mu0_g", False),
            ("r_eff", "r_eff", True), ("n", "sersic_n", False), ("axis_ratio", "axis_ratio", False),
        ):  # fmt: skip
            fitted, true = np.array([getattr(f, attr) for f in fits]), truth[key][chosen].astype(float)
            m, sc = robust(np.log(fitted) - np.log(true) if log else fitted - true)
            cells.append(f"{m:+.3f}, {sc:.3f}")
        reliable = np.mean([f.reliable for f in fits])
        print(f"| {name} | {per_fit:.0f} ms | {reliable:.3f} | " + " | ".join(cells) + " |")


def real() -> None:
    with open(DWARFS / "candidates.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    ra_c, dec_c = (np.array([float(r[k]) for r in rows]) for k in ("ra", "dec"))
    with open_collection(DWARFS) as dwarfs:
        ra, dec = dwarfs.readable_coords()
        match = match_positions(ra, dec, ra_c, dec_c, 2)
        print(f"\n2. The {len(dwarfs)} real Legacy Survey dwarfs against imfit (g band)")
        print(
            "| cutout | m: fit (imfit) | r_eff ″: fit (imfit) | n: fit (imfit) | b/a: fit (imfit) | ⟨μ⟩e fit | S/N | "
            "g − r: forced (imfit) | note |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
        dm, dr, dc = [], [], []
        found = calibration(dwarfs, zeropoint=22.5)
        for i in range(len(dwarfs)):
            fit = measure_cutout(dwarfs.get(i), dwarfs.pixel_scale(i), found)
            row = rows[match.row[i]]
            g, r = fit.magnitudes[0].mag, fit.magnitudes[1].mag
            dc.append((g - r) - (float(row["m_g_imfit"]) - float(row["m_r_imfit"])))
            parsec = 10 ** ((float(row["m_g_imfit"]) - float(row["M_g_imfit"]) + 5) / 5)
            r_imfit = float(row["Re_g_pc"]) / (parsec * np.pi / 180 / 3600)
            dm.append(fit.mag - float(row["m_g_imfit"]))
            dr.append(np.log(fit.r_eff / r_imfit))
            print(
                f"| {dwarfs.id_of(i)} | {fit.mag:.2f} ({float(row['m_g_imfit']):.2f}) | {fit.r_eff:.1f} ({r_imfit:.1f}) | "
                f"{fit.n:.2f} ({float(row['n_g']):.2f}) | {fit.axis_ratio:.2f} ({1 - float(row['ell_g']):.2f}) | "
                f"{fit.mean_mu_eff:.2f} | {fit.snr:.0f} | {g - r:.2f} ({float(row['m_g_imfit']) - float(row['m_r_imfit']):.2f}) | "
                f"{fit.note} |"
            )
    (m, s), (r, rs), (c, cs) = robust(dm), robust(dr), robust(dc)
    print(
        f"magnitude fit − imfit: median {m:+.2f}, robust scatter {s:.2f}; ln r_eff: median {r:+.2f}, scatter {rs:.2f}; "
        f"g − r forced − imfit: median {c:+.3f}, scatter {cs:.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sim", type=Path, help="a simulated DES collection (default: simulate 600 cutouts)")
    parser.add_argument("--n", type=int, default=300, help="simulated LSBGs fitted")
    args = parser.parse_args()
    if args.sim is not None:
        simulated(args.sim, args.n)
        through_psf(args.sim, args.n)
    else:
        from galview.sim.generate import write_simulation
        from galview.sim.surveys import SURVEYS

        with tempfile.TemporaryDirectory() as folder:
            path = write_simulation(Path(folder) / "des_sim.h5", SURVEYS["des"], 600, seed=11)
            simulated(path, args.n)
            through_psf(path, args.n)
    real()


if __name__ == "__main__":
    main()

"""``galview measure``: Sérsic photometry of chosen cutouts — magnitude, surface brightness, size, shape.

For each cutout, one band (g by default) of its calibrated fluxes is fitted with an elliptical Sérsic
profile (:mod:`galview.core.photometry`); the table says whether the candidate passes the DES Y3 LSBG
cuts (⟨μ⟩_eff(g) > 24.2 mag/arcsec², r_eff > 2.5″). Every band is then measured through that fit's shape
(:mod:`galview.core.forced_photometry`): a magnitude per band and every colour, bluer band first.
"""

from __future__ import annotations

import os
import sys
from dataclasses import asdict

from galview.cli.common import add_open_options, open_options
from galview.cli.parsing import number_in, whole_number

COLUMNS = (
    "index", "id", "band", "psf_fwhm", "mag", "mag_err", "mu0", "mu0_err", "mu_eff", "mu_eff_err", "mean_mu_eff",
    "mean_mu_eff_err", "r_eff_arcsec", "r_eff_arcsec_err", "sersic_n", "sersic_n_err", "axis_ratio",
    "axis_ratio_err", "angle_deg", "x", "y", "snr", "reliable", "low_surface_brightness", "note",
)  # fmt: skip


#: The fit's numbers in the table, in COLUMNS' order (after index, id, band and psf_fwhm); those with an
#: error (:class:`~galview.core.photometry.FitErrors`) are followed by it.
FIT_NUMBERS = ("mag", "mu0", "mu_eff", "mean_mu_eff", "r_eff", "n", "axis_ratio", "angle", "x", "y", "snr")


def add_parsers(commands) -> None:
    """Register ``measure`` on the main parser's ``commands``."""
    parser = commands.add_parser(
        "measure",
        help="Sérsic photometry of cutouts: magnitude, surface brightness, r_eff (calibrated fluxes)",
        description="Fit one band of each chosen cutout with an elliptical Sérsic profile on a tilted sky plane, "
        "other sources masked, and write its magnitude, central, effective and mean-within-r_eff surface "
        "brightness (mag/arcsec²), half-light semi-major axis (arcsec), index, axis ratio and angle, each "
        "with its 1σ error from the pixel noise (the _err columns: lower bounds, the model's own mismatch "
        "left out), and "
        "whether it passes the DES Y3 LSBG cuts; then each band's magnitude through that shape (forced "
        "photometry), every colour (g−r, …) and, with g and i, red or blue by DES Y3's g − i = 0.60. Needs "
        "calibrated fluxes: a FITS file in nanomaggies, or a simulation (its flux dataset is measured in "
        "place of its colours). The PSF is left in unless --psf-fwhm gives it. The window shows what was "
        "measured when it opens the collection.",
    )
    parser.add_argument("data", help="the cutout collection (file or folder) of calibrated fluxes")
    parser.add_argument("--indices", type=int, nargs="+", metavar="I", help="these cutouts (default: all)")
    parser.add_argument("--band", help="the band to fit (default: g where there is one, else the first)")
    parser.add_argument(
        "--zeropoint",
        type=number_in(-100, 100),
        help="AB zero point (default: from the file's unit; 22.5 for nanomaggies)",
    )
    parser.add_argument(
        "--pixel-scale",
        type=number_in(0, 3600, low_open=True),
        help="arcsec per pixel (default: from the WCS)",
    )
    parser.add_argument(
        "--psf-fwhm",
        type=number_in(0, 60),
        default=0.0,
        metavar="ARCSEC",
        help="the PSF's FWHM: the profile is blurred by a Gaussian of this width in the fit, so that r_eff, n "
        "and μ0 are the galaxy's own (default 0: the PSF is left in)",
    )
    parser.add_argument("-o", "--output", required=True, help="CSV file to write")
    parser.add_argument(
        "--figure",
        metavar="PNG",
        help="also a figure of the fits: for each cutout its fitted band, the model in the same stretch, and "
        "the residual (data − model, ±5σ of the noise); at most the first 133 cutouts",
    )
    parser.add_argument(
        "--workers",
        type=whole_number(1),
        default=None,
        help="processes fitting at once (default: every core; the results are the same)",
    )
    add_open_options(parser)
    parser.set_defaults(run=cmd_measure)


def cmd_measure(args) -> int:
    import numpy as np

    from galview.core.errors import UserFacingError
    from galview.core.outputs import output_path
    from galview.core.progress import progress_printer
    from galview.io import open_collection
    from galview.io.measuring import calibration, fluxes_of, measure_cutouts
    from galview.io.writers import write_csv

    output = output_path(args.output, (".csv",), "the photometry")
    figure = None if args.figure is None else output_path(args.figure, (".png",), "the figure of the fits")
    with open_collection(args.data, **open_options(args)) as collection:
        n = len(collection)
        indices = np.arange(n) if args.indices is None else np.asarray(args.indices, dtype=np.int64)
        if len(indices) and (indices.min() < 0 or indices.max() >= n):
            raise UserFacingError(args.data, f"--indices must be 0..{n - 1} for its {n} cutouts")
        with fluxes_of(collection) as fluxes:  # a simulation's fluxes beside its colours
            found = calibration(fluxes, args.band, args.zeropoint, args.pixel_scale, args.psf_fwhm)
            with progress_printer("measure") as progress:  # its line ends before any error is said
                results = measure_cutouts(
                    fluxes,
                    indices,
                    found,
                    workers=args.workers or os.cpu_count() or 1,
                    on_progress=progress if len(indices) > 50 else None,
                )
            ids = [collection.id_of(int(i)) for i in indices]
            if figure is not None:
                _write_figure(figure, fluxes, results, ids, found)
        _keep(collection, found, results)
    colour_columns = band_columns(found.bands)
    rows, fitted, reliable, lsb = [], 0, 0, 0
    for cid, (index, fit) in zip(ids, results, strict=True):
        if isinstance(fit, str):
            rows.append(
                [index, cid, found.band_name, found.psf_fwhm, *[""] * (len(COLUMNS) - 5), fit]
                + [""] * len(colour_columns)
            )
            continue
        fitted += 1
        reliable += fit.reliable
        lsb += fit.low_surface_brightness
        numbers = fit_numbers(fit)
        flags = [int(fit.reliable), int(fit.low_surface_brightness)]
        first = [index, cid, found.band_name, found.psf_fwhm]
        rows.append([*first, *numbers, *flags, fit.note, *band_values(fit.magnitudes)])
    write_csv(output, (*COLUMNS, *colour_columns), rows)
    psf = f", fitted through a PSF of {found.psf_fwhm:g}″ FWHM" if found.psf_fwhm else ""
    print(
        f"{output}: {fitted} of {len(indices)} cutouts fitted in the {found.band_name} band "
        f"(zero point {found.zeropoint:g}{psf}; {reliable} reliable); {lsb} pass the LSBG cuts (⟨μ⟩e > 24.2, r_eff > 2.5″)"
    )
    return 0


def _keep(collection, found, results) -> None:
    """Keep the measurements for the window (added to those kept with the same calibration)."""
    from galview.core.collection import fingerprint
    from galview.io.photometry_files import add_to_kept

    try:
        replaced = add_to_kept(fingerprint(collection), len(collection), found, results)
    except OSError as exc:
        print(f"galview: the photometry was written but not kept for the window: {exc}", file=sys.stderr)
        return
    if replaced is not None:  # a damaged file: replaced by these measurements
        print(f"galview: {replaced}; replaced", file=sys.stderr)


def _write_figure(path, fluxes, results, ids, found) -> None:
    """Data, model and residual of each fit (the first :data:`~galview.core.fit_figure.MAX_FITS`)."""
    from galview.core.fit_figure import MAX_FITS, fits_figure
    from galview.io.writers import write_png

    entries = [
        (
            cid,
            found.band_name,
            fluxes.shape[:2] if isinstance(fit, str) else fluxes.get(index)[..., found.band],
            fit,
        )
        for cid, (index, fit) in zip(ids[:MAX_FITS], results[:MAX_FITS], strict=False)
    ]
    write_png(fits_figure(entries), path)
    more = f" (the first {MAX_FITS} of {len(results)})" if len(results) > MAX_FITS else ""
    print(f"{path}: data, model and residual of each fit{more}")


def fit_numbers(fit) -> list:
    """The row's values for the fit's columns (``FIT_NUMBERS``, each error after its number; blank where
    the fit has no error)."""
    import math

    values, errors = fit.as_row(), asdict(fit.errors)
    row = []
    for key in FIT_NUMBERS:
        row.append(round(float(values[key]), 4))
        if key in errors:
            row.append(round(errors[key], 4) if math.isfinite(errors[key]) else "")
    return row


def band_columns(bands) -> list[str]:
    """``mag_g, mag_g_err, …, g_r, g_r_err, …, population``: the forced photometry's columns."""
    from galview.core.forced_photometry import colour_names

    names = [f"mag_{band}{suffix}" for band in bands for suffix in ("", "_err")]
    for name in colour_names(bands):
        names += [f"{name.replace('−', '_')}{suffix}" for suffix in ("", "_err")]
    return [*names, "population"]


def band_values(magnitudes) -> list:
    """The row's values for :func:`band_columns` (blank where a band has no magnitude)."""
    import math

    from galview.core.forced_photometry import colours, population

    def number(value):
        return round(float(value), 4) if math.isfinite(value) else ""

    values = [number(v) for m in magnitudes for v in (m.mag, m.mag_err)]
    values += [number(v) for _name, value, error in colours(magnitudes) for v in (value, error)]
    return [*values, population(magnitudes)]

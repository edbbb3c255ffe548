"""``galview measure``: Sérsic photometry of chosen cutouts — magnitude, surface brightness, size, shape.

For each cutout, one band (g by default) of its calibrated fluxes is fitted with an elliptical Sérsic
profile (:mod:`galview.core.photometry`); the table says whether the candidate passes the DES Y3 LSBG
cuts (⟨μ⟩_eff(g) > 24.2 mag/arcsec², r_eff > 2.5″).
"""

from __future__ import annotations

import sys

from galview.cli.common import add_open_options, open_options
from galview.cli.parsing import number_in

COLUMNS = (
    "index", "id", "band", "mag", "mu0", "mu_eff", "mean_mu_eff", "r_eff_arcsec", "sersic_n", "axis_ratio",
    "angle_deg", "x", "y", "snr", "reliable", "low_surface_brightness", "note",
)  # fmt: skip


#: The fit's numbers in the table, in COLUMNS' order (after index, id and band).
FIT_NUMBERS = ("mag", "mu0", "mu_eff", "mean_mu_eff", "r_eff", "n", "axis_ratio", "angle", "x", "y", "snr")


def add_parsers(commands) -> None:
    """Register ``measure`` on the main parser's ``commands``."""
    parser = commands.add_parser(
        "measure",
        help="Sérsic photometry of cutouts: magnitude, surface brightness, r_eff (calibrated fluxes)",
        description="Fit one band of each chosen cutout with an elliptical Sérsic profile and a constant sky, "
        "other sources masked, and write its magnitude, central, effective and mean-within-r_eff surface "
        "brightness (mag/arcsec²), half-light semi-major axis (arcsec), index, axis ratio and angle, and "
        "whether it passes the DES Y3 LSBG cuts. Needs calibrated fluxes: a FITS file in nanomaggies, or a "
        "simulation (its flux dataset is measured in place of its colours). The PSF is not deconvolved.",
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
    parser.add_argument("-o", "--output", required=True, help="CSV file to write")
    add_open_options(parser)
    parser.set_defaults(run=cmd_measure)


def cmd_measure(args) -> int:
    import numpy as np

    from galview.core.errors import UserFacingError
    from galview.core.outputs import output_path
    from galview.io import open_collection
    from galview.io.measuring import calibration, fluxes_of, measure_cutouts
    from galview.io.writers import write_csv

    output = output_path(args.output, (".csv",), "the photometry")
    with open_collection(args.data, **open_options(args)) as collection:
        n = len(collection)
        indices = np.arange(n) if args.indices is None else np.asarray(args.indices, dtype=np.int64)
        if len(indices) and (indices.min() < 0 or indices.max() >= n):
            raise UserFacingError(args.data, f"--indices must be 0..{n - 1} for its {n} cutouts")
        with fluxes_of(collection) as fluxes:  # a simulation's fluxes beside its colours
            found = calibration(fluxes, args.band, args.zeropoint, args.pixel_scale)
            results = measure_cutouts(
                fluxes, indices, found, on_progress=_progress if len(indices) > 50 else None
            )
        ids = [collection.id_of(int(i)) for i in indices]
    rows, fitted, reliable, lsb = [], 0, 0, 0
    for cid, (index, fit) in zip(ids, results, strict=True):
        if isinstance(fit, str):
            rows.append([index, cid, found.band_name, *[""] * (len(COLUMNS) - 4), fit])
            continue
        fitted += 1
        reliable += fit.reliable
        lsb += fit.low_surface_brightness
        values = fit.as_row()
        numbers = [round(float(values[key]), 4) for key in FIT_NUMBERS]
        flags = [int(fit.reliable), int(fit.low_surface_brightness)]
        rows.append([index, cid, found.band_name, *numbers, *flags, fit.note])
    write_csv(output, COLUMNS, rows)
    print(
        f"{output}: {fitted} of {len(indices)} cutouts fitted in the {found.band_name} band "
        f"(zero point {found.zeropoint:g}; {reliable} reliable); {lsb} pass the LSBG cuts (⟨μ⟩e > 24.2, r_eff > 2.5″)"
    )
    return 0


def _progress(progress) -> None:
    print(
        f"\r{progress.done:,} of {progress.total:,} cutouts fitted",
        end="" if progress.done < progress.total else "\n",
        file=sys.stderr,
    )

"""What goes into a cutout: LSBGs, the field around them, and the artifacts that mimic them.

Every function draws into a :class:`Canvas` with the canvas's random generator and
returns the truth of what it drew (a dict of scalars).
"""

from __future__ import annotations

import galsim
import numpy as np

from galview.sim.canvas import GSPARAMS, Canvas
from galview.sim.surveys import band_offsets


def sersic(n: float, r_eff: float, axis_ratio: float, angle: float):
    """Unit-flux Sérsic profile with half-light semi-major axis ``r_eff`` (arcsec), axis ratio
    ``axis_ratio`` and position angle ``angle`` (radians).

    GalSim's shear keeps area, so the circular profile gets the geometric-mean radius
    r_eff·√q. ``n`` is rounded to 0.05: GalSim builds a costly table per distinct index.
    """
    n = round(float(n) * 20) / 20
    radius = r_eff * np.sqrt(axis_ratio)
    if n == 1.0:  # the exponential has an analytic Fourier transform: several times faster
        profile = galsim.Exponential(half_light_radius=radius, flux=1.0, gsparams=GSPARAMS)
    else:
        profile = galsim.Sersic(n=n, half_light_radius=radius, flux=1.0, gsparams=GSPARAMS)
    return profile.shear(q=axis_ratio, beta=angle * galsim.radians)


def total_mag_for_central_sb(profile, mu0: float) -> float:
    """Total magnitude that gives ``profile`` (unit flux) a central surface brightness ``mu0``."""
    central = profile.xValue(galsim.PositionD(0, 0))  # flux per arcsec² at the centre, per unit flux
    return mu0 + 2.5 * np.log10(central)


def total_mag_for_mean_sb(mu_eff: float, r_eff: float, axis_ratio: float) -> float:
    """Total magnitude for a mean surface brightness ``mu_eff`` within the half-light ellipse."""
    return mu_eff - 2.5 * np.log10(2 * np.pi * axis_ratio * r_eff**2)


def central_sb(profile, mag: float) -> float:
    """Central surface brightness (mag/arcsec²) of a unit-flux profile given total magnitude ``mag``."""
    return float(mag - 2.5 * np.log10(profile.xValue(galsim.PositionD(0, 0))))


def galaxy_truth(profile, mag_g, mu_eff_g, r_eff, n, axis_ratio, angle, g_i) -> dict:
    """The truth-table entries of a Sérsic galaxy (μ0 computed from the drawn profile)."""
    return {
        "mu0_g": central_sb(profile, mag_g),
        "mu_eff_g": mu_eff_g,
        "r_eff": r_eff,
        "sersic_n": n,
        "axis_ratio": axis_ratio,
        "angle": angle,
        "ellipticity": 1 - axis_ratio,
        "g_i": g_i,
        "mag_g": mag_g,
    }


def candidate_colour(rng: np.random.Generator) -> float:
    """The g−i colour of a candidate at the centre, LSBG or artifact: 0.2–1.2, centred near 0.68.

    Matched to the colour of real candidates' centres. Drawn the same way for LSBGs and for the
    artifacts made of their own light (compact galaxies, blends, ghosts, cirrus, star-forming knots),
    so colour is no label cue of the simulator (simulator v6; in v5 those artifacts were redder than
    anything real).
    """
    return float(0.2 + rng.beta(2.0, 2.2))


# -- LSBGs (label 1) ------------------------------------------------------------------------
def add_lsbg(canvas: Canvas) -> dict:
    """A low-surface-brightness galaxy following the DES Y3 selection (Tanoglidis et al. 2021).

    The selection is on the mean surface brightness within the effective radius,
    ⟨μ⟩_eff(g) > 24.2 mag/arcsec², and r_eff > 2.5″. Most detected LSBGs lie close to
    both cuts, so both are drawn from exponential tails above them. The central
    surface brightness μ0(g) (≈ 23–27) is recorded in the truth table.
    """
    rng = canvas.rng
    n = rng.uniform(0.5, 1.5)
    r_eff = float(min(20.0, 2.5 * np.exp(rng.exponential(0.2))))  # median ≈ 2.9″, tail to 20″
    axis_ratio = rng.uniform(0.35, 1.0)
    angle = rng.uniform(0, np.pi)
    mu_eff_g = float(min(27.0, 24.2 + rng.exponential(0.8)))  # mean 25.0: most sit just past the cut
    g_i = candidate_colour(rng)
    profile = sersic(n, r_eff, axis_ratio, angle)
    mag_g = total_mag_for_mean_sb(mu_eff_g, r_eff, axis_ratio)
    mags = mag_g + band_offsets(g_i, canvas.survey.bands)
    x, y = rng.normal(0, 0.7, 2)
    clumps = int(rng.integers(2, 7)) if rng.random() < 0.5 else 0  # irregular dwarfs: star-forming clumps
    knot_fraction = rng.uniform(0.05, 0.2) if clumps else 0.0
    canvas.add_profile(profile, mags - 2.5 * np.log10(1 - knot_fraction), x, y)
    for _ in range(clumps):
        knot = galsim.Gaussian(half_light_radius=rng.uniform(0.4, 1.0), flux=1.0, gsparams=GSPARAMS)
        offset = rng.normal(0, 0.6 * r_eff, 2)
        knot_mags = mags - 2.5 * np.log10(knot_fraction / clumps) + band_offsets(-0.3, canvas.survey.bands)
        canvas.add_profile(knot, knot_mags, x + offset[0], y + offset[1])
    nucleated = bool(rng.random() < 0.15)
    if nucleated:
        canvas.add_point(mags + rng.uniform(2.5, 4.5), x, y)
    truth = galaxy_truth(profile, mag_g, mu_eff_g, r_eff, n, axis_ratio, angle, g_i)
    return {**truth, "nucleated": nucleated, "clumps": clumps}


# -- the field: stars and background galaxies in every cutout ----------------------------------------
def add_field(canvas: Canvas, stars: float = 1.0, galaxies: float = 3.0) -> None:
    """Field stars and faint background galaxies scattered over the cutout."""
    rng, half = canvas.rng, canvas.half_width
    for _ in range(rng.poisson(stars)):
        mag = 24.5 - rng.exponential(2.2)  # more faint stars than bright ones
        colour = rng.uniform(0.2, 2.5)
        canvas.add_point(
            max(mag, 15.5) + band_offsets(colour, canvas.survey.bands), *rng.uniform(-half, half, 2)
        )
    for _ in range(rng.poisson(galaxies)):
        profile = sersic(
            rng.choice([1.0, 1.0, 1.0, 4.0]),
            rng.uniform(0.3, 1.5),
            rng.uniform(0.3, 1.0),
            rng.uniform(0, np.pi),
        )
        mag = rng.uniform(20.5, 25.5)
        canvas.add_profile(
            profile,
            mag + band_offsets(rng.uniform(0.2, 1.4), canvas.survey.bands),
            *rng.uniform(-half, half, 2),
        )


#: How often each kind of surroundings is drawn, for LSBGs and artifacts alike.
SURROUNDING_RATES = {"near_star": 0.35, "near_galaxy": 0.3, "crowded": 0.2, "faint_cirrus": 0.1}


def add_surroundings(canvas: Canvas) -> dict:
    """What lies around a candidate, drawn the same way whatever the candidate is (issue 14).

    Bright stars a few arcseconds away, the outskirts of a bright galaxy, a crowded field and faint
    cirrus surround real LSBGs as well as artifacts. Drawn independently of the label, they cannot
    tell the classes apart: a model has to look at the centre. Returns the truth (one flag each).
    """
    rng, truth = canvas.rng, {}
    truth["near_star"] = bool(rng.random() < SURROUNDING_RATES["near_star"])
    if truth["near_star"]:
        distance, angle = rng.uniform(4, 20), rng.uniform(0, 2 * np.pi)
        mag = rng.uniform(13.0, 17.5) + max(0.0, (10 - distance) * 0.2)  # close ones are a little fainter
        add_bright_star(canvas, mag, distance * np.cos(angle), distance * np.sin(angle), spikes=None)
    truth["near_galaxy"] = bool(rng.random() < SURROUNDING_RATES["near_galaxy"])
    if truth["near_galaxy"]:  # a host or a foreground galaxy: an elliptical's outskirts or a disc
        if rng.random() < 0.5:
            add_offset_galaxy(canvas, rng.uniform(10, 30), rng.uniform(14.5, 18.5))
        else:
            add_offset_disc(canvas, rng.uniform(12, 30))
    truth["crowded"] = bool(rng.random() < SURROUNDING_RATES["crowded"])
    if truth["crowded"]:
        add_field(canvas, stars=2.0, galaxies=5.0)
    truth["faint_cirrus"] = bool(rng.random() < SURROUNDING_RATES["faint_cirrus"])
    if truth["faint_cirrus"]:
        field = gaussian_random_field(rng, canvas.size, slope=rng.uniform(2.6, 3.4))
        pattern = np.clip((field - np.median(field)) / 0.3, 0, 1)
        canvas.add_surface(
            pattern, rng.uniform(25.8, 27.0) + band_offsets(rng.uniform(0.8, 1.4), canvas.survey.bands)
        )
    return truth


def add_offset_galaxy(canvas: Canvas, distance: float, mag: float) -> dict:
    """A large, bright galaxy whose centre lies ``distance``″ from the cutout centre."""
    rng = canvas.rng
    theta = rng.uniform(0, 2 * np.pi)
    n, r_eff = rng.uniform(1.0, 4.0), rng.uniform(5.0, 15.0)
    profile = sersic(n, r_eff, rng.uniform(0.4, 1.0), rng.uniform(0, np.pi))
    canvas.add_profile(
        profile,
        mag + band_offsets(rng.uniform(0.8, 1.5), canvas.survey.bands),
        distance * np.cos(theta),
        distance * np.sin(theta),
    )
    return {"mag_g": mag, "r_eff": r_eff, "sersic_n": n}


def add_offset_disc(canvas: Canvas, distance: float) -> dict:
    """A large bright disc galaxy whose centre lies ``distance``″ from the cutout centre."""
    rng = canvas.rng
    theta = rng.uniform(0, 2 * np.pi)
    disc = sersic(1.0, rng.uniform(8, 18), rng.uniform(0.5, 1.0), rng.uniform(0, np.pi))
    mag = total_mag_for_central_sb(disc, rng.uniform(20.5, 22.5))
    canvas.add_profile(
        disc,
        mag + band_offsets(rng.uniform(0.5, 1.0), canvas.survey.bands),
        distance * np.cos(theta),
        distance * np.sin(theta),
    )
    return {"mag_g": mag, "theta": theta}


def add_bright_star(
    canvas: Canvas, mag: float, x: float, y: float, halo: bool = True, spikes: bool | None = True
) -> None:
    """A bright star with an extended halo and diffraction spikes (saturates in the viewer's colours).

    ``spikes=None`` draws spikes for 40% of stars.
    """
    rng = canvas.rng
    offsets = band_offsets(rng.uniform(0.3, 2.0), canvas.survey.bands)
    canvas.add_point(mag + offsets, x, y)
    if halo:
        wings = galsim.Moffat(
            beta=rng.uniform(1.6, 2.4), fwhm=rng.uniform(2.0, 6.0), gsparams=GSPARAMS
        ).withFlux(1.0)
        canvas.add_profile(wings, mag + offsets + rng.uniform(3.0, 4.5), x, y)
    if spikes is None:
        spikes = rng.random() < 0.4
    if spikes:
        xx, yy = canvas.coordinates()
        dx, dy = xx - x, yy - y
        tilt = rng.choice([0.0, np.pi / 4])
        u = dx * np.cos(tilt) + dy * np.sin(tilt)
        v = -dx * np.sin(tilt) + dy * np.cos(tilt)
        radius = np.hypot(dx, dy) + 1.0
        length = rng.uniform(4, 12) * 10 ** (-0.2 * (mag - 14))
        pattern = (np.exp(-np.abs(u) / 0.35) + np.exp(-np.abs(v) / 0.35)) * np.exp(-radius / length)
        canvas.add_surface(pattern, mag + offsets + 10.0)


# -- artifacts (label 0) -----------------------------------------------------------------------------
def artifact_compact(canvas: Canvas) -> dict:
    """A compact or high-surface-brightness galaxy: ⟨μ⟩_eff(g) near or above the LSBG cut of 24.2."""
    rng = canvas.rng
    n, r_eff = rng.uniform(0.8, 2.5), rng.uniform(1.0, 4.0)
    axis_ratio, angle = rng.uniform(0.3, 1.0), rng.uniform(0, np.pi)
    mu_eff_g = rng.uniform(22.8, 24.6)  # candidates that passed a noisy LSB cut: just above it
    g_i = candidate_colour(rng)
    profile = sersic(n, r_eff, axis_ratio, angle)
    mag_g = total_mag_for_mean_sb(mu_eff_g, r_eff, axis_ratio)
    canvas.add_profile(profile, mag_g + band_offsets(g_i, canvas.survey.bands), *rng.normal(0, 0.7, 2))
    return galaxy_truth(profile, mag_g, mu_eff_g, r_eff, n, axis_ratio, angle, g_i)


def artifact_star_halo(canvas: Canvas) -> dict:
    """Diffuse light around a bright star just off the centre: halo, wings and spikes."""
    rng = canvas.rng
    radius, theta = rng.uniform(4, 12), rng.uniform(0, 2 * np.pi)
    mag = rng.uniform(13.0, 17.0)
    add_bright_star(canvas, mag, radius * np.cos(theta), radius * np.sin(theta))
    return {"mag_g": mag}


def artifact_ghost(canvas: Canvas) -> dict:
    """A reflection ghost: a broad, faint ring or disc of scattered starlight."""
    rng = canvas.rng
    xx, yy = canvas.coordinates()
    x0, y0 = rng.normal(0, 1.5, 2)
    radius = rng.uniform(2.0, 6.0)
    width = rng.uniform(1.5, 4.0)
    r = np.hypot(xx - x0, yy - y0)
    pattern = np.exp(-0.5 * ((r - radius) / width) ** 2) + rng.uniform(0.2, 0.7) * (r < radius)
    mu = rng.uniform(24.3, 26.3)
    canvas.add_surface(pattern / pattern.max(), mu + band_offsets(candidate_colour(rng), canvas.survey.bands))
    if rng.random() < 0.5:  # the star that made it, somewhere near
        angle = rng.uniform(0, 2 * np.pi)
        add_bright_star(canvas, rng.uniform(12, 15), 13 * np.cos(angle), 13 * np.sin(angle), spikes=False)
    return {"mu0_g": mu, "r_eff": radius}


def gaussian_random_field(rng: np.random.Generator, size: int, slope: float = 3.0) -> np.ndarray:
    """A (size, size) field with power spectrum ∝ k^-slope, scaled to [0, 1]."""
    k = np.fft.fftfreq(size)
    kk = np.hypot(*np.meshgrid(k, k))
    kk[0, 0] = 1.0
    amplitude = kk ** (-slope / 2)
    amplitude[0, 0] = 0.0
    phases = rng.normal(size=(size, size)) + 1j * rng.normal(size=(size, size))
    field = np.fft.ifft2(amplitude * phases).real
    return (field - field.min()) / (np.ptp(field) + 1e-12)


def artifact_cirrus(canvas: Canvas) -> dict:
    """Galactic cirrus: filamentary dust-scattered light across the whole cutout."""
    rng = canvas.rng
    field = gaussian_random_field(rng, canvas.size, slope=rng.uniform(2.6, 3.4))
    centre = field[
        canvas.size // 2 - 3 : canvas.size // 2 + 3, canvas.size // 2 - 3 : canvas.size // 2 + 3
    ].mean()
    threshold = centre - rng.uniform(0.15, 0.3)  # the filament the detection sat on crosses the centre
    filaments = np.clip((field - threshold) / 0.3, 0, 1) ** rng.uniform(1.0, 1.5)
    xx, yy = canvas.coordinates()
    filaments *= np.exp(
        -0.5 * (xx**2 + yy**2) / rng.uniform(4, 8) ** 2
    )  # a brighter patch where it was detected
    mu = rng.uniform(24.2, 26.2)
    canvas.add_surface(filaments, mu + band_offsets(candidate_colour(rng), canvas.survey.bands))
    return {"mu0_g": mu}


def artifact_sf_knots(canvas: Canvas) -> dict:
    """Star-forming knots in the arm of a large spiral whose centre lies off the cutout."""
    rng = canvas.rng
    disc = add_offset_disc(canvas, rng.uniform(12, 30))
    theta = disc["theta"]
    pitch = rng.uniform(0.2, 0.45)
    for k in range(rng.integers(4, 10)):  # knots strung along the arm through the centre
        step = (k - 3) * rng.uniform(1.2, 2.5)
        along = np.array([np.cos(theta + np.pi / 2 + pitch), np.sin(theta + np.pi / 2 + pitch)])
        x, y = along * step + rng.normal(0, 0.6, 2)
        knot = galsim.Gaussian(half_light_radius=rng.uniform(0.3, 1.0), flux=1.0, gsparams=GSPARAMS)
        canvas.add_profile(
            knot, rng.uniform(21.5, 24.0) + band_offsets(candidate_colour(rng), canvas.survey.bands), x, y
        )
    return {"mag_g": disc["mag_g"]}


def artifact_faint_blend(canvas: Canvas) -> dict:
    """Several faint sources overlapping near the centre, whose sum looks diffuse."""
    rng = canvas.rng
    count = int(rng.integers(3, 9))
    for _ in range(count):
        profile = sersic(1.0, rng.uniform(0.5, 1.6), rng.uniform(0.4, 1.0), rng.uniform(0, np.pi))
        colour = candidate_colour(rng)
        canvas.add_profile(
            profile,
            rng.uniform(22.5, 25.0) + band_offsets(colour, canvas.survey.bands),
            *rng.normal(0, 2.0, 2),
        )
    return {"n_sources": count}


def artifact_galaxy_outskirts(canvas: Canvas) -> dict:
    """The diffuse outskirts of a large, bright galaxy whose centre lies off the cutout."""
    rng = canvas.rng
    return add_offset_galaxy(canvas, rng.uniform(10, 24), rng.uniform(14.5, 18.0))


# Weights: the artifacts defined by what lies at the centre (compact galaxies, blends, ghosts, cirrus)
# outnumber those defined by a bright neighbour, whose surroundings LSBGs share (add_surroundings).
ARTIFACTS = {
    "compact": (artifact_compact, 0.20),
    "star_halo": (artifact_star_halo, 0.10),
    "galaxy_outskirts": (artifact_galaxy_outskirts, 0.09),
    "ghost": (artifact_ghost, 0.14),
    "cirrus": (artifact_cirrus, 0.15),
    "sf_knots": (artifact_sf_knots, 0.07),
    "faint_blend": (artifact_faint_blend, 0.25),
}

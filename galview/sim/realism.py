"""How realistic are simulated cutouts? Simple statistics, a classifier test and a comparison figure.

Works on display-domain ``(N, H, W, 3)`` uint8 RGB cutouts such as the Legacy Survey viewer JPEGs of the
real DES sample (R, G, B = z, r, g after the viewer's stretch). Simulated cutouts are realistic to the
extent that their simple statistics have the same distributions as the real ones
(:func:`image_statistics`, :func:`summary_table`) and a classifier on simple per-cutout features cannot
tell them apart (:func:`realism_auc`: ROC AUC 0.5 = indistinguishable). :func:`compare` writes both as
markdown; :func:`side_by_side` draws real and simulated cutouts together for judging by eye.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from scipy import ndimage
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from galview.sim.field_sources import field_source_counts, field_source_line

RING = 6  # width (px) of the outer border ring used for background and noise
CENTRAL = 8  # side (px) of the central box
MAD_TO_SIGMA = 1.4826
BIN_SIGMA = MAD_TO_SIGMA * 0.25  # MAD-sigma of a value spread uniformly over one grey level
DETECT_SMOOTH = 1.0  # Gaussian sigma (px) of the smoothing before detection
DETECT_NSIGMA = 2.0
NOISE_FLOOR = 0.5  # lowest noise (grey levels) in the detection threshold: flat images detect nothing
ANNULI = (0, 3, 6, 10, 15, 22, 32)  # radial-profile annulus edges (px)
CHANNELS = ("R", "G", "B")
CAPTION_H, GAP, ZOOM = 16, 4, 2  # layout of :func:`side_by_side`
AUC_HEADER = "AUC logistic | AUC forest | top forest features | single statistics (AUC) | N per class"


def _as_images(images: np.ndarray) -> np.ndarray:
    """Check an ``(N, H, W, 3)`` stack and return it as float64."""
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"expected images of shape (N, H, W, 3), got {images.shape}")
    if min(images.shape[1:3]) <= 2 * RING + CENTRAL:
        raise ValueError(f"cutouts of {images.shape[1:3]} are too small for a {RING}-px border ring")
    return images.astype(np.float64)


def _ring_mask(height: int, width: int) -> np.ndarray:
    """Boolean mask of the outer border ring, :data:`RING` pixels wide."""
    mask = np.ones((height, width), dtype=bool)
    mask[RING:-RING, RING:-RING] = False
    return mask


def _central_slices(height: int, width: int) -> tuple[slice, slice]:
    """Slices of the central :data:`CENTRAL` × :data:`CENTRAL` box."""
    cy, cx, half = height // 2, width // 2, CENTRAL // 2
    return slice(cy - half, cy + half), slice(cx - half, cx + half)


def _robust_level(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Median and robust sigma (1.4826 MAD) along axis 1 of ``pixels``."""
    median = np.median(pixels, axis=1)
    mad = np.median(np.abs(pixels - np.expand_dims(median, 1)), axis=1)
    return median, MAD_TO_SIGMA * mad


def _grouped_level(values: np.ndarray) -> tuple[float, float]:
    """Median and 1.4826 MAD of integer-valued ``values``, not snapped to the integer grid.

    Each integer level is spread uniformly over ±0.5 (the grouped distribution), median and MAD are
    interpolated, and the MAD-sigma of one bin (0.371) is removed in quadrature. Plain MAD of rounded
    σ = 5 noise reads 4.45 or 5.93; this gives 5.04 ± 0.13 on a 6-px ring, 1.01 for σ = 1, 0 if flat.
    """
    levels, counts = np.unique(values, return_counts=True)
    cdf = np.cumsum(counts) / values.size
    xs = np.ravel(np.stack([levels - 0.5, levels + 0.5], axis=1))
    fs = np.ravel(np.stack([cdf - counts / values.size, cdf], axis=1))
    median = float(np.interp(0.5, fs, xs))
    dev = np.unique(np.r_[0.0, np.abs(xs - median)])
    within = np.interp(median + dev, xs, fs) - np.interp(median - dev, xs, fs)
    sigma = MAD_TO_SIGMA * float(np.interp(0.5, within, dev))
    return median, float(np.sqrt(max(sigma**2 - BIN_SIGMA**2, 0.0)))


def _channel_levels(ring: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Background and noise per cutout and channel of ``(N, P, C)`` ring pixels."""
    if not np.array_equal(ring, np.round(ring)):
        return _robust_level(ring)
    levels = [[_grouped_level(ring[k, :, c]) for c in range(ring.shape[2])] for k in range(len(ring))]
    levels = np.asarray(levels, dtype=np.float64).reshape(len(ring), ring.shape[2], 2)
    return levels[..., 0], levels[..., 1]


def _centre_segment(sub: np.ndarray) -> np.ndarray:
    """Mask of the detected connected region at the centre of a background-subtracted image.

    The image is smoothed (Gaussian, σ = 1 px), the noise of the smoothed image is measured on the border
    ring, pixels above ``2 * max(noise, 0.5)`` are segmented (8-connected) and the region containing the
    central pixel is kept, else the one with most pixels in the central box; empty if there is none.
    """
    smooth = ndimage.gaussian_filter(sub, DETECT_SMOOTH, mode="nearest")
    level, noise = _robust_level(smooth[_ring_mask(*sub.shape)][None, :])
    above = smooth - level[0] > DETECT_NSIGMA * max(float(noise[0]), NOISE_FLOOR)
    labels, count = ndimage.label(above, structure=np.ones((3, 3)))
    centre = labels[sub.shape[0] // 2, sub.shape[1] // 2] if count else 0
    if count and centre == 0:
        hits = np.bincount(labels[_central_slices(*sub.shape)].ravel(), minlength=count + 1)[1:]
        centre = int(np.argmax(hits)) + 1 if hits.max() > 0 else 0
    return labels == centre if centre else np.zeros_like(above)


def _moment_radius(sub: np.ndarray, segment: np.ndarray) -> float:
    """Flux-weighted second-moment radius ``sqrt(<r²>)`` of ``sub`` (clipped at 0) over ``segment``.

    0.0 for an empty segment or one without positive flux. A 2-D Gaussian of width ``s`` wholly inside
    the segment gives ``sqrt(2) * s``; truncation at the detection threshold makes it smaller.
    """
    weights = np.where(segment, np.clip(sub, 0.0, None), 0.0)
    total = weights.sum()
    if not np.isfinite(total) or total <= 0:
        return 0.0
    yy, xx = np.indices(sub.shape, dtype=np.float64)
    yc, xc = (weights * yy).sum() / total, (weights * xx).sum() / total
    return float(np.sqrt((weights * ((yy - yc) ** 2 + (xx - xc) ** 2)).sum() / total))


def image_statistics(images: np.ndarray) -> dict[str, np.ndarray]:
    """Simple per-cutout statistics of ``(N, H, W, 3)`` RGB cutouts (normally uint8, 0-255).

    Returns
    -------
    dict of str to numpy.ndarray
        Per channel, ``(N, 3)``: ``background`` (median of the 6-px outer border ring), ``noise``
        (robust sigma, 1.4826 × MAD, of that ring; for integer data de-quantised, see
        :func:`_grouped_level`), ``central`` (mean of the central 8×8 box minus ``background``).

        On the luminance ``L`` = channel mean minus its border-ring median, ``(N,)``:
        ``central_brightness`` (mean of ``L`` in the central 8×8 box); ``size``, the flux-weighted
        second-moment radius ``sqrt(<r²>)`` in pixels of ``L`` clipped at 0 over the connected region at
        the centre detected at 2σ on ``L`` smoothed by σ = 1 px (:func:`_centre_segment`), 0.0 when
        nothing is detected there (flat images); ``area``, that region's pixel count; ``peak``, max of
        ``L``; ``field_sources``, how many small sources lie around the candidate
        (:func:`galview.sim.field_sources.field_source_counts`). All values are finite for finite input.
    """
    data = _as_images(images)
    n, height, width, _ = data.shape
    ring = _ring_mask(height, width)
    rows, cols = _central_slices(height, width)
    background, noise = _channel_levels(data[:, ring, :])
    lum = data.mean(axis=3)
    sub = lum - np.median(lum[:, ring], axis=1)[:, None, None]
    size, area = np.zeros(n), np.zeros(n)
    for k in range(n):
        segment = _centre_segment(sub[k])
        size[k], area[k] = _moment_radius(sub[k], segment), segment.sum()
    return {
        "background": background,
        "noise": noise,
        "central": data[:, rows, cols, :].mean(axis=(1, 2)) - background,
        "central_brightness": sub[:, rows, cols].mean(axis=(1, 2)),
        "size": size,
        "area": area,
        "peak": sub.max(axis=(1, 2)),
        "field_sources": field_source_counts(data).astype(float),
    }


def summary_table(stats: dict[str, np.ndarray]) -> dict[str, dict[str, float]]:
    """Median and 16/84 percentiles of every statistic of :func:`image_statistics`, per channel.

    Returns ``{row: {"median", "p16", "p84", "n"}}`` with rows ``"<stat>_R"``, ``"<stat>_G"``, ... for
    ``(N, C)`` statistics. Non-finite values are ignored (``n`` counts the finite ones).
    """
    table: dict[str, dict[str, float]] = {}
    for name, values in stats.items():
        values = np.asarray(values, dtype=np.float64)
        columns = [(name, values)]
        if values.ndim == 2:
            labels = CHANNELS if values.shape[1] == 3 else [str(c) for c in range(values.shape[1])]
            columns = [(f"{name}_{label}", values[:, c]) for c, label in enumerate(labels)]
        for row, column in columns:
            finite = column[np.isfinite(column)]
            p16, median, p84 = np.percentile(finite, [16, 50, 84]) if finite.size else [np.nan] * 3
            table[row] = {"median": float(median), "p16": float(p16), "p84": float(p84), "n": finite.size}
    return table


def _pixel_features(data: np.ndarray) -> tuple[list[np.ndarray], list[str]]:
    """Channel means/stds, mean-colour ratios, luminance percentiles, saturated fraction, radial profile."""
    means, stds = data.mean(axis=(1, 2)), data.std(axis=(1, 2))
    lum = data.mean(axis=3)
    levels = (1, 5, 25, 50, 75, 95, 99)
    columns = [means, stds, means[:, [0, 2]] / np.maximum(means[:, [1]], 1.0)]
    columns += [np.percentile(lum.reshape(len(data), -1), levels, axis=1).T]
    columns += [(data.max(axis=3) >= 250).mean(axis=(1, 2))[:, None]]
    names = [f"mean_{c}" for c in CHANNELS] + [f"std_{c}" for c in CHANNELS] + ["ratio_R_G", "ratio_B_G"]
    names += [f"lum_p{p}" for p in levels] + ["saturated_fraction"]
    sub = lum - np.median(lum[:, _ring_mask(*lum.shape[1:])], axis=1)[:, None, None]
    yy, xx = np.indices(lum.shape[1:])
    radius = np.hypot(yy - (lum.shape[1] - 1) / 2, xx - (lum.shape[2] - 1) / 2)
    for inner, outer in zip(ANNULI[:-1], ANNULI[1:], strict=True):
        annulus = (radius >= inner) & (radius < outer)
        if annulus.any():
            columns.append(sub[:, annulus].mean(axis=1)[:, None])
            names.append(f"profile_{inner}_{outer}px")
    return columns, names


def cutout_features(images: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """The ``(N, F)`` features (non-finite set to 0) and ``F`` names used by :func:`realism_auc`.

    Features: :func:`image_statistics` (per channel where relevant), central colour (``colour_R_G`` =
    central_R - central_G, ``colour_B_G``), channel means and stds, mean-colour ratios, luminance
    percentiles, saturated-pixel fraction and a radial luminance profile (:data:`ANNULI`).
    """
    data = _as_images(images)
    stats = image_statistics(data)
    columns = [v if v.ndim == 2 else v[:, None] for v in stats.values()]
    names: list[str] = []
    for key, values in stats.items():
        names += [f"{key}_{c}" for c in CHANNELS] if values.ndim == 2 else [key]
    central = stats["central"]
    columns.append(central[:, [0, 2]] - central[:, [1]])
    names += ["colour_R_G", "colour_B_G"]
    pixel_columns, pixel_names = _pixel_features(data)
    features = np.concatenate(columns + pixel_columns, axis=1)
    return np.nan_to_num(features, nan=0.0, posinf=0.0, neginf=0.0), names + pixel_names


def _cv_aucs(x: np.ndarray, y: np.ndarray, n_splits: int, n_trees: int, seed: int):
    """Per-fold ROC AUCs of both classifiers and the forest's importances averaged over folds."""
    folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    logistic, forest, importances = [], [], []
    for train, test in folds.split(x, y):
        linear = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
        linear.fit(x[train], y[train])
        logistic.append(roc_auc_score(y[test], linear.predict_proba(x[test])[:, 1]))
        trees = RandomForestClassifier(n_estimators=n_trees, min_samples_leaf=2, random_state=seed, n_jobs=1)
        trees.fit(x[train], y[train])
        forest.append(roc_auc_score(y[test], trees.predict_proba(x[test])[:, 1]))
        importances.append(trees.feature_importances_)
    return logistic, forest, np.mean(importances, axis=0)


def realism_auc(real, sim, seed=0, n_repeats=5, n_splits=5, n_trees=100, n_top=10) -> dict:
    """Cross-validated ROC AUC of classifiers trying to tell real cutouts from simulated ones.

    Features: :func:`cutout_features`. The larger sample is subsampled to the size of the smaller,
    ``n_repeats`` times (once if sizes are equal); each balanced set gets a stratified ``n_splits``-fold
    cross-validation of a standardised logistic regression and a random forest of ``n_trees`` trees.

    How to read it: AUC 0.5 = indistinguishable by these statistics (with ~100 cutouts per class up to
    ~0.6 is consistent with chance), 1.0 = trivially separable. ``top_features`` (forest impurity
    importances averaged over all fits, summing to 1 over all features) say which statistics give the
    simulation away; they mean something only when the AUC is clearly above 0.5.

    Returns
    -------
    dict
        ``auc_logistic``, ``auc_forest`` (means over folds and repeats), ``auc_logistic_std``,
        ``auc_forest_std``, ``n_per_class``, ``top_features``: ``n_top`` ``(name, importance)`` pairs.
    """
    x_real, names = cutout_features(real)
    x_sim, _ = cutout_features(sim)
    n = min(len(x_real), len(x_sim))
    if n < 2:
        raise ValueError("need at least 2 real and 2 simulated cutouts")
    rng = np.random.default_rng(seed)
    y = np.r_[np.ones(n, dtype=int), np.zeros(n, dtype=int)]
    logistic, forest, importances = [], [], []
    for repeat in range(n_repeats if len(x_real) != len(x_sim) else 1):
        pick_real = np.sort(rng.choice(len(x_real), n, replace=False))
        pick_sim = np.sort(rng.choice(len(x_sim), n, replace=False))
        x = np.concatenate([x_real[pick_real], x_sim[pick_sim]])
        lin, tree, imp = _cv_aucs(x, y, max(2, min(n_splits, n)), n_trees, seed + repeat)
        logistic, forest = logistic + lin, forest + tree
        importances.append(imp)
    importance = np.mean(importances, axis=0)
    result: dict = {"n_per_class": n}
    for key, aucs in (("auc_logistic", logistic), ("auc_forest", forest)):
        result |= {key: float(np.mean(aucs)), f"{key}_std": float(np.std(aucs))}
    result["top_features"] = [(names[i], float(importance[i])) for i in np.argsort(importance)[::-1][:n_top]]
    return result


def statistic_aucs(real: np.ndarray, sim: np.ndarray) -> list[tuple[str, float]]:
    """ROC AUC of each statistic of :func:`cutout_features` alone (real = positive), furthest from 0.5 first.

    An AUC of 0.3 means the statistic is as telling as 0.7, in the other direction (real lower).
    """
    from sklearn.metrics import roc_auc_score

    x_real, names = cutout_features(real)
    x_sim, _ = cutout_features(sim)
    y = np.r_[np.ones(len(x_real)), np.zeros(len(x_sim))]
    x = np.nan_to_num(np.concatenate([x_real, x_sim]))
    aucs = [float(roc_auc_score(y, x[:, k])) for k in range(x.shape[1])]
    order = np.argsort([-abs(a - 0.5) for a in aucs], kind="stable")
    return [(names[k], aucs[k]) for k in order]


def _block_rows(real, sim, real_labels, sim_labels, n) -> list[tuple[str, np.ndarray]]:
    """The (caption, cutouts) rows of :func:`side_by_side`, cutouts evenly spaced through each group."""
    rows = []
    for source, images, labels in (("real DES", real, real_labels), ("simulated", sim, sim_labels)):
        images = np.asarray(images)
        groups = [("cutouts", images)]
        if labels is not None:
            labels = np.asarray(labels)
            groups = [("LSBG", images[labels == 1]), ("artifact", images[labels == 0])]
        for name, group in groups:
            index = np.unique(np.linspace(0, len(group) - 1, min(n, len(group))).round().astype(int))
            rows.append((f"{source} {name}", group[index]))
    return rows


def side_by_side(real, sim, path, n: int = 8, real_labels=None, sim_labels=None) -> Path:
    """Write a PNG of real cutouts (top rows) and simulated ones (bottom rows) for judging by eye.

    Real rows come first (LSBGs then artifacts when ``real_labels`` are given; 1 = LSBG, 0 = artifact),
    then simulated rows (likewise with ``sim_labels``), each under a caption ("real DES LSBG",
    "simulated artifact", ...). Up to ``n`` cutouts per row, chosen deterministically (evenly spaced
    through each group), upscaled ×2 nearest-neighbour. With tiles of ``T = 2 * max(H, W)`` and ``R``
    rows the figure is ``n * (T + 4) + 4`` wide and ``R * (16 + T + 4) + 4`` high. Parent folders of
    ``path`` are created; returns ``path`` as a :class:`~pathlib.Path`.
    """
    rows = _block_rows(real, sim, real_labels, sim_labels, n)
    tile = ZOOM * max(max(np.asarray(a).shape[1:3]) for a in (real, sim))
    width, row_h = n * (tile + GAP) + GAP, CAPTION_H + tile + GAP
    figure = Image.new("RGB", (width, len(rows) * row_h + GAP), (255, 255, 255))
    draw, font = ImageDraw.Draw(figure), ImageFont.load_default()
    for r, (caption, images) in enumerate(rows):
        top = GAP + r * row_h
        draw.text((GAP, top + 2), f"{caption} ({len(images)} shown)", fill=(0, 0, 0), font=font)
        for k, cutout in enumerate(images[:n]):
            cell = Image.fromarray(np.ascontiguousarray(cutout, dtype=np.uint8), mode="RGB")
            cell = cell.resize((cell.width * ZOOM, cell.height * ZOOM), Image.Resampling.NEAREST)
            figure.paste(cell, (GAP + k * (tile + GAP), top + CAPTION_H))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.save(path, format="PNG")
    return path


def load_real(path) -> tuple[np.ndarray, np.ndarray | None]:
    """Read ``images`` (and ``labels`` when present) from a real-cutout ``.npz`` file."""
    with np.load(Path(path), allow_pickle=False) as data:
        labels = np.asarray(data["labels"]) if "labels" in data.files else None
        return np.asarray(data["images"]), labels


def _cell(row: dict | None) -> str:
    """``median [p16, p84]`` of one summary row, or a dash."""
    if row is None or not np.isfinite(row["median"]):
        return "–"
    return f"{row['median']:.2f} [{row['p16']:.2f}, {row['p84']:.2f}]"


def _statistics_lines(groups: list[tuple[str, np.ndarray]]) -> list[str]:
    """Markdown table of the summary statistics, one column per (name, cutouts) group."""
    tables = [summary_table(image_statistics(images)) if len(images) else {} for _, images in groups]
    header = " | ".join(f"{name} (N={len(images)})" for name, images in groups)
    lines = [f"| statistic: median [p16, p84] | {header} |", "|---" * (len(groups) + 1) + "|"]
    for row in next((t for t in tables if t), {}):
        lines.append(f"| {row} | " + " | ".join(_cell(t.get(row)) for t in tables) + " |")
    return lines


def _auc_line(name: str, real: np.ndarray, sim: np.ndarray, options: dict) -> str:
    """Markdown row with the two AUCs and the top features of one real-vs-sim comparison."""
    if min(len(real), len(sim)) < 4:
        return f"| {name} | – | – | too few cutouts | – | {min(len(real), len(sim))} |"
    result = realism_auc(real, sim, **options)
    top = ", ".join(f"{feature} {weight:.2f}" for feature, weight in result["top_features"][:5])
    single = ", ".join(f"{feature} {auc:.2f}" for feature, auc in statistic_aucs(real, sim)[:4])
    return (
        f"| {name} | {result['auc_logistic']:.3f} ± {result['auc_logistic_std']:.3f} "
        f"| {result['auc_forest']:.3f} ± {result['auc_forest_std']:.3f} | {top} | {single} "
        f"| {result['n_per_class']} |"
    )


def _groups(real, real_labels, sim, sim_labels) -> list[tuple[str, np.ndarray]]:
    """The (name, cutouts) groups compared: real, sim, then per class when both have labels."""
    groups = [("real", real), ("sim", sim)]
    if real_labels is not None and sim_labels is not None:
        for label, name in ((1, "LSBG"), (0, "artifact")):
            groups.append((f"real {name}", real[np.asarray(real_labels) == label]))
            groups.append((f"sim {name}", sim[np.asarray(sim_labels) == label]))
    return groups


def compare(real_path_or_array, sim_images, sim_labels=None, real_labels=None, **auc_options) -> str:
    """A markdown comparison of real and simulated cutouts, ready to paste into BENCHMARKS.md.

    ``real_path_or_array`` is a real-cutout ``.npz`` (arrays ``images``, optional ``labels``) or an
    ``(N, H, W, 3)`` array; ``sim_images`` the simulated ``(M, H, W, 3)`` uint8 cutouts; labels are
    1 = LSBG, 0 = artifact (``real_labels`` is read from the file when a path is given). With both labels,
    per-class columns and AUCs are added; ``auc_options`` go to :func:`realism_auc`. Returns a table of :func:`summary_table` statistics
    (median [p16, p84]) per group and a table of :func:`realism_auc` results (mean ± std over folds;
    0.5 = indistinguishable) with the top five forest features, then the small sources around the
    candidates (:mod:`galview.sim.field_sources`) of the real and the simulated cutouts.
    """
    real = np.asarray(real_path_or_array)
    if isinstance(real_path_or_array, str | Path):
        real, file_labels = load_real(real_path_or_array)
        real_labels = file_labels if real_labels is None else real_labels
    groups = _groups(real, real_labels, np.asarray(sim_images), sim_labels)
    lines = _statistics_lines(groups) + ["", f"| real vs sim | {AUC_HEADER} |", "|---|---|---|---|---|---|"]
    for k in range(0, len(groups), 2):
        lines.append(_auc_line(groups[k][0][5:] or "all", groups[k][1], groups[k + 1][1], auc_options))
    lines += [
        "",
        "| small sources around the candidate | mean count | sharpness (median) | redness (median) "
        "| sources measured |",
        "|---|---|---|---|---|",
    ]
    lines += [field_source_line(name, images) for name, images in groups[:2]]
    return "\n".join(lines) + "\n"

"""The physical adapter: survey fluxes on a known pixel grid → the input a model was trained on.

A model card's :class:`~galview.ml.cards.InputSpec` may say where its input lies on the sky
(``pixel_scale``, ``field_arcsec``) and what its pixels are (``representation``; for viewer colours,
``colours``: how fluxes were mapped). A collection's cutouts are described by :class:`SkyCutouts`
(pixel scale and orientation from the WCS, band names, flux unit). When both sides are known,
:func:`physical_adapter` builds the conversion, stored in the spec like the plain adapters
(``{"from": …, "physical": …}``), and :func:`apply_physical` runs it on a batch:

1. the model's bands are picked by name and turned north up, east left (the viewer's orientation);
2. the central field of the model's size is cut out and resampled, conserving flux, to the pixel
   scale the colours are made at (for a flux model: to the model's own grid), both in one linear map
   (:func:`overlap_matrix`: each output pixel sums the fractions of the input pixels it covers);
3. viewer colours: :func:`galview.core.viewer_colours.viewer_rgb`, the function the simulator drew the
   training cutouts with (Legacy-Survey-like asinh grz mapping, JPEG round trip, bicubic resize).

:func:`heat_to_cutout` takes heat maps back to the cutouts' own pixel grid (zero outside the field the
model saw); :func:`describe` says in one line what the adapter does. No Keras here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from galview.ml.cards import InputSpec
from galview.ml.errors import ModelError

#: BUNIT spellings of the nanomaggy (lower case), the flux unit of SDSS, the Legacy Surveys and DES.
NANOMAGGY_UNITS = ("nanomaggy", "nanomaggies", "nmgy", "nanomaggy per pixel", "nanomaggies per pixel")
#: Bands whose cutouts the Legacy Survey and DES cutout services deliver in nanomaggies.
NANOMAGGY_BANDS = ("g", "r", "i", "z")
COLOUR_MAPPINGS = {"legacy": "Legacy-Survey colours"}
#: Largest rotation of the pixel grid against north (degrees) read as axis-aligned.
MAX_ROTATION_DEG = 1.0


@dataclass(frozen=True)
class SkyCutouts:
    """What a collection's cutouts are on the sky, as far as its files say.

    Attributes
    ----------
    shape : tuple of int
        ``(H, W, C)``.
    dtype : str
        Pixel type (fluxes are float).
    bands : tuple of str
        The collection's band names (defaults such as ``band0`` when the file names none).
    pixel_scale : float or None
        Arcseconds per pixel from the WCS; None when unknown.
    flip_rows, flip_cols : bool
        Whether row 0 is the south edge / column 0 the west edge (turned for north up, east left).
    flux_unit : str or None
        ``"nanomaggies"`` or the unit the file states; None when unknown.
    unit_note : str
        Where the unit comes from, for the user (``"BUNIT"``, or the convention assumed).
    problems : tuple of str
        What is unknown or unusable, in words (empty when the cutouts can be adapted).
    """

    shape: tuple[int, int, int]
    dtype: str
    bands: tuple[str, ...]
    pixel_scale: float | None = None
    flip_rows: bool = False
    flip_cols: bool = False
    flux_unit: str | None = None
    unit_note: str = ""
    problems: tuple[str, ...] = ()


def normalise_unit(unit: str | None) -> str | None:
    """``"nanomaggies"`` for any spelling of the nanomaggy, else ``unit`` unchanged."""
    if unit is None:
        return None
    return "nanomaggies" if unit.strip().lower() in NANOMAGGY_UNITS else unit.strip()


def grid_from_wcs(wcs) -> tuple[float | None, bool, bool, str | None]:
    """(arcsec per pixel, flip_rows, flip_cols, problem) of a celestial WCS; problem None when usable."""
    if wcs is None:
        return None, False, False, "pixel scale unknown (no celestial WCS)"
    matrix = np.asarray(wcs.pixel_scale_matrix, dtype=np.float64) * 3600.0  # ″ per pixel, (world, pixel)
    scales = np.hypot(matrix[0], matrix[1])
    if not np.all(np.isfinite(scales)) or scales.min() <= 0:
        return None, False, False, "pixel scale unreadable from the WCS"
    if abs(scales[0] - scales[1]) > 0.01 * scales.max():
        return None, False, False, f"pixels are not square ({scales[0]:.3f}″ × {scales[1]:.3f}″)"
    rotation = np.degrees(
        np.arctan2(abs(matrix[0, 1]) + abs(matrix[1, 0]), abs(matrix[0, 0]) + abs(matrix[1, 1]))
    )
    if rotation > MAX_ROTATION_DEG:
        return None, False, False, f"the pixel grid is rotated {rotation:.1f}° from north"
    # dRA/dx > 0: east is to the right, so column 0 is west; dDec/dy > 0: row 0 is south.
    return float(scales.mean()), bool(matrix[1, 1] > 0), bool(matrix[0, 0] > 0), None


def model_problems(spec: InputSpec) -> list[str]:
    """Why the model side of a physical adapter is unknown (empty when its card says enough)."""
    problems = []
    if spec.field_arcsec is None or spec.pixel_scale is None:
        problems.append("the model card does not record the field of view and pixel scale it was trained at")
    if spec.colours is not None:
        colours = spec.colours
        if colours.get("mapping") not in COLOUR_MAPPINGS:
            problems.append(
                f"the model card's colour mapping {colours.get('mapping')!r} is not one GalView knows"
            )
        if not colours.get("bands") or not _positive(colours.get("pixel_scale")):
            problems.append("the model card's colours lack their flux bands or pixel scale")
    elif not (spec.representation or "").startswith("flux"):
        problems.append("the model card does not say what its pixels represent (viewer colours or flux)")
    return problems


def physical_adapter(sky: SkyCutouts, spec: InputSpec) -> dict[str, Any]:
    """The adapter from cutouts ``sky`` to ``spec`` (JSON-ready); ModelError saying what is unknown.

    Returns
    -------
    dict
        ``{"from": {shape, pixel_scale, bands, flux_unit, unit_note}, "physical": {select_bands,
        flip_rows, flip_cols, field_arcsec, pixel_scale, pixels, size, colours, representation}}``.
    """
    problems = list(sky.problems) + model_problems(spec)
    wanted = tuple(spec.colours["bands"]) if spec.colours is not None else tuple(spec.bands)
    unit = spec.colours.get("flux_unit") if spec.colours is not None else _flux_unit(spec)
    missing = [b for b in wanted if b not in sky.bands]
    if missing:
        problems.append(f"the model needs bands {','.join(wanted)}; the collection has {','.join(sky.bands)}")
    if not problems and unit and normalise_unit(unit) != sky.flux_unit:
        problems.append(f"the model's fluxes are in {unit}; the collection's in {sky.flux_unit}")
    if not problems:
        problems += _field_problems(sky, spec)
    if problems:
        raise ModelError("physical adapter", "; ".join(dict.fromkeys(problems)))
    scale = float(spec.colours["pixel_scale"]) if spec.colours is not None else float(spec.pixel_scale)
    pixels = round(spec.field_arcsec / scale) if spec.colours is not None else int(spec.shape[0])
    return {
        "from": {
            "shape": list(sky.shape),
            "pixel_scale": sky.pixel_scale,
            "bands": list(sky.bands),
            "flux_unit": sky.flux_unit,
            "unit_note": sky.unit_note,
        },
        "physical": {
            "select_bands": [sky.bands.index(b) for b in wanted],
            "flip_rows": sky.flip_rows,
            "flip_cols": sky.flip_cols,
            "field_arcsec": pixels * scale,
            "pixel_scale": scale,
            "pixels": pixels,
            "size": [int(spec.shape[0]), int(spec.shape[1])],
            "colours": None if spec.colours is None else dict(spec.colours),
            "representation": spec.representation,
        },
    }


def _field_problems(sky: SkyCutouts, spec: InputSpec) -> list[str]:
    h, w = sky.shape[:2]
    have = min(h, w) * sky.pixel_scale
    if have + sky.pixel_scale < spec.field_arcsec:  # a pixel's grace: 149.9 px of 150 is the field
        return [f"the cutouts cover {have:.1f}″; the model was trained on {spec.field_arcsec:.1f}″ fields"]
    if spec.shape[0] != spec.shape[1]:
        return ["the model's input is not square"]
    return []


def overlap_matrix(n_in: int, n_out: int, step: float, flip: bool = False) -> np.ndarray:
    """The flux-conserving crop-and-resample of one axis: ``(n_out, n_in)`` float64.

    Output pixel ``j`` spans ``step`` input pixels, the ``n_out`` of them centred on the input; entry
    ``[j, i]`` is the fraction of input pixel ``i`` inside output pixel ``j``, so ``M @ flux`` is the
    flux in each output pixel. ``flip`` reverses the output order.
    """
    start = n_in / 2 - n_out * step / 2
    edges = start + step * np.arange(n_out + 1)
    pixels = np.arange(n_in)
    low = np.maximum(edges[:-1, None], pixels[None, :])
    high = np.minimum(edges[1:, None], pixels[None, :] + 1)
    matrix = np.clip(high - low, 0.0, None)
    return matrix[::-1] if flip else matrix


def back_matrix(n_in: int, n_model: int, span: float, flip: bool = False) -> np.ndarray:
    """Bilinear weights ``(n_in, n_model)`` reading a model-grid map at the input pixels' centres.

    The model grid covers ``span`` input pixels centred on the input; input pixels outside it get
    no weight (their heat is zero).
    """
    centres = np.arange(n_in) + 0.5
    t = (centres - (n_in - span) / 2) / span * n_model - 0.5  # position on the model grid
    if flip:
        t = n_model - 1 - t
    inside = (t >= -0.5) & (t <= n_model - 0.5)
    t = np.clip(t, 0.0, n_model - 1)
    low = np.floor(t).astype(int)
    high = np.minimum(low + 1, n_model - 1)
    frac = t - low
    weights = np.zeros((n_in, n_model))
    rows = np.arange(n_in)
    np.add.at(weights, (rows, low), (1 - frac) * inside)
    np.add.at(weights, (rows, high), frac * inside)
    return weights


def resample_fluxes(batch: Any, adapter: dict[str, Any]) -> np.ndarray:
    """Steps 1–2: ``(B, H, W, C)`` fluxes → ``(B, n, n, K)`` float32 fluxes per resampled pixel."""
    source, step = adapter["from"], adapter["physical"]
    x = np.asarray(batch)[..., list(step["select_bands"])].astype(np.float32)
    np.nan_to_num(x, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
    ratio = float(step["pixel_scale"]) / float(source["pixel_scale"])
    n = int(step["pixels"])
    b, h, w, c = x.shape
    rows = overlap_matrix(h, n, ratio, bool(step["flip_rows"])).astype(np.float32)
    cols = overlap_matrix(w, n, ratio, bool(step["flip_cols"])).astype(np.float32)
    # two matrix products in float32 (rows, then columns): twice as fast as one float64 einsum, and the
    # sums of a few pixels' flux lose nothing a float32 result keeps
    by_rows = np.matmul(rows, x.reshape(b, h, w * c)).reshape(b, n, w, c)
    return np.ascontiguousarray(np.tensordot(by_rows, cols, axes=([2], [1])).transpose(0, 1, 3, 2))


def apply_physical(batch: Any, adapter: dict[str, Any]) -> np.ndarray:
    """Run a physical adapter on ``(B, H, W, C)`` fluxes.

    Returns
    -------
    ndarray
        ``(B, *size, 3)`` uint8 viewer colours for a colour model, else ``(B, *size, K)`` float32
        fluxes per model pixel; the card's scaling is applied after this.
    """
    from galview.core.viewer_colours import viewer_rgb_batch

    source = tuple(adapter["from"]["shape"])
    if np.shape(batch)[1:] != source:
        raise ModelError(
            "physical adapter", f"made for {_fmt(source)} cutouts, not {_fmt(np.shape(batch)[1:])}"
        )
    fluxes = resample_fluxes(batch, adapter)
    colours = adapter["physical"]["colours"]
    if colours is None:
        return fluxes
    size, quality = int(adapter["physical"]["size"][0]), colours.get("jpeg_quality")
    if not len(fluxes):
        return np.zeros((0, size, size, 3), np.uint8)
    return viewer_rgb_batch(fluxes, tuple(colours["bands"]), size, quality)


def heat_to_cutout(maps: np.ndarray, adapter: dict[str, Any]) -> np.ndarray:
    """Heat maps ``(B, h, w)`` on the model's grid → ``(B, H, W)`` on the cutouts' grid, 0 outside the field."""
    source, step = adapter["from"], adapter["physical"]
    h, w = source["shape"][:2]
    span = float(step["field_arcsec"]) / float(source["pixel_scale"])  # input pixels the model saw
    maps = np.asarray(maps, np.float64)
    rows = back_matrix(h, maps.shape[1], span, bool(step["flip_rows"]))
    cols = back_matrix(w, maps.shape[2], span, bool(step["flip_cols"]))
    return np.einsum("ij,bjk,lk->bil", rows, maps, cols, optimize=True).astype(np.float32)


def describe(adapter: dict[str, Any]) -> str:
    """One line: what the adapter does, e.g. ``256×256 g,r,z nanomaggies at 0.200″/px → 64×64 viewer
    colours at 0.468″/px (crop 30.0″, flux-conserving resample, Legacy-Survey colours, north up)``."""
    source, step = adapter["from"], adapter["physical"]
    h, w = source["shape"][:2]
    bands = ",".join(source["bands"][i] for i in step["select_bands"])
    size = step["size"]
    model_scale = float(step["field_arcsec"]) / int(size[0])
    colours = step["colours"]
    what = "viewer colours" if colours else f"{source['flux_unit']}"
    how = [f"crop {float(step['field_arcsec']):.1f}″", "flux-conserving resample"]
    if colours:
        how[-1] += f" to {float(step['pixel_scale']):.3f}″/px"
        how.append(COLOUR_MAPPINGS.get(colours.get("mapping"), str(colours.get("mapping"))))
    if step["flip_rows"] or step["flip_cols"]:
        how.append("turned north up, east left")
    text = (
        f"{h}×{w} {bands} {source['flux_unit']} at {float(source['pixel_scale']):.3f}″/px → "
        f"{size[0]}×{size[1]} {what} at {model_scale:.3f}″/px ({', '.join(how)})"
    )
    note = source.get("unit_note") or ""
    return f"{text}; {note}" if "assumed" in note else text


def _flux_unit(spec: InputSpec) -> str | None:
    text = spec.representation or ""
    return (text.split(":", 1)[1].strip() or None) if text.startswith("flux:") else None


def _positive(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 1e6


def _fmt(shape) -> str:
    return "×".join(str(int(s)) for s in shape)

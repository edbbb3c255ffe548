"""Where a model meets a collection: feed the cutouts as they are, or through the physical adapter.

:func:`adapt_for` is the one place that decides. Scoring (:func:`galview.ml.scoring.score_batches`),
heat maps (:func:`galview.ml.gradcam.explain` given the collection), ``galview score`` and
``galview explain`` all go through it, so the window needs no logic of its own: it shows
:func:`adapter_note`, the one line saying what was done.

The collection side (:func:`sky_of`) comes from the files: the pixel scale and orientation from each
cutout's WCS (a sample of them, which must agree), the band names, the flux unit from ``BUNIT`` or —
said so in the note — the nanomaggie convention of Legacy Survey and DES g/r/i/z cutouts.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import weakref
from typing import Any

import numpy as np

from galview.core.errors import CollectionError
from galview.ml.errors import ModelError
from galview.ml.inputs import check_compatible
from galview.ml.physical import (
    NANOMAGGY_BANDS,
    SkyCutouts,
    describe,
    grid_from_wcs,
    normalise_unit,
    physical_adapter,
)

logger = logging.getLogger(__name__)

#: Cutouts whose WCS is read to find the collection's pixel grid (spread evenly; they must agree).
WCS_SAMPLE = 8
# collection → {(model input spec as JSON, adapt): (adapter or None, note or None, error or None)}
_RESOLVED: weakref.WeakKeyDictionary[Any, dict[tuple[str, bool], tuple]] = weakref.WeakKeyDictionary()


def sky_of(collection) -> SkyCutouts:
    """What ``collection``'s cutouts are on the sky, from its files; unknowns listed in ``problems``.

    Parameters
    ----------
    collection : Collection
        Read: ``shape``, ``dtype``, ``bands``, ``wcs(i)`` of up to :data:`WCS_SAMPLE` cutouts and
        ``flux_unit()``. No pixels are read.
    """
    dtype = np.dtype(collection.dtype)
    bands = tuple(str(b) for b in collection.bands)
    problems = [] if dtype.kind == "f" else [f"the cutouts are {dtype.name} colours, not float fluxes"]
    scale, flip_rows, flip_cols, problem = _pixel_grid(collection)
    if problem:
        problems.append(problem)
    unit, note = normalise_unit(collection.flux_unit()), "BUNIT"
    if unit is None and dtype.kind == "f":
        if bands and all(b in NANOMAGGY_BANDS for b in bands):
            unit = "nanomaggies"
            note = (
                f"flux unit assumed nanomaggies (no BUNIT; Legacy Survey and DES {','.join(bands)} "
                "cutouts are in nanomaggies)"
            )
        else:
            problems.append("flux unit unknown (no BUNIT in the header)")
    return SkyCutouts(
        tuple(collection.shape), dtype.name, bands, scale, flip_rows, flip_cols, unit, note, tuple(problems)
    )


def _pixel_grid(collection) -> tuple[float | None, bool, bool, str | None]:
    n = len(collection)
    picks = np.unique(np.linspace(0, n - 1, min(n, WCS_SAMPLE)).round().astype(int))
    grids, unreadable = [], []
    for i in picks:
        try:
            grids.append((int(i), grid_from_wcs(collection.wcs(int(i)))))
        except (CollectionError, OSError, ValueError) as exc:  # a damaged file of a folder: the others decide
            unreadable.append(f"the WCS of cutout {int(i)} cannot be read ({exc})")
    if not grids:
        return None, False, False, unreadable[0]
    first, (scale, flip_rows, flip_cols, problem) = grids[0]
    if problem:
        return None, False, False, problem if n == 1 else f"{problem} (cutout {first})"
    for i, (other, rows, cols, trouble) in grids[1:]:
        if trouble or abs(other - scale) > 0.01 * scale or (rows, cols) != (flip_rows, flip_cols):
            seen = trouble or f"{other:.3f}″/px"
            return (
                None,
                False,
                False,
                (f"cutouts differ in pixel grid (cutout {first}: {scale:.3f}″/px, cutout {i}: {seen})"),
            )
    return scale, flip_rows, flip_cols, None


def adapt_for(loaded, collection, adapt: bool = True):
    """``loaded`` ready for ``collection``'s cutouts, and the one line saying what was done.

    Parameters
    ----------
    loaded : LoadedModel
    collection : Collection
    adapt : bool
        False (``--no-adapt``) refuses cutouts that only the physical adapter would make fit.

    Returns
    -------
    (LoadedModel, str or None)
        ``loaded`` itself when the cutouts fit as they are or its card already carries an adapter
        (the note describes a physical one); else a copy whose card carries the physical adapter, and
        its :func:`~galview.ml.physical.describe` line.

    Raises
    ------
    ModelError
        The cutouts do not fit and the physical adapter cannot be built (the message says what is
        unknown), or ``adapt`` is False (the message says what would fit).
    """
    spec = loaded.card.input
    where = str(collection.source)
    if spec.adapter:
        check_compatible(collection.shape, collection.dtype, collection.bands, spec, where=where)
        return loaded, describe(spec.adapter) if "physical" in spec.adapter else None
    key = (json.dumps(spec.to_dict(), sort_keys=True), bool(adapt))
    per_collection = _RESOLVED.setdefault(collection, {})
    if key not in per_collection:
        per_collection[key] = _resolve(spec, collection, where, adapt)
    adapter, note, error = per_collection[key]
    if error is not None:
        raise ModelError(error.path, error.problem)  # a fresh error each time: no growing traceback
    if adapter is None:
        return loaded, None
    return carrying(loaded, adapter), note


def carrying(loaded, adapter: dict | None):
    """A copy of ``loaded`` whose card's input carries ``adapter`` (None: no adapter, the model as
    saved); the model itself is shared, not copied."""
    spec = dataclasses.replace(loaded.card.input, adapter=adapter)
    return dataclasses.replace(loaded, card=dataclasses.replace(loaded.card, input=spec))


def adapter_note(loaded, collection) -> str | None:
    """The line :func:`adapt_for` said for this model and collection, if it has run; None otherwise.

    Cheap (no file is read): for the window's status bar after a scoring job.
    """
    if loaded is None or collection is None:
        return None
    spec = loaded.card.input
    if spec.adapter:
        return describe(spec.adapter) if "physical" in spec.adapter else None
    resolved = _RESOLVED.get(collection, {}).get((json.dumps(spec.to_dict(), sort_keys=True), True))
    return None if resolved is None else resolved[1]


def _resolve(spec, collection, where: str, adapt: bool) -> tuple:
    try:
        check_compatible(collection.shape, collection.dtype, collection.bands, spec, where=where)
        return None, None, None
    except ModelError as exc:
        if np.dtype(collection.dtype).kind != "f":  # colours already: no fluxes to convert
            return None, None, exc
        mismatch = exc.problem
    try:
        adapter = physical_adapter(sky_of(collection), spec)
    except ModelError as why_not:
        return None, None, ModelError(where, f"{mismatch}; no physical adapter: {why_not.problem}")
    note = describe(adapter)
    if not adapt:
        wanted = mismatch.split(" — ")[0]
        return (
            None,
            None,
            ModelError(
                where, f"{wanted}; not adapted (--no-adapt). What would fit: the physical adapter, {note}"
            ),
        )
    logger.info("%s: physical adapter: %s", where, note)
    return adapter, note, None

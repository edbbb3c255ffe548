"""Figures the window saves, drawn and written by a job: the grid as an image, and the Sérsic fits.

Drawing 400 cutouts took 1.4 s of the demo's small ones and longer of large FITS cutouts, and a figure of
100 fits 0.5 s: in the window's thread that froze it (BENCHMARKS.md, "Figures saved from the window").
The window starts these as jobs of its one runner (or runs them in its thread under a wait cursor while
another job runs); each draws its cutouts in chunks, reporting progress and stopping on Cancel before
anything is written.
"""

from __future__ import annotations

import numpy as np

from galview.core.jobs import Progress

#: Cutouts drawn between two progress reports (and looks at Cancel).
CUTOUTS_PER_STEP = 32


def write_grid_figure(
    path, collection, cutouts, display, ids, names, probs, prob_name, per_row, beside=None, *,
    on_progress=None, cancel=None,
) -> dict[int, str]:  # fmt: skip
    """File ▸ Save the grid as an image: ``cutouts`` drawn with ``display``, ``per_row`` a row, each
    captioned with its id, label name and probability (``probs`` None: none), written to ``path`` (PNG).

    ``beside`` is ``(other collection, pairing, its name)`` to draw each cutout's counterpart next to it,
    with the same display settings where the other collection's bands take them. Returns the positions
    among ``cutouts`` that could not be read → why (drawn as dark tiles, captioned so).
    """
    from galview.core.mosaic import compose_mosaic, counterpart_tiles, side_by_side, tile_captions
    from galview.io.writers import write_png

    tiles, unreadable = _drawn(collection, cutouts, display, on_progress, cancel)
    names = list(names)
    for position in unreadable:
        names[position] = "could not be read"
    captions = tile_captions(list(ids), names, probs, prob_name)
    if beside is not None:
        other, pairing, name = beside
        try:
            more, more_captions, _unreadable = counterpart_tiles(other, pairing, cutouts, name, display)
        except ValueError:  # the other collection's bands cannot take these settings: its own
            more, more_captions, _unreadable = counterpart_tiles(other, pairing, cutouts, name)
        tiles, captions = side_by_side(tiles, more), side_by_side(captions, more_captions)
        per_row *= 2
    if cancel is not None:
        cancel.raise_if_cancelled()
    write_png(compose_mosaic(tiles, captions, per_row), path)
    return unreadable


def write_fits_figure(
    path, collection, cutouts, ids, band_name, fits, band, *, on_progress=None, cancel=None
) -> int:
    """Cutout ▸ Save the fits as a figure: data, model and residual of each of ``cutouts`` (their fits in
    ``fits``, index → SersicFit or why not) in the fitted band (index ``band``, called ``band_name``),
    written to ``path`` (PNG). Returns how many are drawn."""
    from galview.core.errors import UserFacingError
    from galview.core.fit_figure import fits_figure
    from galview.io.measuring import fluxes_of
    from galview.io.writers import write_png

    entries = []
    with fluxes_of(collection) as fluxes:
        for done, (index, cutout_id) in enumerate(zip(cutouts, ids, strict=True)):
            if done % CUTOUTS_PER_STEP == 0:
                _step(done, len(cutouts), on_progress, cancel)
            fit, image = fits[index], fluxes.shape[:2]  # a frame's shape: drawn empty, with why not
            if not isinstance(fit, str):
                try:
                    image = fluxes.get(index)[..., band]
                except (UserFacingError, ValueError, OSError) as exc:  # damaged since it was measured
                    fit = f"could not be read: {exc}"
            entries.append((cutout_id, band_name, image, fit))
    if cancel is not None:
        cancel.raise_if_cancelled()
    write_png(fits_figure(entries), path)
    return len(entries)


def _drawn(collection, cutouts, display, on_progress, cancel) -> tuple[list[np.ndarray], dict[int, str]]:
    """:func:`~galview.core.mosaic.render_tiles` a chunk at a time, with progress and Cancel."""
    from galview.core.mosaic import render_tiles

    tiles, unreadable = [], {}
    for start in range(0, len(cutouts), CUTOUTS_PER_STEP):
        _step(start, len(cutouts), on_progress, cancel)
        chunk, missing = render_tiles(collection, cutouts[start : start + CUTOUTS_PER_STEP], display)
        tiles += chunk
        unreadable.update({start + position: why for position, why in missing.items()})
    return tiles, unreadable


def _step(done: int, total: int, on_progress, cancel) -> None:
    if cancel is not None:
        cancel.raise_if_cancelled()
    if on_progress is not None:
        on_progress(Progress(done, total, "drawing", unit="cutouts"))

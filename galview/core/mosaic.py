"""A figure of cutouts: a grid of tiles, each with its captions, as a PNG for a paper or a talk.

What File ▸ Save the grid as an image… and ``galview mosaic`` draw: cutouts rendered as the window shows
them (:func:`galview.core.display.render`), scaled up without smoothing so that pixels stay visible,
on a dark background, with one or two caption lines under each (id; label and probability).
"""

from __future__ import annotations

import math

import numpy as np

from galview.core.display import DisplaySettings, default_settings, render
from galview.core.display_names import MAX_FIGURE_TILES
from galview.core.words import unreadable_cutouts

#: Most tiles in one figure (:data:`galview.core.display_names.MAX_FIGURE_TILES`).
MAX_TILES = MAX_FIGURE_TILES
#: Padding between tiles and the height of one caption line, in pixels.
PAD, LINE = 6, 15
#: Grey level of a tile with nothing to draw (a cutout that cannot be read, no counterpart).
DARK = 40


def mosaic_layout(n: int, columns: int | None = None) -> tuple[int, int]:
    """(rows, columns) for ``n`` tiles: ``columns`` as asked (at most ``n``), else near square, wider."""
    if n < 1:
        raise ValueError("a mosaic needs at least one cutout")
    columns = min(n, columns) if columns else math.ceil(math.sqrt(n))
    return math.ceil(n / columns), columns


def render_tiles(
    collection, indices, display: DisplaySettings | None = None
) -> tuple[list[np.ndarray], dict[int, str]]:
    """The cutouts ``indices`` rendered as (h, w, 3) uint8 with ``display`` (default: the collection's),
    and the positions of those that could not be read (a dark tile) → why."""
    display = display or default_settings(collection.dtype, collection.shape[2])
    cutouts, unreadable = collection.get_batch_skipping(np.asarray(indices, dtype=np.int64))
    tiles = [render(cutout, display, collection.bands, collection.dtype) for cutout in cutouts]
    for position in unreadable:
        tiles[position] = np.full_like(tiles[position], DARK)
    return tiles, unreadable


def compose_mosaic(
    tiles: list[np.ndarray], captions: list[list[str]], columns: int | None = None, cell: int = 128
) -> np.ndarray:
    """One image of ``tiles`` in rows, each with its caption lines under it: (H, W, 3) uint8.

    Parameters
    ----------
    tiles : list of ndarray (h, w, 3) uint8
        The rendered cutouts, in reading order (left to right, then down).
    captions : list of list of str
        Lines under each tile (as many lists as tiles; a line longer than the tile is cut).
    columns : int, optional
        Tiles per row (default: near square).
    cell : int
        Side of each tile in pixels (nearest-neighbour scaling).
    """
    from PIL import Image, ImageDraw

    if len(captions) != len(tiles):
        raise ValueError(f"{len(captions)} captions for {len(tiles)} tiles")
    if len(tiles) > MAX_TILES:
        raise ValueError(f"{len(tiles)} cutouts are too many for one figure; at most {MAX_TILES}")
    rows, columns = mosaic_layout(len(tiles), columns)
    lines = max([len(c) for c in captions] + [0])
    tile_h = cell + lines * LINE + (PAD if lines else 0)
    figure = Image.new("RGB", (PAD + columns * (cell + PAD), PAD + rows * (tile_h + PAD)), (20, 20, 20))
    draw, font = ImageDraw.Draw(figure), _font()
    for k, (rgb, caption) in enumerate(zip(tiles, captions, strict=True)):
        top, left = PAD + (k // columns) * (tile_h + PAD), PAD + (k % columns) * (cell + PAD)
        tile = Image.fromarray(np.ascontiguousarray(rgb)).resize((cell, cell), Image.Resampling.NEAREST)
        figure.paste(tile, (left, top))
        for j, line in enumerate(caption):
            draw.text(
                (left, top + cell + 3 + j * LINE),
                _fit(draw, line, font, cell),
                fill=(225, 225, 225),
                font=font,
            )
    return np.asarray(figure)


def _font():
    """A small scalable font shipped with Pillow (its bitmap default where FreeType is missing)."""
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=12)
    except (TypeError, ImportError, OSError):
        return ImageFont.load_default()


#: Characters Pillow's small font lacks, and what is written in their place.
STAND_INS = {"″": '"', "−": "-", "é": "e", "⟨": "<", "⟩": ">", "μ": "mu", "σ": "sigma"}


def _fit(draw, text: str, font, width: int) -> str:
    """``text`` cut with "…" to fit ``width`` pixels (what Pillow's small font lacks written as
    :data:`STAND_INS` says)."""
    for character, stand_in in STAND_INS.items():
        text = text.replace(character, stand_in)
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def tile_captions(ids, label_names, probs=None, prob_name: str = "p") -> list[list[str]]:
    """Caption lines of each tile: its id, then its label and probability where there are any.

    Parameters
    ----------
    ids, label_names : sequence of str
        Per tile; a label name ``"unlabelled"`` or ``""`` is left out.
    probs : sequence of float, optional
        Per tile (NaN: not scored), written ``P(LSBG) 0.86`` with ``prob_name`` ``"P(LSBG)"``.
    """
    captions = []
    for k, (cid, name) in enumerate(zip(ids, label_names, strict=True)):
        second = [] if name in ("", "unlabelled") else [str(name)]
        if probs is not None and np.isfinite(probs[k]):
            second.append(f"{prob_name} {float(probs[k]):.2f}")
        captions.append([str(cid), " · ".join(second)] if second else [str(cid)])
    return captions


def counterpart_tiles(other, pairing, indices, other_name: str, display: DisplaySettings | None = None):
    """The counterparts in ``other`` of the cutouts ``indices`` (a :class:`~galview.core.pairing.Pairing`),
    to put beside them: (tiles, captions, unreadable positions → why). A cutout without a counterpart,
    or whose counterpart cannot be read, gets a dark tile saying so.

    ``display`` defaults to the other collection's own (its pixel type and bands may differ).
    """
    indices = np.asarray(indices, dtype=np.int64)
    found = pairing.other_index[indices]
    present = np.flatnonzero(found >= 0)
    rendered, unreadable = render_tiles(other, found[present], display) if present.size else ([], {})
    dark = np.full((*other.shape[:2], 3), DARK, np.uint8)
    tiles, captions, why = [], [], {}
    for i in indices.tolist():
        tiles.append(dark)
        captions.append([pairing.describe(i, other.ids), f"in {other_name}"])
    for k, position in enumerate(present.tolist()):
        tiles[position] = rendered[k]
        if k in unreadable:
            why[position] = unreadable[k]
            captions[position][1] = f"could not be read in {other_name}"
    return tiles, captions, why


def side_by_side(first: list, second: list) -> list:
    """``[a0, b0, a1, b1, …]``: each item of ``first`` followed by its partner in ``second``."""
    if len(first) != len(second):
        raise ValueError(f"{len(first)} items beside {len(second)}")
    return [item for pair in zip(first, second, strict=True) for item in pair]


def unreadable_tiles(unreadable: dict[int, str], indices, where: str) -> str:
    """What a figure says of the cutouts it could not read (positions in ``indices`` → why): "1 cutout
    could not be read and is a dark tile in ``where`` (cutout 5: …)"."""
    dark = "is a dark tile" if len(unreadable) == 1 else "are dark tiles"
    return unreadable_cutouts(
        {int(indices[p]): why for p, why in unreadable.items()}, outcome=f"{dark} in {where}"
    )

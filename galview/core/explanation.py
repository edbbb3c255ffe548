"""What the window shows of a model's explanations, and the explanation sheet (pure numpy + Pillow).

:class:`ExplainSettings` is the evented state's description of the heat-map overlay. The explanation
sheet follows the DeepShadows figure: the most confident true and false positives and negatives of a
labelled collection (p > 0.8 or p < 0.2), each cutout beside its heat-map overlay.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from galview.core.colormaps import COLORMAPS

METHOD_NAMES = {
    "gradcam": "Grad-CAM",
    "guided": "guided Grad-CAM",
    "backprop": "guided backprop",
    "saliency": "saliency",
}


@dataclass(frozen=True)
class ExplainSettings:
    """How heat maps are computed and shown.

    Attributes
    ----------
    method : str
        One of :data:`METHOD_NAMES` (``galview.ml.gradcam.METHODS``).
    class_index : int or None
        The class explained; None = each cutout's predicted class.
    opacity : float
        Of the colourised map over the cutout, 0..1.
    colormap : str
        One of :data:`galview.core.colormaps.COLORMAPS`.
    contours : bool
        Draw contours of the map at 0.3, 0.5, 0.7 and 0.9 of its peak.
    grid : bool
        The thumbnail grid shows overlays instead of plain cutouts.
    beside : bool
        The detail view shows the overlay panel beside the cutout (when there is a model).
    """

    method: str = "gradcam"
    class_index: int | None = None
    opacity: float = 0.5
    colormap: str = COLORMAPS[0]
    contours: bool = False
    grid: bool = False
    beside: bool = True

    def __post_init__(self) -> None:
        if self.method not in METHOD_NAMES:
            raise ValueError(f"unknown explanation method {self.method!r}")
        if self.colormap not in COLORMAPS:
            raise ValueError(f"unknown colour map {self.colormap!r}")
        if not 0.0 <= self.opacity <= 1.0:
            raise ValueError(f"opacity {self.opacity} is outside 0..1")

    @property
    def key(self) -> tuple[str, int | None]:
        """What a computed map depends on besides the model and the cutout."""
        return (self.method, self.class_index)


CONTOUR_LEVELS = (0.3, 0.5, 0.7, 0.9)

#: (short name, title, true label is positive, model says positive) per group of the sheet.
SHEET_GROUPS = (
    ("TP", "true positives", True, True),
    ("FP", "false positives", False, True),
    ("TN", "true negatives", False, False),
    ("FN", "false negatives", True, False),
)


def sheet_examples(
    labels: np.ndarray, probs: np.ndarray, k: int = 4, high: float = 0.8, low: float = 0.2, positive: int = 1
) -> dict[str, np.ndarray]:
    """The ``k`` most confident cutouts of each group TP, FP, TN, FN.

    Parameters
    ----------
    labels : ndarray (N,)
        True labels; NaN or negative values (unlabelled, unsure) are left out.
    probs : ndarray (N,)
        Probability of the positive class; NaN (not scored) is left out.
    positive : int
        The label value of the positive class (1 = LSBG).

    Returns
    -------
    dict
        Group name → cutout indices, most confident first (p descending for TP/FP, ascending for TN/FN).
    """
    labels = np.asarray(labels, np.float64)
    probs = np.asarray(probs, np.float64)
    if labels.shape != probs.shape:
        raise ValueError(f"labels {labels.shape} and probabilities {probs.shape} differ in shape")
    usable = np.isfinite(labels) & (labels >= 0) & np.isfinite(probs)
    groups = {}
    for name, _, is_positive, says_positive in SHEET_GROUPS:
        truth = usable & ((labels == positive) == is_positive)
        chosen = np.flatnonzero(truth & ((probs > high) if says_positive else (probs < low)))
        order = np.argsort(-probs[chosen] if says_positive else probs[chosen], kind="stable")
        groups[name] = chosen[order][:k]
    return groups


#: Layout of :func:`compose_sheet` in pixels: title strip, caption strip, and the padding around tiles.
SHEET_TITLE, SHEET_CAPTION, SHEET_PAD = 22, 18, 6


def sheet_tile_origin(row: int, column: int, overlay: bool = False, cell: int = 128) -> tuple[int, int]:
    """(top, left) pixel of one ``cell`` × ``cell`` tile of :func:`compose_sheet`.

    ``row`` and ``column`` count the sheet's rows and examples from 0; ``overlay`` picks the heat-map
    overlay, drawn below its cutout.
    """
    row_height = SHEET_TITLE + 2 * cell + SHEET_CAPTION + SHEET_PAD
    return row * row_height + SHEET_TITLE + int(overlay) * cell, SHEET_PAD + column * (cell + SHEET_PAD)


def compose_sheet(
    rows: list[tuple[str, list[tuple[np.ndarray, np.ndarray, str]]]], cell: int = 128
) -> np.ndarray:
    """One image: per row a title, then (cutout over overlay, caption) columns; (H, W, 3) uint8.

    Parameters
    ----------
    rows : list of (title, examples)
        ``examples`` are (cutout RGB, overlay RGB, caption); images (h, w, 3) uint8 of any size.
    cell : int
        Side of each image in pixels (nearest-neighbour scaling keeps pixels visible); tile ``j`` of
        example ``c`` in row ``r`` starts at :func:`sheet_tile_origin` ``(r, c, j == 1, cell)``.
    """
    from PIL import Image, ImageDraw

    columns = max([len(examples) for _, examples in rows] + [1])
    row_h = SHEET_TITLE + 2 * cell + SHEET_CAPTION + SHEET_PAD
    width = SHEET_PAD + columns * (cell + SHEET_PAD)
    sheet = Image.new("RGB", (width, max(1, len(rows)) * row_h), (24, 24, 24))
    draw = ImageDraw.Draw(sheet)
    for r, (title, examples) in enumerate(rows):
        top = r * row_h
        draw.text((SHEET_PAD, top + 4), title, fill=(235, 235, 235))
        if not examples:
            draw.text((SHEET_PAD, top + SHEET_TITLE + cell - 8), "none in this group", fill=(150, 150, 150))
        for c, (rgb, heat_rgb, caption) in enumerate(examples):
            for j, image in enumerate((rgb, heat_rgb)):
                tile = Image.fromarray(np.ascontiguousarray(image)).resize(
                    (cell, cell), Image.Resampling.NEAREST
                )
                y, x = sheet_tile_origin(r, c, j == 1, cell)
                sheet.paste(tile, (x, y))
            y, x = sheet_tile_origin(r, c, True, cell)
            draw.text((x, y + cell + 3), caption, fill=(210, 210, 210))
    return np.asarray(sheet)

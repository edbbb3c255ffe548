"""The eight orientations of a cutout (the dihedral group of the square), named and numbered.

Orientation ``k`` is a left–right mirror (for ``k >= 4``) followed by ``k % 4`` quarter turns
anticlockwise (``numpy.rot90`` on the (H, W) axes). A similarity ranking records, per cutout, the
orientation of the reference that matched it best, as an ``int8`` code 0–7 named by
:data:`ORIENTATION_NAMES`. Non-square cutouts have only the four orientations that keep their shape.
"""

from __future__ import annotations

import numpy as np

#: Names of the orientation codes 0–7.
ORIENTATION_NAMES = (
    "identity",
    "rot90",
    "rot180",
    "rot270",
    "flip",
    "flip+rot90",
    "flip+rot180",
    "flip+rot270",
)

#: The codes that keep an H×W cutout H×W when H ≠ W.
SHAPE_KEEPING = (0, 2, 4, 6)


def orientation_name(code: int) -> str:
    """The name of an orientation code (``"flip+rot180"``); ``"—"`` for -1 (none recorded)."""
    return "—" if int(code) < 0 else ORIENTATION_NAMES[int(code)]


def orient(image: np.ndarray, code: int) -> np.ndarray:
    """One orientation of an image.

    Parameters
    ----------
    image : ndarray, (H, W) or (H, W, C)
    code : int
        0–7, see :data:`ORIENTATION_NAMES`.

    Returns
    -------
    ndarray, (H, W[, C]) or (W, H[, C]) for odd quarter turns; a view where numpy allows.
    """
    code = int(code)
    if not 0 <= code < len(ORIENTATION_NAMES):
        raise ValueError(f"orientation code {code}; expected 0–7")
    out = np.flip(image, axis=1) if code >= 4 else image
    return np.rot90(out, k=code % 4, axes=(0, 1))


def orientation_codes(shape: tuple[int, ...], enabled: bool = True) -> tuple[int, ...]:
    """The orientations to try for cutouts of ``shape`` (H, W, ...): all 8 for square cutouts, the
    4 shape-keeping ones otherwise, only the identity when ``enabled`` is False."""
    if not enabled:
        return (0,)
    return tuple(range(8)) if shape[0] == shape[1] else SHAPE_KEEPING


def oriented_stack(image: np.ndarray, codes) -> np.ndarray:
    """The orientations ``codes`` of one image stacked: (len(codes), H, W[, C]), C-contiguous."""
    return np.stack([np.ascontiguousarray(orient(image, code)) for code in codes])

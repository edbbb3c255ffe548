"""The same objects in two collections: each cutout's counterpart in another one, to look at side by side.

"Is this DES candidate a real galaxy or scattered light? Look at it in the deeper HSC image." An
astronomer who triages one survey often has cutouts of the same candidates from another (deeper
imaging, another band, the Legacy Survey's DR10). A :class:`Pairing` gives each cutout of the open
collection the index of its counterpart in the other collection, found

- by **id**: the same identifier in both files (exact text; the first of repeated ids);
- by **sky position**: the nearest cutout of the other collection within a radius (the cross-match's
  k-d tree, :func:`galview.core.crossmatch.match_positions`);
- by **order**: cutout k beside cutout k, for two files cut from one catalogue in one order.

:func:`pair_collections` with ``by="auto"`` picks ids when most of the smaller file's ids are in the other,
else sky positions when both have them, else order when neither gives ids and both hold as many cutouts;
the :class:`Pairing` says which it chose.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from galview.core.match_defaults import DEFAULT_RADIUS_ARCSEC, PAIR_BY

#: With ``by="auto"``, ids pair the files when at least this share of the smaller file's ids is found
#: in the other (deeper imaging may cover a few of the candidates only). A file without ids numbers its
#: cutouts: those never pair by id.
SHARED_IDS = 0.5


@dataclass(frozen=True)
class Pairing:
    """Each cutout's counterpart in another collection.

    Attributes
    ----------
    other_index : ndarray (N,) int64
        The counterpart's index in the other collection; -1 where there is none.
    by : str
        ``"id"``, ``"position"`` or ``"order"``.
    separation_arcsec : ndarray (N,) float64 or None
        How far apart the two positions are (NaN where unpaired); None unless paired by position.
    radius_arcsec : float or None
        The radius of a pairing by position.
    """

    other_index: np.ndarray
    by: str
    separation_arcsec: np.ndarray | None = None
    radius_arcsec: float | None = None

    def __len__(self) -> int:
        return len(self.other_index)

    @property
    def paired(self) -> int:
        """How many cutouts have a counterpart."""
        return int(np.count_nonzero(self.other_index >= 0))

    def how(self) -> str:
        """``"by id"``, ``"by sky position within 3″"`` or ``"by order"``."""
        if self.by == "position":
            return f"by sky position within {self.radius_arcsec:g}″"
        return {"id": "by id", "order": "by order (cutout k beside cutout k)"}[self.by]

    def summary(self, other_name: str) -> str:
        """One line: ``"980 of 1,000 cutouts have a counterpart in hsc.h5, paired by id"``."""
        return f"{self.paired:,} of {len(self):,} cutouts have a counterpart in {other_name}, paired {self.how()}"

    def describe(self, index: int, other_ids) -> str:
        """The counterpart of cutout ``index``: ``"#812 (HSC_0812) · 0.42″"``, or why there is none."""
        j = int(self.other_index[index])
        if j < 0:
            if self.by == "position":
                return f"none within {self.radius_arcsec:g}″"
            return "none with this id" if self.by == "id" else "none (the other file is shorter)"
        text = f"#{j}"
        other_id = str(other_ids[j])
        if other_id != str(j):
            text += f" ({other_id})"
        if self.separation_arcsec is not None:
            text += f" · {self.separation_arcsec[index]:.2f}″"
        return text


def pair_by_id(ids, other_ids) -> np.ndarray:
    """(N,) index into ``other_ids`` of each id of ``ids`` (the first where repeated); -1 where absent."""
    other_ids = np.asarray(other_ids, dtype=str)
    first = {}
    for j, value in enumerate(other_ids.tolist()):
        first.setdefault(value, j)
    return np.fromiter((first.get(value, -1) for value in np.asarray(ids, dtype=str).tolist()), np.int64)


def pair_by_order(n: int, other_n: int) -> np.ndarray:
    """Cutout k beside cutout k; -1 beyond the other's end."""
    index = np.arange(n, dtype=np.int64)
    index[index >= other_n] = -1
    return index


def pair_collections(
    collection, other, by: str = "auto", radius_arcsec: float = DEFAULT_RADIUS_ARCSEC
) -> Pairing:
    """Pair each cutout of ``collection`` with its counterpart in ``other`` (module docstring).

    Raises
    ------
    ValueError
        For an unknown ``by``, or a way of pairing the two files cannot take (saying what is missing:
        ids, positions, or a matching length).
    """
    from galview.core.crossmatch import match_positions

    if by not in PAIR_BY:
        raise ValueError(f"pair by one of {', '.join(PAIR_BY)}; got {by!r}")
    if by == "auto":
        return _automatic(collection, other, radius_arcsec)
    if by == "id":
        if not (collection.has_ids and other.has_ids):
            raise ValueError("both files must give ids to pair by id (one numbers its cutouts only)")
        return Pairing(pair_by_id(collection.ids, other.ids), "id")
    if by == "order":
        return Pairing(pair_by_order(len(collection), len(other)), "order")
    here, there = collection.readable_coords(), other.readable_coords()
    if here is None or there is None:
        missing = collection.source if here is None else other.source
        raise ValueError(f"{missing} has no sky positions (RA, Dec) to pair by")
    match = match_positions(here[0], here[1], there[0], there[1], radius_arcsec)
    return Pairing(match.row, "position", match.separation_arcsec, match.radius_arcsec)


def _automatic(collection, other, radius_arcsec: float) -> Pairing:
    """Ids when the smaller file's are mostly in the other, else positions when both have some, else order."""
    both_ids = collection.has_ids and other.has_ids
    shared = 0.0
    if both_ids:
        index = pair_by_id(collection.ids, other.ids)
        shared = np.unique(index[index >= 0]).size / max(1, min(len(collection), len(other)))
        if shared >= SHARED_IDS:
            return Pairing(index, "id")
    if _positioned(collection) and _positioned(other):
        return pair_collections(collection, other, "position", radius_arcsec)
    if not both_ids and len(collection) == len(other):
        return Pairing(pair_by_order(len(collection), len(other)), "order")  # two files cut from one list
    why = f"share {shared:.0%} of their ids" if both_ids else "do not both give ids"
    if not both_ids:
        why += f" and hold {len(collection):,} and {len(other):,} cutouts"
    raise ValueError(
        f"the two files {why}, and do not both have sky positions: GalView cannot tell which cutout is which"
    )


def _positioned(collection) -> bool:
    coords = collection.readable_coords()
    return coords is not None and bool(np.isfinite(np.asarray(coords[0], np.float64)).any())

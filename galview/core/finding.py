"""Find a cutout from what a person types: an index, an id (or part of one), a sky position or a note.

What Cutout ▸ Go to… and ``galview find`` read. ``#12`` is cutout 12; then an exact id; then a whole
number below the count is an index; then two angles — degrees (``150.1 2.2``) or sexagesimal, RA in
hours (``10:00:24.5 +02:12:00``, ``10h00m24.5s 2d12m0s``), or a sky viewer's link with ``ra=`` and
``dec=`` — give the nearest cutout with a position;
then an id in another case, or text found inside exactly one id; last, text found inside exactly one
note a person wrote on a cutout ("tidal"). Pure numpy (a million cutouts: BENCHMARKS.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

_SEXAGESIMAL = re.compile(r"^([+-]?)(\d+(?:\.\d*)?)[:hd°\s]+(\d+(?:\.\d*)?)[:m'′\s]+(\d+(?:\.\d*)?)[s\"″]?$")


@dataclass(frozen=True)
class Found:
    """The cutout found, how the text was read (``"index"``, ``"id"``, ``"position"``, ``"part of an
    id"`` or ``"note"``) and, for a position, how far the cutout is from it (arcsec)."""

    index: int
    how: str
    separation_arcsec: float | None = None

    def describe(self, text: str) -> str:
        """``cutout 12 (nearest to RA 150.10000°, Dec 2.20000°: 3.2″ away)`` and the like."""
        if self.how == "position":
            ra, dec = parse_position(text)
            return (
                f"cutout {self.index} (nearest to RA {ra:.5f}°, Dec {dec:+.5f}°: "
                f"{_arcsec(self.separation_arcsec)} away)"
            )
        if self.how == "part of an id":
            return f"cutout {self.index} (the one id that holds {text.strip()!r})"
        if self.how == "note":
            return f"cutout {self.index} (the one note that holds {text.strip()!r})"
        return f"cutout {self.index} (by its {self.how})"


def find_cutout(text: str, n: int, ids=None, ra=None, dec=None, notes=None) -> Found:
    """The cutout ``text`` names (module docstring).

    Parameters
    ----------
    text : str
        What the person typed.
    n : int
        Cutouts in the collection.
    ids : array of str (N,), optional
        Their ids (None: the file has none, so the id is the index).
    ra, dec : arrays (N,) of degrees, optional
        Their positions (NaN where unknown).
    notes : dict of int to str, optional
        The notes people wrote on cutouts, searched (case-insensitive) when nothing else matched.

    Raises
    ------
    ValueError
        Saying what was tried: an index out of range, no position to compare with, no or several ids.
    """
    text = str(text).strip()
    if not text:
        raise ValueError("type an index (#12), an id or part of one, or a position (RA Dec)")
    if text.startswith("#"):
        return Found(_index(text[1:], n), "index")
    if ids is not None:
        ids = np.asarray(ids).astype(str)
        exact = np.flatnonzero(ids == text)
        if exact.size:
            return Found(int(exact[0]), "id")
    plain_number = text.isdigit() and (text == "0" or not text.startswith("0"))  # "000304" is an id's part
    if plain_number and (int(text) < n or ids is None):
        return Found(_index(text, n), "index")
    position = _try_position(text)
    if position is not None:
        return _nearest(position, ra, dec)
    if ids is not None:
        lower = np.char.lower(ids)
        exact = np.flatnonzero(lower == text.lower())  # the id in another case
        if exact.size:
            return Found(int(exact[0]), "id")
        inside = np.flatnonzero(np.char.find(lower, text.lower()) >= 0)
        if inside.size == 1:
            return Found(int(inside[0]), "part of an id")
        if inside.size > 1:
            shown = ", ".join(str(ids[i]) for i in inside[:3])
            more = f" and {inside.size - 3:,} more" if inside.size > 3 else ""
            raise ValueError(f"{inside.size:,} ids contain {text!r} ({shown}{more}): type more of one")
    noted = sorted(i for i, note in (notes or {}).items() if text.lower() in note.lower())
    if len(noted) == 1:
        return Found(int(noted[0]), "note")
    if noted:
        shown = ", ".join(f"#{i}" for i in noted[:5]) + (
            f" and {len(noted) - 5:,} more" if len(noted) > 5 else ""
        )
        raise ValueError(f"{len(noted):,} notes hold {text!r} ({shown}): type more of one")
    if ids is None:
        raise ValueError(
            f"{text!r} is not an index (0–{n - 1}), a position (RA Dec) or in a note; the cutouts have no ids"
        )
    if text.isdigit():
        raise ValueError(f"{text!r} is not a cutout index (0–{n - 1}), and no id holds it")
    raise ValueError(f"no cutout has the index, id or position {text!r}, nor a note that holds it")


def parse_position(text: str) -> tuple[float, float]:
    """(RA, Dec) in degrees from two angles: degrees, or sexagesimal with RA in hours.

    Raises
    ------
    ValueError
        When the text is not two angles, or they are outside 0 ≤ RA < 360, −90 ≤ Dec ≤ 90.
    """
    position = _try_position(text)
    if position is None:
        raise ValueError(f"{text!r} is not a position: expected RA Dec, e.g. 150.1 2.2 or 10:00:24 +02:12:00")
    return position


def _try_position(text: str) -> tuple[float, float] | None:
    link = _from_link(text)
    if link is not None:
        text = link
    parts = _two_angles(text.replace(",", " "))
    if parts is None:
        return None
    (ra, ra_sexagesimal), (dec, _) = (parse_angle(p) for p in parts)
    if ra is None or dec is None:
        return None
    ra = ra * 15.0 if ra_sexagesimal else ra
    if not (0.0 <= ra < 360.0 and -90.0 <= dec <= 90.0):
        raise ValueError(f"{text!r}: RA must be 0–360° (0–24h) and Dec −90–90°")
    return ra, dec


def _from_link(text: str) -> str | None:
    """``"RA Dec"`` from a sky viewer's link (``…?ra=150.1&dec=2.2…``, as the Legacy Survey viewer's),
    or None when ``text`` is not one."""
    from urllib.parse import parse_qs, urlsplit

    if "ra=" not in text.lower() or "dec=" not in text.lower():
        return None
    query = {key.lower(): values for key, values in parse_qs(urlsplit(text).query or text).items()}
    if "ra" not in query or "dec" not in query:
        return None
    return f"{query['ra'][0]} {query['dec'][0]}"


def _two_angles(text: str) -> tuple[str, str] | None:
    """Split ``text`` into RA and Dec: at whitespace when there are two words, else before the Dec's sign."""
    words = text.split()
    if len(words) == 2:
        return words[0], words[1]
    if len(words) == 6:  # 10 00 24.5 +02 12 00
        return " ".join(words[:3]), " ".join(words[3:])
    match = re.match(r"^(.+?)\s*([+-].+)$", text.strip())
    if match and any(c in match.group(1) for c in ":h"):
        return match.group(1), match.group(2)
    return None


def parse_angle(text: str) -> tuple[float | None, bool]:
    """(value, sexagesimal?) of one angle written in degrees (``150.1``) or sexagesimally
    (``10:00:24.5``, ``10h00m24.5s``, ``-02d12m00s``); ``(None, False)`` when it is neither. A
    sexagesimal RA is in hours: multiply by 15."""
    text = text.strip()
    try:
        return float(text), False
    except ValueError:
        pass
    match = _SEXAGESIMAL.match(text)
    if not match:
        return None, False
    sign = -1.0 if match.group(1) == "-" else 1.0
    units, minutes, seconds = (float(match.group(k)) for k in (2, 3, 4))
    if minutes >= 60 or seconds >= 60:
        return None, False
    return sign * (units + minutes / 60 + seconds / 3600), True


def _nearest(position: tuple[float, float], ra, dec) -> Found:
    if ra is None or dec is None or not np.isfinite(np.asarray(ra, np.float64)).any():
        raise ValueError("the cutouts have no sky positions to compare with")
    ra, dec = np.radians(np.asarray(ra, np.float64)), np.radians(np.asarray(dec, np.float64))
    ra0, dec0 = np.radians(position[0]), np.radians(position[1])
    half = np.sin((dec - dec0) / 2) ** 2 + np.cos(dec) * np.cos(dec0) * np.sin((ra - ra0) / 2) ** 2
    separation = 2 * np.arcsin(np.sqrt(np.clip(half, 0.0, 1.0)))
    separation = np.where(np.isfinite(separation), separation, np.inf)
    best = int(np.argmin(separation))
    return Found(best, "position", float(np.degrees(separation[best]) * 3600.0))


def _index(text: str, n: int) -> int:
    text = text.strip()
    if not text.isdigit() or int(text) >= n:
        raise ValueError(f"{text!r} is not a cutout index; the collection has {n:,} (0–{n - 1})")
    return int(text)


def _arcsec(value: float) -> str:
    """3.2″, 4.5′ or 1.25° as fits."""
    if value < 60:
        return f"{value:.1f}″"
    if value < 3600:
        return f"{value / 60:.1f}′"
    return f"{value / 3600:.2f}°"

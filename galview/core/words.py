"""Small helpers for what GalView says to people."""

from __future__ import annotations


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``"1 cutout"``, ``"2 cutouts"``, ``"12,000 cutouts"``: a number with its noun in the right form."""
    n = int(n)
    return f"{n:,} {noun if n == 1 else (plural or noun + 's')}"


def unreadable_cutouts(
    unreadable: dict[int, str], left_out_of: str | None = None, outcome: str | None = None
) -> str:
    """One line about cutouts a run could not read: how many, and the first one's index and reason.

    They "have no score", or with ``left_out_of`` (e.g. ``"the training"``) were left out of that, or
    ``outcome`` says what became of them (``"are dark tiles in the figure"``).
    """
    first = min(unreadable)
    reason = unreadable[first]
    if not reason.startswith(f"cutout {first} "):
        reason = f"cutout {first}: {reason}"
    more = f"; and {len(unreadable) - 1:,} more" if len(unreadable) > 1 else ""
    one = len(unreadable) == 1
    if outcome is None and left_out_of:
        outcome = f"{'was' if one else 'were'} left out of {left_out_of}"
    elif outcome is None:
        outcome = f"{'has' if one else 'have'} no score"
    return f"{count(len(unreadable), 'cutout')} could not be read and {outcome} ({reason}{more})"

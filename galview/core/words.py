"""Small helpers for what GalView says to people."""

from __future__ import annotations


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``"1 cutout"``, ``"2 cutouts"``, ``"12,000 cutouts"``: a number with its noun in the right form."""
    n = int(n)
    return f"{n:,} {noun if n == 1 else (plural or noun + 's')}"

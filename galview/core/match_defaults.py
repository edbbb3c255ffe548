"""Defaults and choices of matching by sky position (the cross-match, the pairing of two collections), without
numpy: the command line shows them in ``--help`` before anything loads."""

#: The default match radius, in arcseconds (a few times the seeing of ground-based surveys).
DEFAULT_RADIUS_ARCSEC = 3.0
#: The largest match radius, in arcseconds (one degree: beyond it "the nearest source" means little).
MAX_RADIUS_ARCSEC = 3600.0
#: How the cutouts of two collections can be paired (``galview pair --by``, :mod:`galview.core.pairing`).
PAIR_BY = ("auto", "id", "position", "order")

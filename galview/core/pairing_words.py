"""The ways of pairing two collections, without numpy: ``galview --help`` imports this (start-up stays fast)."""

#: How cutouts can be paired, for ``--by`` and :func:`galview.core.pairing.pair_collections`.
PAIR_BY = ("auto", "id", "position", "order")

"""GalView: triage candidate low-surface-brightness galaxies by eye.

The headless API lives in :mod:`galview.core` and :mod:`galview.io`; the window in
:mod:`galview.qt`; the command line in :mod:`galview.cli`.
"""

from galview.core.errors import CollectionError

__version__ = "0.1.0"
__all__ = ["CollectionError", "__version__", "open_collection"]


def open_collection(path, **options):
    """Open any supported cutout collection; see :func:`galview.io.open_collection`."""
    from galview.io import open_collection as _open

    return _open(path, **options)

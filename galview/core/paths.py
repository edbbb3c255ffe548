"""Where GalView keeps settings and generated data.

``GALVIEW_HOME`` (used by the tests) overrides the platform's user directories.
"""

from __future__ import annotations

import os
from pathlib import Path


def _base(kind: str) -> Path:
    home = os.environ.get("GALVIEW_HOME")
    if home:
        path = Path(home) / kind
    else:
        import platformdirs

        getter = platformdirs.user_config_dir if kind == "config" else platformdirs.user_data_dir
        path = Path(getter("galview", appauthor=False))
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # GALVIEW_HOME names a file, or a folder that cannot be made
        from galview.core.errors import UserFacingError

        raise UserFacingError(
            path,
            f"GalView's {kind} folder cannot be made ({exc.strerror}); set GALVIEW_HOME to a writable folder",
        ) from None
    return path


def config_dir() -> Path:
    """Folder for settings (created on first use; :class:`~galview.core.errors.UserFacingError` if it
    cannot be)."""
    return _base("config")


def data_dir() -> Path:
    """Folder for generated data such as the demo survey (created on first use; as :func:`config_dir`)."""
    return _base("data")

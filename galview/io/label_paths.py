"""Where a collection's label store lives: beside the data when that folder is writable, else in the
user data directory; ``GALVIEW_LABEL_STORES`` (tests) puts every store in one folder."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from galview.io.label_schema import LabelStoreError


def _can_write(directory: str | Path) -> bool:
    """Whether GalView may create its files in ``directory``.

    A folder whose permission bits let nobody write (``chmod a-w``) was marked read-only on purpose:
    it is left alone even by root, who could write there. Otherwise a test file is really created,
    since the bits alone do not say what root, a read-only mount or an ACL allows.
    """
    try:
        if not os.stat(directory).st_mode & 0o222:
            return False
    except OSError:
        return False
    try:
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".galview-write-test-"):
            return True
    except OSError:
        return False


def default_store_path(source: str | Path) -> Path:
    """Where the store of a collection lives when its data folder is writable."""
    source = Path(source)
    if source.is_dir():
        return source / "galview-labels.sqlite"
    return source.with_name(source.name + ".labels.sqlite")


#: Longest file name most file systems take (bytes); a store name beside a longer one falls back.
NAME_MAX = 255
#: Characters of the data's name kept in a store name that would otherwise be too long.
SHORT_STEM = 100


def _digest(source: Path) -> str:
    return hashlib.sha1(os.fsencode(source.absolute())).hexdigest()[:8]


def _store_name(source: Path) -> str:
    """``<stem>-<digest>.sqlite``; the stem cut to :data:`SHORT_STEM` characters when the name would be
    too long for a file system (the digest of the full path keeps it unique)."""
    digest = _digest(source)
    name = f"{source.stem}-{digest}.sqlite"
    return name if _name_fits(name) else f"{source.stem[:SHORT_STEM]}-{digest}.sqlite"


def _name_fits(name: str) -> bool:
    return len(os.fsencode(name)) <= NAME_MAX


def fallback_store_path(source: str | Path) -> Path:
    """Store location in the user's data directory, for read-only data folders (and data whose name is
    too long to add ``.labels.sqlite`` to)."""
    from galview.core.paths import data_dir

    return data_dir() / "labels" / _store_name(Path(source))


#: Environment variable naming a folder for every label store (tests point it at a temporary folder).
STORES_ENV = "GALVIEW_LABEL_STORES"


def store_path_for(source: str | Path, *, make_folders: bool = True) -> Path:
    """Where the store of the collection at ``source`` lives (or would be created).

    Beside the data when that folder is writable, else in the user data directory; a source that
    is not a file or folder (an in-memory collection) also goes to the user data directory, and
    :data:`STORES_ENV`, when set, overrides both. The folder of the returned path is created
    unless ``make_folders`` is false (to ask whether a store exists without creating anything).
    """
    source = Path(source)
    override = os.environ.get(STORES_ENV)
    if override:
        if make_folders:
            try:
                Path(override).mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise LabelStoreError(
                    override,
                    f"the folder {STORES_ENV} names cannot be made ({exc.strerror}); set it to a writable folder",
                ) from None
        return Path(override) / _store_name(source)
    if not source.exists():
        fallback = fallback_store_path(source)
        if make_folders:
            fallback.parent.mkdir(parents=True, exist_ok=True)
        return fallback
    return _choose_store_path(source, make_folders)


def _choose_store_path(source: Path, make_folders: bool = True) -> Path:
    beside, fallback = default_store_path(source), fallback_store_path(source)
    if not _name_fits(beside.name):  # e.g. a 254-character file name: no room for ".labels.sqlite"
        if make_folders:
            fallback.parent.mkdir(parents=True, exist_ok=True)
        return fallback
    if not make_folders and not beside.exists():
        # Only asking whether a store exists: none beside the data, so no write test there (creating a
        # test file would change the data folder's modification time just by looking).
        return fallback
    writable = _can_write(beside.parent)
    if beside.exists() and not writable:
        raise LabelStoreError(
            beside, "is in a folder GalView cannot write to; copy it elsewhere and pass --store"
        )
    if beside.exists() or (writable and not fallback.exists()):
        return beside
    if make_folders:
        fallback.parent.mkdir(parents=True, exist_ok=True)
    return fallback

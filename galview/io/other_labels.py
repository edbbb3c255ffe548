"""Another inspector's labels of the open collection, read without touching their file.

Two files hold another person's labels: their GalView label store (the ``.labels.sqlite`` file
beside their copy of the data) or a CSV file (``galview labels export``, or any table with
columns ``index`` or ``id``, and ``label``). A store is copied (with its write-ahead log) into a
temporary folder and read there, so their file is never locked, folded or written, whatever
state it is in. Only labels a person set count: a store's labels set by a model are left out,
and so are the file labels a store or an export carries along (a GalView export's rows without a
``changed_at``), so that two inspectors who both left the catalogue's labels alone are not counted
as agreeing. The same rule gives this inspector's own labels (:func:`person_labels`).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np

from galview.core.agreement import OtherLabels
from galview.core.jobs import Progress
from galview.core.label_values import DEFAULT_CLASSES
from galview.core.training_labels import MODEL_USER_PREFIX, set_by_model
from galview.io.label_export import csv_labels
from galview.io.label_schema import SQLITE_MAGIC, LabelStoreError

#: Names a label store file goes by (one that is not SQLite inside is said to be damaged, not read as CSV).
STORE_SUFFIXES = (".sqlite", ".sqlite3", ".db")


def person_labels(store) -> np.ndarray:
    """(N,) float64: the labels a person set in ``store`` (NaN elsewhere, and where a model set them).

    The history is read cutout by cutout only when a model ever labelled in this store (2 s for
    200,000 labels; its users alone are one query).
    """
    values = np.asarray(store.current(), dtype=np.float64).copy()
    if any(user.startswith(MODEL_USER_PREFIX) for user in store.labelling_users()):
        values[set_by_model(store)] = np.nan
    return values


def read_other_labels(path, collection, classes=DEFAULT_CLASSES, own_store=None) -> OtherLabels:
    """Read another inspector's labels of ``collection`` from a label store or a CSV file.

    Parameters
    ----------
    path : str or Path
        Their ``.sqlite`` label store or ``.csv`` file (told apart by content, not name).
    collection : Collection
        The open collection: their labels are matched to its cutouts by index, and checked (or, in
        a CSV file with only ids, matched) by id.
    classes : sequence of str
        Class names a CSV file's labels may use.
    own_store : Path, optional
        This inspector's own store, refused as "the other one".

    Raises
    ------
    LabelStoreError
        Naming their file: unreadable, damaged, not a label store or CSV file, made for other
        cutouts, or this inspector's own store. Their file is left as it was.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise LabelStoreError(
            path, "is not a file; expected another inspector's label store (.sqlite) or CSV file"
        )
    if own_store is not None and Path(own_store).exists() and path.resolve() == Path(own_store).resolve():
        raise LabelStoreError(path, "is this collection's own label store; choose the other inspector's file")
    ids = np.asarray(collection.ids)
    if _is_sqlite(path):
        return _from_store(path, len(collection), ids)
    if path.suffix.lower() in STORE_SUFFIXES:
        raise LabelStoreError(
            path, "does not begin as an SQLite file does: it is damaged, or not a label store; expected "
            "another inspector's label store (.sqlite) or CSV file",
        )  # fmt: skip
    values, notes = np.full(len(collection), np.nan), {}
    for index, value in csv_labels(path, ids, classes, set_by_a_person=True, notes=notes).items():
        values[index] = value
    return OtherLabels(path, values, notes=notes)


def read_inspectors(
    collection, paths, classes=DEFAULT_CLASSES, own_store=None, *, on_progress=None, cancel=None
) -> list[OtherLabels]:
    """The job behind the window's Compare with other inspectors' labels: :func:`read_other_labels`
    of each file in turn, off the GUI thread (a store of a million cutouts takes 0.65 s, a CSV 2.3 s).
    Reports one step a file; raises :class:`~galview.core.jobs.Cancelled` between files when cancelled."""
    paths, found = list(paths), []
    for done, path in enumerate(paths):
        if cancel is not None:
            cancel.raise_if_cancelled()
        if on_progress is not None:
            on_progress(Progress(done, len(paths), f"reading {Path(path).name}", unit="files"))
        found.append(read_other_labels(path, collection, classes, own_store=own_store))
    return found


def store_people(store, *, on_progress=None, cancel=None) -> list[OtherLabels]:
    """Each person (not a model) who labelled ``store``, by their own labels (the replay of their actions
    still done, :meth:`~galview.io.label_store.LabelStore.labels_by_user`), sorted by name. Also the
    window's job behind Compare the people who labelled this store; ``cancel`` is checked once first."""
    if cancel is not None:
        cancel.raise_if_cancelled()
    found = sorted(store.labels_by_user().items())
    return [
        OtherLabels(store.path, values, (user,), person=user)
        for user, values in found
        if not user.startswith(MODEL_USER_PREFIX)
    ]


def _is_sqlite(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except OSError as exc:
        raise LabelStoreError(path, f"cannot be read ({exc.strerror or exc})") from exc


def _from_store(path: Path, n: int, ids: np.ndarray) -> OtherLabels:
    """Their store, read from a copy in a temporary folder."""
    from galview.io.label_store import LabelStore

    with tempfile.TemporaryDirectory(prefix="galview-other-labels-") as folder:
        copy = Path(folder) / "other.sqlite"
        try:
            shutil.copyfile(path, copy)
            if Path(f"{path}-wal").is_file():
                shutil.copyfile(f"{path}-wal", f"{copy}-wal")
        except OSError as exc:
            raise LabelStoreError(path, f"could not be copied for reading ({exc.strerror or exc})") from exc
        try:
            with LabelStore.open(copy, n) as store:
                labelled, their_ids = store.labelled_ids()  # every id of a million cutouts takes 1.5 s
                values = person_labels(store)
                users = [u for u in store.labelling_users() if u and not u.startswith(MODEL_USER_PREFIX)]
                notes = store.notes()
        except LabelStoreError as exc:
            raise LabelStoreError(path, exc.problem.replace(str(copy), str(path))) from None
    different = np.flatnonzero(their_ids != ids[labelled].astype(str))
    if len(different):
        first = int(labelled[different[0]])
        raise LabelStoreError(
            path,
            f"was made for other cutouts: cutout {first} is {str(their_ids[different[0]])!r} there and "
            f"{str(ids[first])!r} here ({len(different):,} of the {len(labelled):,} cutouts it labels differ)",
        )
    return OtherLabels(path, values, tuple(users), notes=notes)

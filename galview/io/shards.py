"""Many shard files (HDF5, FITS, npy) opened lazily as one collection.

A survey arrives as hundreds of files of a few thousand cutouts each. :class:`ShardSet` describes
them as plain values (paths and open options, JSON and pickle safe): any process — a Dask worker, the
retraining child — opens the set, or one shard of it, itself. :class:`ShardedCollection` shows the set
as one collection: global index ``i`` ↔ (shard ``s``, index ``j`` within it) through the shards'
lengths, and only a few shard files are held open at a time.
"""

from __future__ import annotations

import glob
import json
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from galview.core.collection import Collection
from galview.core.errors import CollectionError

#: Files taken as shards when a folder or a glob is given (one collection each).
SHARD_SUFFIXES = (".h5", ".hdf5", ".npy", ".npz", ".fits", ".fit", ".fts", ".fits.gz", ".fits.fz")
#: Shard files held open at once by a :class:`ShardedCollection` (file handles are limited).
OPEN_SHARDS = 16


def is_shard_file(path: Path) -> bool:
    """Whether ``path`` is a file named like a shard (by suffix; the content is sniffed on opening)."""
    name = path.name.lower()
    return path.is_file() and not name.endswith(".partial") and name.endswith(SHARD_SUFFIXES)


def expand_shards(inputs) -> list[Path]:
    """Shard files named by ``inputs``: files as given, a folder's shard files sorted by name, a glob's
    matches sorted by name. Duplicates are dropped (first kept).

    Raises
    ------
    CollectionError
        If an input is missing, a folder holds no shard file or a glob matches none.
    """
    found: list[Path] = []
    for item in map(str, inputs):
        path = Path(item).expanduser()
        if any(ch in item for ch in "*?["):
            matches = sorted(Path(m) for m in glob.glob(str(path)) if is_shard_file(Path(m)))
            if not matches:
                raise CollectionError(item, f"matches no shard file; expected {', '.join(SHARD_SUFFIXES)}")
            found.extend(matches)
        elif path.is_dir():
            matches = sorted(p for p in path.iterdir() if is_shard_file(p))
            if not matches:
                raise CollectionError(path, f"holds no shard file; expected {', '.join(SHARD_SUFFIXES)}")
            found.extend(matches)
        elif path.exists():
            found.append(path)
        else:
            raise CollectionError(path, "no such file or folder")
    unique = dict.fromkeys(p.resolve() for p in found)
    return list(unique)


def shard_names(paths) -> list[str]:
    """A short, unique name per shard: the file name, or the path below the common folder when two
    shards share a file name."""
    paths = [Path(p) for p in paths]
    names = [p.name for p in paths]
    if len(set(names)) == len(names):
        return names
    common = Path(*Path(paths[0]).parts[: _common_depth(paths)])
    return [str(p.relative_to(common)) for p in paths]


def _common_depth(paths: list[Path]) -> int:
    parts = [p.parent.parts for p in paths]
    depth = 0
    while all(len(q) > depth and q[depth] == parts[0][depth] for q in parts):
        depth += 1
    return depth


@dataclass(frozen=True)
class ShardSet:
    """A picklable description of a shard collection: enough for any process to open it itself.

    Attributes
    ----------
    paths : tuple of str
        Absolute paths of the shard files, in collection order.
    options : dict
        Keyword options of :func:`galview.io.open_collection` (``layout``, ``dataset``…), the same for
        every shard.
    lengths : tuple of int, optional
        Cutouts per shard when already known (a cluster run's summary): the shards are then not
        opened to count them.
    """

    paths: tuple[str, ...]
    options: dict = field(default_factory=dict)
    lengths: tuple[int, ...] | None = None

    @classmethod
    def from_inputs(cls, inputs, **options) -> ShardSet:
        """The set of the shard files ``inputs`` name (files, folders, globs: :func:`expand_shards`)."""
        return cls(tuple(str(p) for p in expand_shards(inputs)), dict(options))

    @property
    def names(self) -> list[str]:
        return shard_names(self.paths)

    def open_shard(self, shard: int) -> Collection:
        """Open one shard as its own collection (what ``galview score`` on that file opens)."""
        from galview.io.registry import open_collection

        return open_collection(self.paths[shard], **self.options)

    def open(self) -> ShardedCollection:
        """Open the whole set lazily as one collection."""
        return ShardedCollection(self)

    def to_json(self) -> str:
        lengths = None if self.lengths is None else list(self.lengths)
        return json.dumps({"paths": list(self.paths), "options": self.options, "lengths": lengths})

    @classmethod
    def from_json(cls, text: str) -> ShardSet:
        data = json.loads(text)
        lengths = data.get("lengths")
        return cls(tuple(data["paths"]), dict(data.get("options") or {}), lengths and tuple(lengths))


class ShardedCollection(Collection):
    """Shard files as one collection; every shard must have the first one's cutout shape and type.

    Parameters
    ----------
    shards : ShardSet
        The files. Each is opened once to count and check it (unless ``shards.lengths`` is given),
        then reopened on demand, at most :data:`OPEN_SHARDS` at a time.

    Raises
    ------
    CollectionError
        Naming the shard that cannot be opened or whose cutouts differ from the first one's.
    """

    def __init__(self, shards: ShardSet, source: str | Path | None = None):
        if not shards.paths:
            raise CollectionError(source or "shards", "holds no shard file")
        self.shards = shards
        self._open: OrderedDict[int, Collection] = OrderedDict()
        first = self._shard(0)
        lengths = list(shards.lengths) if shards.lengths is not None else self._count(first)
        if len(lengths) != len(shards.paths):
            raise CollectionError(source or shards.paths[0], "lists a length for each shard; counts differ")
        self.offsets = np.concatenate(([0], np.cumsum(lengths, dtype=np.int64)))
        source = source or Path(shards.paths[0]).parent
        super().__init__(source, int(self.offsets[-1]), first.shape, first.dtype, first.bands)

    def _count(self, first: Collection) -> list[int]:
        lengths = [len(first)]
        for shard in range(1, len(self.shards.paths)):
            with self.shards.open_shard(shard) as other:
                if other.shape != first.shape or other.dtype != first.dtype:
                    raise CollectionError(
                        other.source,
                        f"holds {other.dtype} cutouts of {other.shape}; expected {first.dtype} "
                        f"{first.shape} like the first shard {self.shards.paths[0]}",
                    )
                lengths.append(len(other))
        return lengths

    def _shard(self, shard: int) -> Collection:
        if shard in self._open:
            self._open.move_to_end(shard)
            return self._open[shard]
        opened = self.shards.open_shard(shard)
        self._open[shard] = opened
        while len(self._open) > OPEN_SHARDS:
            self._open.popitem(last=False)[1].close()
        return opened

    def locate(self, indices) -> tuple[np.ndarray, np.ndarray]:
        """(shard, index within the shard) of global indices; arrays of int64."""
        idx = np.asarray(indices, dtype=np.int64)
        shard = np.searchsorted(self.offsets, idx, side="right") - 1
        return shard, idx - self.offsets[shard]

    def global_index(self, shard: int, index) -> np.ndarray:
        """Global indices of cutouts ``index`` of shard ``shard``."""
        return self.offsets[shard] + np.asarray(index, dtype=np.int64)

    def _read(self, indices: np.ndarray) -> np.ndarray:
        shard, local = self.locate(indices)
        out = np.empty((len(indices), *self.shape), dtype=self.dtype)
        for s in np.unique(shard):
            rows = np.flatnonzero(shard == s)
            out[rows] = self._shard(int(s)).get_batch(local[rows])
        return out

    def _per_shard(self, read, fill):
        """Concatenated per-shard metadata (``read(collection)``), ``fill(n, name)`` where a shard has
        none; None when no shard has any."""
        parts, any_found = [], False
        for shard, name in enumerate(self.shards.names):
            values = read(self._shard(shard))
            any_found |= values is not None
            n = int(self.offsets[shard + 1] - self.offsets[shard])
            parts.append(fill(n, name) if values is None else np.asarray(values))
        return np.concatenate(parts) if any_found else None

    def _load_labels(self):
        return self._per_shard(lambda c: c.labels, lambda n, _name: np.full(n, -1, np.int64))

    def _load_coords(self):
        nan = lambda n, _name: np.full(n, np.nan)  # noqa: E731
        ra = self._per_shard(lambda c: c.ra, nan)
        return None if ra is None else (ra, self._per_shard(lambda c: c.dec, nan))

    def _load_ids(self):
        def named(n, name):
            return np.array([f"{name}:{j}" for j in range(n)])

        return self._per_shard(lambda c: c._raw_ids(), named)

    def _load_class_names(self):
        return next((c.class_names for c in map(self._shard, range(len(self.shards.paths)))
                     if c.class_names is not None), None)  # fmt: skip

    def close(self) -> None:
        while self._open:
            self._open.popitem()[1].close()

    def __repr__(self) -> str:
        return (
            f"<ShardedCollection {len(self)} cutouts in {len(self.shards.paths)} shards from {self.source}>"
        )

"""The output folder of a survey-scale scoring run (``galview score --cluster``), read and checked.

Layout of ``OUT_DIR``::

    summary.json          the run: model, shard files, and per unit (a shard, or a chunk of one) its
                          status and output; written last, atomically
    shards/NAME.h5        one score file per unit (index, ids, probs, predicted, embeddings; maps and
                          map_index for the top K with --maps K), written .partial → renamed
    scores.csv            every cutout of every shard: shard, index, id, prob | p_<class>, predicted
    catalogue.h5          the same rows as arrays (shard number into shard_names, index, ids, probs,
                          predicted) and ``top``, the catalogue rows of the top candidates
    top.csv               the top candidates, same columns plus rank

A unit's output is *done* when it opens, holds one row per cutout of the unit, and records the same
inputs as asked now (:func:`recorded_inputs`: shard path, size and modification time, rows, model
hash, maps): a ``.partial`` file, a stale or a damaged output is never taken as done. Nothing here
imports Dask: the window reads a run without it.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from galview.core.errors import CollectionError
from galview.io.shards import ShardedCollection, ShardSet

SUMMARY = "summary.json"
#: ``kind`` of a run's summary.
SUMMARY_KIND = "galview-cluster-scores"
SHARD_OUTPUTS = "shards"
SCORES_CSV = "scores.csv"
TOP_CSV = "top.csv"
CATALOGUE_H5 = "catalogue.h5"
#: HDF5 attribute of a unit's output holding its recorded inputs (JSON).
INPUTS_ATTR = "galview_inputs"


def file_sha256(*paths) -> str:
    """sha256 of the bytes of the existing ``paths`` (a model file and its card), 16 hex digits."""
    digest = hashlib.sha256()
    for path in paths:
        if Path(path).is_file():
            with open(path, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
    return digest.hexdigest()[:16]


def recorded_inputs(
    shard: str | Path, start: int, stop: int | None, model_hash: str, maps: int, options
) -> dict:
    """What a unit's output must record to count as done: the shard file as it is now (path, size,
    modification time in ns), the rows [start, stop), the model's hash, the Grad-CAM count, the open
    options."""
    status = os.stat(shard)
    return {
        "shard": str(Path(shard).resolve()),
        "size": int(status.st_size),
        "mtime_ns": int(status.st_mtime_ns),
        "start": int(start),
        "stop": None if stop is None else int(stop),
        "model": model_hash,
        "maps": int(maps),
        "options": dict(options),
    }


def is_done(output: str | Path, expected: dict) -> bool:
    """Whether ``output`` is a complete unit output recording exactly ``expected`` (never raises)."""
    import h5py

    output = Path(output)
    if not output.is_file():
        return False
    try:
        with h5py.File(output, "r") as handle:
            recorded = json.loads(handle.attrs[INPUTS_ATTR])
            whole = expected["stop"] is None  # a whole shard: as many rows as it had when scored
            rows = len(handle["probs"]) if whole else expected["stop"] - expected["start"]
            complete = all(len(handle[name]) == rows for name in ("ids", "predicted", "embeddings", "index"))
            maps = "maps" not in handle or len(handle["maps"]) == len(handle["map_index"])
    except (OSError, KeyError, ValueError, TypeError):
        return False
    return recorded == expected and complete and maps


def candidate_score(probs: np.ndarray) -> np.ndarray:
    """What ranks candidates: the positive-class probability (one output) or the top class's."""
    probs = np.asarray(probs, dtype=np.float32)
    return probs[:, 0] if probs.shape[1] == 1 else probs.max(axis=1)


def read_unit(output: str | Path, embeddings: bool = False) -> dict:
    """A unit's columns: ``index``, ``ids`` (str), ``probs``, ``predicted`` (and ``embeddings``).

    Raises
    ------
    CollectionError
        If the file cannot be read as a unit output.
    """
    import h5py

    names = ("index", "ids", "probs", "predicted") + (("embeddings",) if embeddings else ())
    try:
        with h5py.File(output, "r") as handle:
            columns = {name: handle[name][...] for name in names}
            columns["class_names"] = [str(c) for c in handle.attrs["class_names"]]
    except (OSError, KeyError, ValueError, TypeError) as exc:
        raise CollectionError(output, f"is not a complete score file of a cluster run ({exc})") from exc
    columns["ids"] = np.array([i.decode() if isinstance(i, bytes) else str(i) for i in columns["ids"]])
    return columns


def write_json(path: Path, data: dict) -> Path:
    """Write ``data`` as JSON atomically (.partial → renamed)."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    partial.replace(path)
    return path


def read_summary(out_dir: str | Path) -> dict:
    """The ``summary.json`` of a run folder.

    Raises
    ------
    CollectionError
        If it is missing or is not a cluster run's summary.
    """
    path = Path(out_dir) / SUMMARY
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
        summary["units"], summary["shards"]  # noqa: B018 - a run's summary has both
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CollectionError(path, f"is not the summary of a cluster scoring run ({exc})") from exc
    return summary


def is_run_folder(path: Path) -> bool:
    """Whether ``path`` is a folder written by ``galview score --cluster`` (it holds a run summary)."""
    summary = path / SUMMARY
    if not summary.is_file():
        return False
    try:
        return json.loads(summary.read_text(encoding="utf-8")).get("kind") == SUMMARY_KIND
    except (OSError, ValueError, AttributeError):
        return False


def finished_shards(summary: dict) -> list[tuple[str, str, list[dict]]]:
    """(name, path, units) of each shard whose every unit finished, in the run's order."""
    names, paths = summary["shards"]["names"], summary["shards"]["paths"]
    units = {name: [u for u in summary["units"] if u["shard"] == name] for name in names}
    return [
        (name, path, units[name])
        for name, path in zip(names, paths, strict=True)
        if units[name] and all(u["status"] != "failed" for u in units[name])
    ]


def open_run(out_dir: str | Path, **options):
    """The shards a cluster run scored completely, as one collection carrying the run's scores
    (:meth:`RunCollection.run_scores`).

    Raises
    ------
    CollectionError
        If the folder is not a run, no shard finished, or a shard cannot be opened.
    """
    out_dir = Path(out_dir)
    summary = read_summary(out_dir)
    shards = finished_shards(summary)
    if not shards:
        raise CollectionError(out_dir, "is a cluster run in which no shard was scored completely")
    merged = dict(summary["shards"].get("options") or {}) | options
    return RunCollection(out_dir, summary, ShardSet(tuple(p for _n, p, _u in shards), merged))


class RunCollection(ShardedCollection):
    """A cluster run's finished shards as one collection, with the run's scores at hand."""

    def __init__(self, out_dir: Path, summary: dict, shards):
        super().__init__(shards, source=out_dir)
        self.run_folder = out_dir
        self.summary = summary

    def run_scores(self, embedding_budget: int = 256 * 2**20):
        """The run's probabilities (and embeddings while N × D × 4 ≤ ``embedding_budget``) as
        :class:`~galview.core.scores.Scores` over this collection.

        Raises
        ------
        CollectionError
            If a shard's outputs do not cover it row for row (the file changed after the run).
        """
        parts = []
        for shard, (name, _path, units) in enumerate(finished_shards(self.summary)):
            columns = [read_unit(self.run_folder / SHARD_OUTPUTS / u["output"]) for u in units]
            index = np.concatenate([c["index"] for c in columns])
            n = int(self.offsets[shard + 1] - self.offsets[shard])
            if not np.array_equal(index, np.arange(n)):
                raise CollectionError(
                    name, f"holds {n} cutouts but the run scored {len(index)}; rerun the scoring"
                )
            parts.append(columns)
        flat = [c for columns in parts for c in columns]
        probs = np.concatenate([c["probs"] for c in flat]).astype(np.float32)
        return self._scores(probs, np.concatenate([c["predicted"] for c in flat]), flat[0]["class_names"],
                            embedding_budget)  # fmt: skip

    def _scores(self, probs, predicted, class_names, embedding_budget: int):
        from galview.core.scores import Scores

        card = self.summary.get("card") or {}
        task = card.get("task", "binary" if probs.shape[1] == 1 else "multiclass")
        names = tuple(card.get("class_names") or class_names)
        embeddings = self._embeddings(probs.shape[0], embedding_budget)
        return Scores(
            probs, predicted.astype(np.int64), f"cluster-run:{self.summary['model_hash']}", task=task,
            class_names=names, positive_class=int(card.get("positive_class") or 0),
            model_name=Path(self.summary["model"]).stem, embeddings=embeddings,
        )  # fmt: skip

    def _embeddings(self, n: int, budget: int):
        import h5py

        outputs = [self.run_folder / SHARD_OUTPUTS / u["output"] for _n, _p, units in
                   finished_shards(self.summary) for u in units]  # fmt: skip
        with h5py.File(outputs[0], "r") as handle:
            dim = handle["embeddings"].shape[1]
        if n * dim * 4 > budget:
            return None
        return np.concatenate([read_unit(o, embeddings=True)["embeddings"] for o in outputs]).astype(
            np.float32
        )

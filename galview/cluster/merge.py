"""The merged catalogue of a run: ``scores.csv`` and ``catalogue.h5`` (every cutout) and ``top.csv``
(the best candidates).

Units are read one at a time in catalogue order (shards in the order given, chunks by row), so memory
stays at one unit plus the top candidates, and the same unit outputs always give the same files.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from galview.cluster.units import ShardUnit
from galview.io.cluster_runs import CATALOGUE_H5, SCORES_CSV, TOP_CSV, candidate_score, read_unit
from galview.io.score_files import prob_columns, prob_texts


def merge_catalogue(out_dir: str | Path, units: list[ShardUnit], top: int = 100) -> dict:
    """Write ``scores.csv``, ``catalogue.h5`` and ``top.csv`` from the outputs of ``units``; counts of
    rows written.

    Columns: ``shard``, ``index`` (within the shard), ``id``, ``prob`` or ``p_<class>``,
    ``predicted``; ``top.csv`` starts with ``rank``. Ties among candidates keep catalogue order.
    ``catalogue.h5`` holds the same rows as arrays (see :class:`CatalogueWriter`) and the catalogue
    rows of the top candidates. Every file is written under ``.partial`` and renamed.
    """
    out_dir = Path(out_dir)
    scores_path, top_path = out_dir / SCORES_CSV, out_dir / TOP_CSV
    partial = scores_path.with_name(scores_path.name + ".partial")
    best: list[tuple] = []  # (score, order, row) of the candidates kept so far
    rows_written, header = 0, None
    shard_numbers = {name: k for k, name in enumerate(dict.fromkeys(unit.name for unit in units))}
    with (
        open(partial, "w", newline="", encoding="utf-8") as handle,
        CatalogueWriter(out_dir / CATALOGUE_H5, list(shard_numbers)) as arrays,
    ):
        writer = csv.writer(handle, lineterminator="\n")
        for unit in units:
            columns = read_unit(unit.output)
            if header is None:
                header = ["shard", "index", "id", *prob_columns(columns["class_names"]), "predicted"]
                writer.writerow(header)
            rows = [
                [unit.name, int(i), ident, *prob_texts(p), int(c)]
                for i, ident, p, c in zip(
                    columns["index"], columns["ids"], columns["probs"], columns["predicted"], strict=True
                )
            ]
            writer.writerows(rows)
            arrays.append(shard_numbers[unit.name], columns)
            best = _keep_best(best, candidate_score(columns["probs"]), rows, rows_written, top)
            rows_written += len(rows)
        arrays.finish([order for _score, order, _row in best])
    partial.replace(scores_path)
    _write_top(top_path, header, best)
    return {"rows": rows_written, "top": len(best)}


class CatalogueWriter:
    """``catalogue.h5``, appended one unit at a time; renamed into place by :meth:`finish`.

    Datasets, one row per cutout in catalogue order: ``shard`` (int32, a row of ``shard_names``),
    ``index`` (int64, within the shard), ``ids`` (str), ``probs`` (float32, one column per output),
    ``predicted`` (int64); ``top``: catalogue rows of the top candidates, best first. Attribute
    ``class_names``: one name per column of ``probs``, as in the unit outputs. Leaving the ``with``
    block without :meth:`finish` removes the partial file.
    """

    def __init__(self, path: Path, shard_names: list[str]):
        import h5py

        self.path = Path(path)
        self._partial = self.path.with_name(self.path.name + ".partial")
        self._h5 = h5py.File(self._partial, "w")
        self._h5.create_dataset(
            "shard_names", data=[str(name) for name in shard_names], dtype=h5py.string_dtype()
        )
        self._n = 0
        self._finished = False

    def __enter__(self) -> CatalogueWriter:
        return self

    def __exit__(self, *exc_info) -> None:
        self._h5.close()
        if not self._finished:
            self._partial.unlink(missing_ok=True)

    def append(self, shard: int, columns: dict) -> None:
        """Add the rows of one unit (the columns of :func:`read_unit`) from shard number ``shard``."""
        import h5py

        n = len(columns["index"])
        if "probs" not in self._h5:
            self._h5.attrs["class_names"] = list(columns["class_names"])
            width = columns["probs"].shape[1]
            for name, dtype in (("shard", np.int32), ("index", np.int64), ("predicted", np.int64)):
                self._h5.create_dataset(name, (0,), dtype=dtype, maxshape=(None,), chunks=True)
            self._h5.create_dataset("ids", (0,), dtype=h5py.string_dtype(), maxshape=(None,), chunks=True)
            self._h5.create_dataset(
                "probs", (0, width), dtype=np.float32, maxshape=(None, width), chunks=True
            )
        values = {
            "shard": np.full(n, shard, dtype=np.int32),
            "index": np.asarray(columns["index"], dtype=np.int64),
            "ids": np.asarray([str(i) for i in columns["ids"]], dtype=object),
            "probs": np.asarray(columns["probs"], dtype=np.float32),
            "predicted": np.asarray(columns["predicted"], dtype=np.int64),
        }
        for name, data in values.items():
            dataset = self._h5[name]
            dataset.resize(self._n + n, axis=0)
            dataset[self._n : self._n + n] = data
        self._n += n

    def finish(self, top_rows: list[int]) -> Path:
        """Record the top candidates' catalogue rows and move the file into place."""
        self._h5.create_dataset("top", data=np.asarray(top_rows, dtype=np.int64))
        self._h5.close()
        self._partial.replace(self.path)
        self._finished = True
        return self.path


def _keep_best(best: list[tuple], score: np.ndarray, rows: list, offset: int, top: int) -> list[tuple]:
    """The ``top`` best of ``best`` and this unit's rows, by score then catalogue order."""
    if top <= 0 or len(score) == 0:
        return best
    mine = np.lexsort((np.arange(len(score)), -score))[:top]
    merged = best + [(float(score[i]), offset + int(i), rows[i]) for i in mine]
    merged.sort(key=lambda item: (-item[0], item[1]))
    return merged[:top]


def _write_top(path: Path, header: list[str] | None, best: list[tuple]) -> None:
    partial = path.with_name(path.name + ".partial")
    with open(partial, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        if header is not None:
            writer.writerow(["rank", *header])
        writer.writerows([rank, *row] for rank, (_score, _order, row) in enumerate(best, start=1))
    partial.replace(path)

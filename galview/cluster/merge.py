"""The merged catalogue of a run: ``scores.csv`` (every cutout) and ``top.csv`` (the best candidates).

Units are read one at a time in catalogue order (shards in the order given, chunks by row), so memory
stays at one unit plus the top candidates, and the same unit outputs always give the same files.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from galview.cluster.units import ShardUnit
from galview.io.cluster_runs import SCORES_CSV, TOP_CSV, candidate_score, read_unit
from galview.io.score_files import prob_columns, prob_texts


def merge_catalogue(out_dir: str | Path, units: list[ShardUnit], top: int = 100) -> dict:
    """Write ``scores.csv`` and ``top.csv`` from the outputs of ``units``; counts of rows written.

    Columns: ``shard``, ``index`` (within the shard), ``id``, ``prob`` or ``p_<class>``,
    ``predicted``; ``top.csv`` starts with ``rank``. Ties among candidates keep catalogue order.
    Both files are written under ``.partial`` and renamed.
    """
    out_dir = Path(out_dir)
    scores_path, top_path = out_dir / SCORES_CSV, out_dir / TOP_CSV
    partial = scores_path.with_name(scores_path.name + ".partial")
    best: list[tuple] = []  # (score, order, row) of the candidates kept so far
    rows_written, header = 0, None
    with open(partial, "w", newline="", encoding="utf-8") as handle:
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
            best = _keep_best(best, candidate_score(columns["probs"]), rows, rows_written, top)
            rows_written += len(rows)
    partial.replace(scores_path)
    _write_top(top_path, header, best)
    return {"rows": rows_written, "top": len(best)}


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

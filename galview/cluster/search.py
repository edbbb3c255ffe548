"""Similarity search over a cluster run's embeddings as map-reduce: the top k of each unit, merged.

Each unit's output holds the embeddings of its cutouts; the map step ranks one unit by cosine
similarity to the queries (:func:`galview.core.vector_search.cosine_topk`, exact), the reduce step
keeps the best k of all units, ties in catalogue order. The result equals an exact search over every
embedding at once, in memory of one unit at a time.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from galview.core.errors import UserFacingError
from galview.core.vector_search import cosine_topk, unit_rows
from galview.io.cluster_runs import SHARD_OUTPUTS, read_unit


def unit_outputs(out_dir: str | Path, summary: dict) -> list[tuple[str, Path]]:
    """(shard name, output file) of every finished unit of a run, in catalogue order."""
    folder = Path(out_dir) / SHARD_OUTPUTS
    return [(u["shard"], folder / u["output"]) for u in summary["units"] if u["status"] != "failed"]


def reference_embeddings(out_dir, summary: dict, references: list[tuple[str, int]]) -> np.ndarray:
    """(Q, D) embeddings of reference cutouts given as (shard name, index within the shard).

    Raises
    ------
    UserFacingError
        If the run has no such shard or the shard no such cutout.
    """
    rows = []
    for shard, index in references:
        found = None
        for name, output in unit_outputs(out_dir, summary):
            if name != shard:
                continue
            columns = read_unit(output, embeddings=True)
            hit = np.flatnonzero(columns["index"] == index)
            if hit.size:
                found = columns["embeddings"][hit[0]]
                break
        if found is None:
            raise UserFacingError(f"{shard}:{index}", f"no such cutout among the scored shards of {out_dir}")
        rows.append(found)
    return np.stack(rows).astype(np.float32)


def unit_topk(output: str | Path, queries: np.ndarray, k: int) -> dict:
    """The map step: the ``k`` cutouts of one unit most similar to any query."""
    columns = read_unit(output, embeddings=True)
    found, score, query = cosine_topk(unit_rows(columns["embeddings"]), unit_rows(queries), k)
    return {
        "index": columns["index"][found],
        "id": columns["ids"][found],
        "similarity": score,
        "query": query,
    }


def search_run(out_dir, summary: dict, queries: np.ndarray, k: int, client=None) -> list[dict]:
    """The ``k`` cutouts of the run most similar to any of ``queries`` (Q, D), best first.

    With a Dask ``client`` the map step runs one task per unit on its workers; without, here.
    Each match: shard, index, id, similarity, query.
    """
    outputs = unit_outputs(out_dir, summary)
    if client is not None:
        futures = client.map(unit_topk, [str(o) for _n, o in outputs], queries=queries, k=k, pure=False)
        parts = client.gather(futures)
    else:
        parts = [unit_topk(output, queries, k) for _n, output in outputs]
    return merge_topk([name for name, _o in outputs], parts, k)


def merge_topk(names: list[str], parts: list[dict], k: int) -> list[dict]:
    """The reduce step: the best ``k`` of every unit's matches; ties in catalogue order."""
    matches = [
        {
            "shard": name,
            "index": int(i),
            "id": str(ident),
            "similarity": float(s),
            "query": int(q),
            "_order": order,
        }
        for order, (name, part) in enumerate(zip(names, parts, strict=True))
        for i, ident, s, q in zip(part["index"], part["id"], part["similarity"], part["query"], strict=True)
    ]
    matches.sort(key=lambda m: (-m["similarity"], m["_order"], m["index"]))
    return [{key: value for key, value in m.items() if key != "_order"} for m in matches[:k]]


def write_matches(path: str | Path, matches: list[dict]) -> Path:
    """The matches as CSV (rank, shard, index, id, similarity, query), written atomically."""
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    with open(partial, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["rank", "shard", "index", "id", "similarity", "query"])
        for rank, m in enumerate(matches, start=1):
            writer.writerow([rank, m["shard"], m["index"], m["id"], f"{m['similarity']:.6g}", m["query"]])
    partial.replace(path)
    return path

"""A scoring run on a Dask cluster: plan, skip what is done, submit, follow, merge, summarise."""

from __future__ import annotations

import time
from pathlib import Path

from galview.cluster.merge import merge_catalogue
from galview.cluster.units import ShardUnit, plan_units
from galview.cluster.worker import PLUGIN_NAME, ModelPlugin, ScoreJob, score_unit
from galview.core.jobs import Progress
from galview.io.cluster_runs import SUMMARY, SUMMARY_KIND, file_sha256, is_done, recorded_inputs, write_json
from galview.io.shards import ShardSet


def score_on_cluster(
    client,
    shards: ShardSet,
    model_path: str | Path,
    out_dir: str | Path,
    *,
    batch_size: int = 1024,
    maps: int = 0,
    chunk_size: int = 0,
    top: int = 100,
    backend: str = "auto",
    on_progress=None,
    on_unit=None,
) -> dict:
    """Score every shard on the cluster of ``client`` into ``out_dir``; the run's summary.

    Units already done (same shard file, rows, model and maps) are skipped without a task; the others
    run as one task each. A failed unit (bad shard) is listed with its reason and the run goes on.
    ``on_progress(Progress)`` hears of each finished unit, ``on_unit(result)`` gets its result dict.
    Writes ``OUT_DIR/shards/*.h5``, ``scores.csv``, ``catalogue.h5``, ``top.csv`` and ``summary.json``.
    """
    from galview.ml.cards import card_path

    started = time.perf_counter()
    out_dir = Path(out_dir)
    (out_dir / "shards").mkdir(parents=True, exist_ok=True)
    model_path = Path(model_path).resolve()
    job = ScoreJob(file_sha256(model_path, card_path(model_path)), batch_size, maps)
    planned = plan_units(shards, out_dir, chunk_size)
    results = {unit.output: _already_done(unit, job) for unit in planned.units}
    todo = [unit for unit in planned.units if results[unit.output] is None]
    if todo:
        client.register_plugin(ModelPlugin(str(model_path), backend), name=PLUGIN_NAME)
        _run_tasks(client, todo, job, results, len(planned.units), on_progress, on_unit)
    summary = _summary(shards, model_path, job, planned, results, chunk_size)
    summary["card"] = _card_fields(model_path)
    finished = [unit for unit in planned.units if results[unit.output]["status"] != "failed"]
    summary["catalogue"] = merge_catalogue(out_dir, finished, top)
    summary["seconds"] = round(time.perf_counter() - started, 3)
    write_json(out_dir / SUMMARY, summary)
    return summary


def _already_done(unit: ShardUnit, job: ScoreJob) -> dict | None:
    """The result of a unit whose output is done already (checked here, before any task); else None."""
    try:
        expected = recorded_inputs(unit.path, unit.start, unit.stop, job.model_hash, job.maps, unit.options)
    except OSError:
        return None  # the worker says why
    return (
        {"unit": unit.label, "output": unit.output, "status": "skipped"}
        if is_done(unit.output, expected)
        else None
    )


def _run_tasks(client, todo, job, results, total, on_progress, on_unit) -> None:
    from distributed import as_completed

    futures = client.map(
        score_unit, todo, job=job, pure=False, key=[f"galview-score-{i}" for i in range(len(todo))]
    )
    by_key = {future.key: unit for future, unit in zip(futures, todo, strict=True)}
    done = total - len(todo)
    for future in as_completed(futures):
        unit = by_key[future.key]
        result = _result(future, unit)
        results[unit.output] = result
        done += 1
        if on_unit is not None:
            on_unit(result)
        if on_progress is not None:
            on_progress(Progress(done, total, f"{unit.label} {result['status']}", unit="shards"))
        future.release()


def _result(future, unit: ShardUnit) -> dict:
    """A task's result dict; a task that raised (a bug, a worker killed too often) is a failed unit.

    A task finished on a worker killed before its result was gathered is lost, then computed again: its
    status is no longer "finished" when read here, and it is waited for (it failed only if it raises).
    """
    try:
        error = None if future.status == "finished" else future.exception()
        if error is None:
            return future.result()
    except Exception as exc:  # cancelled, or lost for good
        error = exc
    reason = f"{unit.path}: {type(error).__name__}: {error}"
    return {"unit": unit.label, "output": unit.output, "status": "failed", "reason": reason}


def _card_fields(model_path: Path) -> dict:
    """Task, class names and positive class from the model's card (the window names the scores)."""
    from galview.ml.cards import card_path, load_card

    path = card_path(model_path)
    if not path.is_file():
        return {}
    card = load_card(path)
    return {"task": card.task, "class_names": list(card.class_names), "positive_class": card.positive_class}


def _summary(shards, model_path, job, planned, results, chunk_size) -> dict:
    units = [
        {"shard": u.name, "path": u.path, "start": u.start, "stop": u.stop, "output": Path(u.output).name}
        | {key: value for key, value in results[u.output].items() if key not in ("unit", "output")}
        for u in planned.units
    ]
    counts = {status: 0 for status in ("done", "redone", "skipped", "failed")}
    for unit in units:
        counts[unit["status"]] += 1
    failed = [{"shard": u["shard"], "reason": u["reason"]} for u in units if u["status"] == "failed"]
    failed += [{"shard": f["shard"], "reason": f["reason"]} for f in planned.failed]
    counts["failed"] += len(planned.failed)
    return {
        "kind": SUMMARY_KIND,
        "model": str(model_path),
        "model_hash": job.model_hash,
        "batch_size": job.batch_size,
        "maps": job.maps,
        "chunk_size": chunk_size,
        "shards": {"paths": list(shards.paths), "names": shards.names, "options": shards.options},
        "units": units,
        "counts": counts,
        "failed": failed,
    }

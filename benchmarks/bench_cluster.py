"""Survey-scale scoring (issue 15): one process against a Dask LocalCluster of 1 and 2 workers.

    nice -n 19 python benchmarks/bench_cluster.py [--data bench_data/million.h5] [--n 20000]
        [--shard-size 2000] [--batch-size 256] [--model models/deepshadows_des_sim.keras]
        [--workers 1 2] [--json out.json]

The first ``--n`` cutouts of ``--data`` (the 1,000,000-cutout file of bench_open_scroll.py) are
split into shard files of ``--shard-size`` in a temporary folder. Then, in one run:

* one process: ``score_to_file`` shard by shard (what ``galview score`` does per shard), model
  loaded beforehand;
* LocalCluster of N workers (1 thread each, processes): a warm-up run on one shard (workers import
  Keras and load the model once), then ``score_on_cluster`` over every shard into a fresh folder
  (tasks, per-shard HDF5, merge of scores.csv/top.csv, summary).

Printed: cutouts/s, ratios to one process, peak RSS per worker (ru_maxrss), the cluster's overhead
per shard (its time per shard minus one process's) and the merge time. The whole million file is
scored without copying it with ``galview score --cluster local:N million.h5 --chunk-size 4096``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import tempfile
import time
from pathlib import Path

import h5py


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def process_peak_rss_mb() -> float:
    """This process's own peak RSS (VmHWM). Unlike ru_maxrss, it does not inherit the high-water mark
    of the process that started it: a worker spawned by a client that once held gigabytes would
    otherwise report the client's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return peak_rss_mb()


def split_into_shards(data: Path, n: int, shard_size: int, folder: Path) -> list[Path]:
    """The first ``n`` cutouts of ``data`` as HDF5 shard files of ``shard_size`` (images only)."""
    from galview.io.writers import write_hdf5

    paths = []
    with h5py.File(data, "r") as handle:
        images = handle["images"]
        n = min(n, len(images))
        for k, start in enumerate(range(0, n, shard_size)):
            block = images[start : min(start + shard_size, n)]
            paths.append(write_hdf5(folder / f"shard_{k:05d}.h5", block, chunk_rows=64))
    return paths


def single_process(model: Path, shards: list[Path], batch_size: int, out: Path) -> dict:
    from galview.io import open_collection
    from galview.ml.loading import load_model
    from galview.ml.scoring import score_to_file

    loaded = load_model(model)
    out.mkdir()
    with open_collection(shards[0]) as first:  # warm-up: the first batch compiles
        score_to_file(loaded, first, out / "warmup.h5", batch_size=batch_size, indices=range(batch_size))
    started = time.perf_counter()
    n = 0
    for shard in shards:
        with open_collection(shard) as collection:
            score_to_file(loaded, collection, out / f"{shard.stem}.h5", batch_size=batch_size)
            n += len(collection)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "cutouts_per_s": n / seconds, "peak_rss_mb": peak_rss_mb()}


def on_cluster(workers: int, model: Path, shards: list[Path], batch_size: int, out: Path) -> dict:
    from distributed import Client, LocalCluster

    from galview.cluster.merge import merge_catalogue
    from galview.cluster.run import score_on_cluster
    from galview.cluster.units import plan_units
    from galview.io.shards import ShardSet

    started = time.perf_counter()
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
    with cluster, Client(cluster) as client:
        startup = time.perf_counter() - started
        warm = time.perf_counter()
        score_on_cluster(
            client, ShardSet.from_inputs(shards[:workers]), model, out / "warmup", batch_size=batch_size
        )
        warmup = time.perf_counter() - warm
        shard_set = ShardSet.from_inputs(shards)
        run = time.perf_counter()
        summary = score_on_cluster(client, shard_set, model, out / "run", batch_size=batch_size)
        seconds = time.perf_counter() - run
        rss = client.run(process_peak_rss_mb)
        search = search_figures(out / "run", client)
    merge = time.perf_counter()
    merge_catalogue(out / "run", plan_units(shard_set, out / "run").units)
    n = summary["catalogue"]["rows"]
    task_seconds = [u["seconds"] for u in summary["units"] if "seconds" in u]
    return {
        "workers": workers,
        "startup_s": startup,
        "warmup_s": warmup,
        "seconds": seconds,
        "cutouts_per_s": n / seconds,
        "merge_s": time.perf_counter() - merge,
        "mean_task_s": sum(task_seconds) / len(task_seconds),
        "peak_rss_mb_per_worker": sorted(rss.values()),
        "failed": summary["counts"]["failed"],
        "search": search,
    }


def search_figures(out_dir: Path, client, k: int = 50, queries: int = 20) -> dict:
    """Map-reduce top-k search over the run's embeddings against exact search over all of them at once;
    with FAISS importable, recall@k of an IVF index (approximate) against exact."""
    import numpy as np

    from galview.cluster.search import search_run
    from galview.core.vector_search import cosine_topk, faiss_available, unit_rows
    from galview.io.cluster_runs import read_summary, read_unit

    summary = read_summary(out_dir)
    units = [read_unit(out_dir / "shards" / u["output"], embeddings=True) for u in summary["units"]]
    vectors = unit_rows(np.concatenate([u["embeddings"] for u in units]))
    keys = [(s["shard"], int(i)) for s, u in zip(summary["units"], units, strict=True) for i in u["index"]]
    picks = np.random.default_rng(0).choice(len(vectors), queries, replace=False)
    started, exact, mapped = time.perf_counter(), [], []
    for q in picks:
        exact.append({keys[i] for i in cosine_topk(vectors, vectors[[q]], k)[0]})
    exact_s = (time.perf_counter() - started) / queries
    started = time.perf_counter()
    for q in picks:
        mapped.append(
            {(m["shard"], m["index"]) for m in search_run(out_dir, summary, vectors[[q]], k, client)}
        )
    figures = {"k": k, "queries": queries, "dim": vectors.shape[1], "exact_s": exact_s,
               "map_reduce_s": (time.perf_counter() - started) / queries,
               "map_reduce_equals_exact": all(a == b for a, b in zip(exact, mapped, strict=True))}  # fmt: skip
    if faiss_available():
        import faiss

        nlist = max(1, int(np.sqrt(len(vectors))))
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(vectors.shape[1]), vectors.shape[1], nlist,
                                   faiss.METRIC_INNER_PRODUCT)  # fmt: skip
        index.train(vectors)
        index.add(vectors)
        for nprobe in (1, 4, 16):
            index.nprobe = nprobe
            _, found = index.search(vectors[picks], k)
            hits = [
                len({keys[i] for i in row if i >= 0} & truth) for row, truth in zip(found, exact, strict=True)
            ]
            figures[f"faiss_ivf{nlist}_nprobe{nprobe}_recall@{k}"] = sum(hits) / (k * queries)
    return figures


def main() -> None:
    from galview.assets import default_model_path

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("bench_data/million.h5"))
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--shard-size", type=int, default=2_000)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--model", type=Path, default=default_model_path())
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench_cluster_") as tmp:
        tmp = Path(tmp)
        shards = split_into_shards(args.data, args.n, args.shard_size, tmp / "shards")
        n = sum(min(args.shard_size, args.n - k * args.shard_size) for k in range(len(shards)))
        print(
            f"{n:,} cutouts of {args.data} in {len(shards)} shards of {args.shard_size}; model {args.model.name}"
        )
        print(f"machine: {platform.node()}, {os.cpu_count()} CPUs, {platform.platform()}")
        single = single_process(args.model, shards, args.batch_size, tmp / "single")
        print(f"1 process     {single['cutouts_per_s']:8,.0f} cutouts/s  {single['seconds']:.1f} s  "
              f"peak RSS {single['peak_rss_mb']:.0f} MB")  # fmt: skip
        results = {"n": n, "shards": len(shards), "single": single, "clusters": []}
        for workers in args.workers:
            r = on_cluster(workers, args.model, shards, args.batch_size, tmp / f"cluster{workers}")
            results["clusters"].append(r)
            overhead = (r["seconds"] - single["seconds"]) / len(shards)
            print(
                f"{workers} worker(s)   {r['cutouts_per_s']:8,.0f} cutouts/s  {r['seconds']:.1f} s  "
                f"x{r['cutouts_per_s'] / single['cutouts_per_s']:.2f} of 1 process; overhead "
                f"{overhead:+.2f} s/shard; mean task {r['mean_task_s']:.2f} s; cluster start "
                f"{r['startup_s']:.1f} s, warm-up (Keras import + model load) {r['warmup_s']:.1f} s; "
                f"merge {r['merge_s']:.2f} s; peak RSS per worker {', '.join(f'{m:.0f}' for m in r['peak_rss_mb_per_worker'])} MB"
            )
            print(f"  search: {r['search']}")
        if len(results["clusters"]) > 1:
            one, two = results["clusters"][0], results["clusters"][-1]
            print(
                f"scaling {one['workers']} → {two['workers']} workers: x{two['cutouts_per_s'] / one['cutouts_per_s']:.2f}"
            )
        if args.json:
            args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()

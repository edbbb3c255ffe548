"""``galview score --cluster`` and ``galview similar-run``: survey scale on a Dask cluster.

Dask is imported only when one of these runs (the ``[cluster]`` extra); nothing else needs it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from galview.cli.common import model_path, open_options
from galview.core.errors import UserFacingError


def add_parsers(commands) -> None:
    """Register ``similar-run`` on the main parser's ``commands``."""
    similar = commands.add_parser(
        "similar-run",
        help="rank a cluster run's cutouts by similarity (map-reduce over its shards)",
        description="Find the cutouts of a 'galview score --cluster' run most similar to reference cutouts, "
        "by cosine similarity of the model embeddings stored per shard: the top k of each shard, merged.",
    )
    similar.add_argument("run_dir", metavar="OUT_DIR", help="the output folder of 'galview score --cluster'")
    similar.add_argument(
        "--to",
        action="append",
        required=True,
        metavar="SHARD:INDEX",
        help="a reference cutout: shard file name and index within it (repeatable)",
    )
    similar.add_argument("-k", type=int, default=20, help="how many to list")
    similar.add_argument("--cluster", metavar="ADDRESS|local:N", help="search the shards on a Dask cluster")
    similar.add_argument("-o", "--output", help="write the list as CSV (rank, shard, index, id, similarity)")
    similar.set_defaults(run=cmd_similar_run)


def _require_dask() -> None:
    import importlib.util

    if importlib.util.find_spec("distributed") is None:
        raise UserFacingError("--cluster", "needs Dask: pip install 'galview[cluster]'")


def check_cluster_spec(spec: str) -> None:
    """UserFacingError for a malformed ``local:N`` or a missing ``slurm:CONFIG`` file (before any work)."""
    if spec.startswith("local:"):
        text = spec.removeprefix("local:")
        if not text.isdigit() or int(text) < 1:
            raise UserFacingError(f"--cluster {spec}", "expected local:N with N a positive number of workers")
    elif spec.startswith("slurm:") and not Path(spec.removeprefix("slurm:")).is_file():
        raise UserFacingError(spec.removeprefix("slurm:"), "no such SLURM configuration file (YAML)")


def cmd_cluster_score(args) -> int:
    """``galview score --cluster SPEC SHARDS... -o OUT_DIR``."""
    from galview.cli.scoring import check_batch_size

    _require_dask()
    check_cluster_spec(args.cluster)
    check_batch_size(args.batch_size)
    for flag, value in (("--maps", args.maps), ("--chunk-size", args.chunk_size), ("--top", args.top)):
        if value < 0:
            raise UserFacingError(f"{flag} {value}", "expected zero or a positive whole number")
    if args.resize or args.bands is not None or args.greyscale or args.no_adapt:
        raise UserFacingError(
            "--cluster", "--resize, --bands, --greyscale and --no-adapt are not supported with it"
        )
    out_dir = Path(args.output)
    if out_dir.exists() and not out_dir.is_dir():
        raise UserFacingError(out_dir, "is a file; with --cluster, -o names the output folder")
    from galview.io.shards import ShardSet

    shards = ShardSet.from_inputs(args.data, **open_options(args))
    model = model_path(args.model)
    from galview.cluster.clusters import connect, dashboard_available
    from galview.cluster.run import score_on_cluster
    from galview.core.progress import progress_printer

    with connect(args.cluster, args.backend) as client:
        workers = len(client.scheduler_info().get("workers", {}))
        print(f"cluster: {args.cluster}, {workers} workers; {len(shards.paths)} shards", file=sys.stderr)
        if dashboard_available():
            print(f"dashboard: {client.dashboard_link}", file=sys.stderr)
        else:
            print("dashboard: not served (pip install bokeh to watch the run in a browser)", file=sys.stderr)
        with progress_printer("score") as progress:
            summary = score_on_cluster(
                client, shards, model, out_dir, batch_size=args.batch_size, maps=args.maps,
                chunk_size=args.chunk_size, top=args.top, backend=args.backend, on_progress=progress,
            )  # fmt: skip
    print_summary(summary, out_dir)
    return 0 if not summary["failed"] else 1


def print_summary(summary: dict, out_dir: Path) -> None:
    """The run in a few lines: units done, skipped, redone and failed (with the reasons)."""
    counts = summary["counts"]
    print(
        f"shards: {counts['done']} scored, {counts['redone']} redone, {counts['skipped']} skipped (done before), "
        f"{counts['failed']} failed; {summary['catalogue']['rows']:,} cutouts in {out_dir / 'scores.csv'} (and catalogue.h5) "
        f"({summary['seconds']:.1f} s)"
    )
    for failure in summary["failed"]:
        print(f"failed: {failure['reason']}")


def cmd_similar_run(args) -> int:
    """``galview similar-run OUT_DIR --to SHARD:INDEX``."""
    from galview.io.cluster_runs import read_summary

    if args.k < 1:
        raise UserFacingError(f"-k {args.k}", "expected a positive number of cutouts")
    summary = read_summary(args.run_dir)
    references = [_reference(text) for text in args.to]
    from galview.cluster.search import reference_embeddings, search_run, write_matches

    queries = reference_embeddings(args.run_dir, summary, references)
    if args.cluster:
        _require_dask()
        from galview.cluster.clusters import connect

        with connect(args.cluster) as client:
            matches = search_run(args.run_dir, summary, queries, args.k, client=client)
    else:
        matches = search_run(args.run_dir, summary, queries, args.k)
    for rank, match in enumerate(matches, start=1):
        print(f"{rank:4d}  {match['similarity']:.4f}  {match['shard']}:{match['index']}  {match['id']}")
    if args.output:
        print(write_matches(args.output, matches), file=sys.stderr)
    return 0


def _reference(text: str) -> tuple[str, int]:
    shard, _, index = text.rpartition(":")
    if not shard or not index.isdigit():
        raise UserFacingError(
            f"--to {text}", "expected SHARD:INDEX (a shard file name and an index within it)"
        )
    return shard, int(index)

"""``galview score``: probabilities, predicted classes and embeddings of every cutout, to a file."""

from __future__ import annotations

from galview.cli.common import (
    add_adapt_option,
    add_model_option,
    add_open_options,
    add_plain_adapter_options,
    check_band_names,
    model_path,
    open_options,
    ready_model,
    warn_unreadable,
)


def add_parsers(commands) -> None:
    """Register ``score`` on the main parser's ``commands``."""
    score = commands.add_parser(
        "score",
        help="score a collection with a model",
        description="Score every cutout: probability, predicted class (CSV) and embeddings (HDF5). "
        "With --cluster, score many shard files on a Dask cluster into a folder (the [cluster] extra).",
    )
    score.add_argument(
        "data",
        nargs="+",
        help="the cutout collection (file or folder); with --cluster, shard files, folders or globs",
    )
    add_model_option(score)
    score.add_argument(
        "-o",
        "--output",
        required=True,
        help="scores as .csv (index, id, probabilities, predicted) or .h5/.hdf5 (also the embeddings)",
    )
    score.add_argument(
        "--batch-size", type=int, default=1024, help="cutouts per forward pass (fewer when they are large)"
    )
    add_plain_adapter_options(score)
    add_adapt_option(score)
    add_open_options(score)
    add_cluster_options(score)
    score.set_defaults(run=cmd_score)


def add_cluster_options(score) -> None:
    """``--cluster`` and the options of a survey-scale run (:mod:`galview.cli.cluster`)."""
    group = score.add_argument_group("survey scale (pip install 'galview[cluster]')")
    group.add_argument(
        "--cluster",
        metavar="ADDRESS|local:N|slurm:CONFIG",
        help="score on a Dask cluster, one task per shard; -o is then the output folder",
    )
    group.add_argument(
        "--maps", type=int, default=0, metavar="K", help="Grad-CAM maps of the top K candidates of each shard"
    )
    group.add_argument(
        "--chunk-size",
        type=int,
        default=0,
        metavar="N",
        help="split shards into tasks of N cutouts (0: one task per shard)",
    )
    group.add_argument("--top", type=int, default=100, metavar="N", help="candidates in OUT_DIR/top.csv")
    group.add_argument(
        "--backend",
        choices=("auto", "jax", "tensorflow", "torch"),
        default="auto",
        help="Keras backend of the workers (auto: JAX on workers with CUDA)",
    )


def cmd_score(args) -> int:
    if args.cluster:
        from galview.cli.cluster import cmd_cluster_score

        return cmd_cluster_score(args)
    from galview.core.errors import UserFacingError

    if len(args.data) > 1:
        raise UserFacingError(
            " ".join(args.data), "several collections given; score one at a time, or add --cluster"
        )
    args.data = args.data[0]
    return cmd_single_score(args)


def cmd_single_score(args) -> int:
    from galview.core.outputs import output_path
    from galview.core.progress import progress_printer
    from galview.io import open_collection
    from galview.io.score_files import SCORE_FORMATS

    check_batch_size(args.batch_size)
    output = output_path(args.output, SCORE_FORMATS, "scores")
    with open_collection(args.data, **open_options(args)) as collection:
        check_band_names(args, collection)
        model = model_path(args.model)
        from galview.ml.loading import load_model
        from galview.ml.scoring import score_to_file

        loaded = ready_model(load_model(model), collection, args)
        unreadable: dict[int, str] = {}
        with progress_printer("score") as progress:
            path = score_to_file(
                loaded,
                collection,
                output,
                batch_size=args.batch_size,
                on_progress=progress,
                on_unreadable=unreadable.__setitem__,
            )
    warn_unreadable(unreadable)
    print(path)
    return 0


def check_batch_size(batch_size: int) -> None:
    """UserFacingError unless ``--batch-size`` is a positive number of cutouts."""
    from galview.core.errors import UserFacingError

    if batch_size < 1:
        raise UserFacingError(
            f"--batch-size {batch_size}", "expected a positive whole number of cutouts per batch"
        )

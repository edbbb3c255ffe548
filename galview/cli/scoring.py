"""``galview score``: probabilities, predicted classes and embeddings of every cutout, to a file."""

from __future__ import annotations

import sys

from galview.cli.common import (
    adapt_model,
    add_adapt_option,
    add_model_option,
    add_open_options,
    model_path,
    open_options,
)


def add_parsers(commands) -> None:
    """Register ``score`` on the main parser's ``commands``."""
    score = commands.add_parser(
        "score",
        help="score a collection with a model",
        description="Score every cutout: probability, predicted class (CSV) and embeddings (HDF5).",
    )
    score.add_argument("data", help="the cutout collection (file or folder)")
    add_model_option(score)
    score.add_argument(
        "-o",
        "--output",
        required=True,
        help="scores as .csv (index, id, probabilities, predicted) or .h5/.hdf5 (also the embeddings)",
    )
    score.add_argument("--batch-size", type=int, default=1024, help="cutouts per forward pass")
    score.add_argument(
        "--resize", action="store_true", help="adapter: resize cutouts to the model's input size"
    )
    score.add_argument(
        "--bands", help="adapter: bands to feed the model, in its order (names or indices, comma-separated)"
    )
    score.add_argument("--greyscale", action="store_true", help="adapter: average the bands into one channel")
    add_adapt_option(score)
    add_open_options(score)
    score.set_defaults(run=cmd_score)


def cmd_score(args) -> int:
    from galview.core.outputs import output_path
    from galview.core.progress import progress_printer
    from galview.io import open_collection
    from galview.io.score_files import SCORE_FORMATS

    output = output_path(args.output, SCORE_FORMATS, "scores")
    with open_collection(args.data, **open_options(args)) as collection:
        model = model_path(args.model)
        from galview.ml.loading import load_model
        from galview.ml.scoring import score_to_file, with_adapter

        loaded = load_model(model)
        if args.resize or args.bands or args.greyscale:
            bands = args.bands.split(",") if args.bands else None
            loaded = with_adapter(loaded, collection, args.resize, bands, args.greyscale)
            print(f"adapter: {loaded.card.input.adapter}", file=sys.stderr)
        else:
            loaded = adapt_model(loaded, collection, args)
        with progress_printer("score") as progress:
            path = score_to_file(loaded, collection, output, batch_size=args.batch_size, on_progress=progress)
    print(path)
    return 0

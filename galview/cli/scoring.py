"""``galview score``: probabilities, predicted classes and embeddings of every cutout, to a file."""

from __future__ import annotations

import sys

from galview.cli.common import adapt_model, add_adapt_option, add_open_options, open_options
from galview.core.progress import progress_printer


def add_parsers(commands) -> None:
    """Register ``score`` on the main parser's ``commands``."""
    score = commands.add_parser("score", help="score a collection with a model")
    score.add_argument("data")
    score.add_argument("--model", help="model (.keras with its .json card); default: the shipped model")
    score.add_argument("-o", "--output", required=True, help="scores as .csv or .h5 (with embeddings)")
    score.add_argument("--batch-size", type=int, default=1024)
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
    from galview.assets import default_model_path
    from galview.io import open_collection
    from galview.ml.loading import load_model
    from galview.ml.scoring import score_to_file, with_adapter

    loaded = load_model(args.model or default_model_path())
    with open_collection(args.data, **open_options(args)) as collection:
        if args.resize or args.bands or args.greyscale:
            bands = args.bands.split(",") if args.bands else None
            loaded = with_adapter(loaded, collection, args.resize, bands, args.greyscale)
            print(f"adapter: {loaded.card.input.adapter}", file=sys.stderr)
        else:
            loaded = adapt_model(loaded, collection, args)
        path = score_to_file(
            loaded, collection, args.output, batch_size=args.batch_size, on_progress=progress_printer("score")
        )
    print(path)
    return 0

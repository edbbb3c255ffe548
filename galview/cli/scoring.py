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

    check_batch_size(args.batch_size)
    loaded = load_model(args.model or default_model_path())
    with open_collection(args.data, **open_options(args)) as collection:
        if args.resize or args.bands is not None or args.greyscale:
            bands = band_indices(args.bands, collection.bands) if args.bands is not None else None
            loaded = with_adapter(loaded, collection, args.resize, bands, args.greyscale)
            print(f"adapter: {loaded.card.input.adapter}", file=sys.stderr)
        else:
            loaded = adapt_model(loaded, collection, args)
        path = score_to_file(
            loaded, collection, args.output, batch_size=args.batch_size, on_progress=progress_printer("score")
        )
    print(path)
    return 0


def check_batch_size(batch_size: int) -> None:
    """UserFacingError unless ``--batch-size`` is a positive number of cutouts."""
    from galview.core.errors import UserFacingError

    if batch_size < 1:
        raise UserFacingError(
            f"--batch-size {batch_size}", "expected a positive whole number of cutouts per batch"
        )


def band_indices(text: str, bands) -> list[int]:
    """``--bands`` (names or indices, comma-separated) as channel indices of a collection with ``bands``.

    Raises
    ------
    UserFacingError
        Naming the option and the collection's bands, for an empty entry, an unknown name or an index
        out of range.
    """
    from galview.core.errors import UserFacingError

    names = list(bands)
    expected = f"expected band names among {', '.join(names)} or indices 0–{len(names) - 1}, comma-separated"
    indices = []
    for item in (part.strip() for part in text.split(",")):
        if item in names:
            indices.append(names.index(item))
        elif item.isdigit() and int(item) < len(names):
            indices.append(int(item))
        else:
            problem = "an empty entry" if not item else f"no band {item!r}"
            raise UserFacingError(f"--bands {text}", f"the collection has {problem}; {expected}")
    return indices

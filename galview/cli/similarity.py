"""``galview similar``: rank a collection by similarity to cutouts or image files; ``galview train-encoder``."""

from __future__ import annotations

import sys
from pathlib import Path

from galview.cli.common import (
    add_adapt_option,
    add_model_option,
    add_open_options,
    model_path,
    open_options,
    warn_unreadable,
)
from galview.core.errors import UserFacingError

SPACE_NAMES = (
    "pixel",
    "embedding",
    "morphology",
    "self-supervised",
)  # galview.spaces.SPACES, without importing it here
CSV = (".csv",)
#: Rows printed when -k is not given.
PRINTED = 10


def add_parsers(commands) -> None:
    """Register ``similar`` on the main parser's ``commands``."""
    similar = commands.add_parser(
        "similar",
        help="rank cutouts by similarity to a reference",
        description="Rank every cutout by cosine similarity to one or more references (cutouts of the "
        "collection, or image files: FITS, PNG/JPEG, .npy), in a space of pixels, model embeddings or "
        "rotation-invariant morphology. Prints the most similar; -o writes every cutout's row.",
    )
    similar.add_argument("data", help="the cutout collection (file or folder)")
    similar.add_argument(
        "--reference",
        action="append",
        default=[],
        metavar="REF",
        help="a reference: #I for cutout I of the collection, else an image file (repeatable; the same "
        "as --to I or --to-file FILE)",
    )
    similar.add_argument(
        "--to",
        type=int,
        action="append",
        default=[],
        metavar="INDEX",
        help="a cutout of the collection as reference (repeatable)",
    )
    similar.add_argument(
        "--to-file",
        action="append",
        default=[],
        metavar="FILE",
        help="an image file as reference (repeatable): brought to the cutouts' size, bands and values, and "
        "where both have a WCS to their pixel scale, keeping its size on the sky; stderr says each step",
    )
    similar.add_argument(
        "--space",
        choices=SPACE_NAMES,
        default="pixel",
        help="what is compared: greyscale pixels, the model's embeddings, morphology, or a self-supervised "
        "encoder. Default pixel: the best on GalView's real ring benchmark (0.62-0.64 of the 10 nearest "
        "galaxies to a ring are rings, chance 0.5; the other spaces 0.46-0.61, the shipped model's embedding "
        "at chance). To find LSBGs like an LSBG the model's embedding is better (0.69-0.80 of the 10 nearest "
        "on simulations are of the reference's class; pixels 0.42-0.68). BENCHMARKS.md, issue 13",
    )
    add_model_option(similar)
    similar.add_argument(
        "--encoder",
        metavar="ENCODER_DIR",
        help="self-supervised space: the encoder (from galview train-encoder, or one you supply)",
    )
    similar.add_argument(
        "--no-orientations",
        "--no-invariance",
        dest="no_orientations",
        action="store_true",
        help="compare the reference as it is, not in its 8 flips and quarter turns",
    )
    similar.add_argument(
        "--mask-centre",
        type=float,
        metavar="PX",
        help="--to-file references: leave out a centre disc of this radius, in the file's pixels (masked pixels are "
        "left out of pixel comparisons and filled from their neighbours for the other spaces)",
    )
    similar.add_argument(
        "--crop", type=int, metavar="PX", help="pixel space: compare only the central PX×PX pixels"
    )
    similar.add_argument(
        "--normalise",
        choices=("none", "zscore", "asinh"),
        default="none",
        help="pixel space: normalisation after subtracting the sky",
    )
    similar.add_argument(
        "--no-sky", action="store_true", help="pixel space: do not subtract the sky (median of the border)"
    )
    similar.add_argument(
        "--colour",
        action="store_true",
        help="pixel space: compare every band (each with its own sky subtracted), not their grey mean "
        "(as many times the features to keep as there are bands)",
    )
    similar.add_argument(
        "--combine",
        choices=("mean", "max"),
        default="mean",
        help="several references: mean or max of the similarities",
    )
    similar.add_argument(
        "-k",
        "--top",
        type=int,
        metavar="K",
        help="how many of the most similar to print (default 10) and, when given, to write with -o",
    )
    similar.add_argument(
        "-o",
        "--output",
        metavar="OUT.csv",
        help="rank, index, id, similarity and orientation as .csv: of the top K with -k, else of every cutout",
    )
    similar.add_argument(
        "--resize",
        action="store_true",
        help="embedding space: resize cutouts to the model's input size (done anyway, and said, when the "
        "cutouts have another size)",
    )
    similar.add_argument(
        "--no-cache", action="store_true", help="neither reuse nor keep features in GalView's data folder"
    )
    add_adapt_option(similar)
    add_open_options(similar)
    similar.set_defaults(run=cmd_similar)
    _add_encoder_parser(commands)


def _add_encoder_parser(commands) -> None:
    encoder = commands.add_parser(
        "train-encoder",
        help="train a self-supervised encoder on a collection (no labels) for similarity",
        description="Train a small contrastive encoder (SimCLR: flips, rotations, noise and PSF jitter as "
        "augmentations) on the collection's cutouts, without labels, for `galview similar --space "
        "self-supervised --encoder ENCODER_DIR`.",
    )
    encoder.add_argument("data", help="the cutout collection (file or folder)")
    encoder.add_argument("-o", "--output", required=True, metavar="ENCODER_DIR", help="a new folder")
    encoder.add_argument("--epochs", type=int, default=40, help="passes over the cutouts")
    encoder.add_argument("--batch-size", type=int, default=64, help="cutouts per batch")
    encoder.add_argument("--seed", type=int, default=0, help="seed of the weights, order and views")
    add_open_options(encoder)
    encoder.set_defaults(run=cmd_train_encoder)


def cmd_train_encoder(args) -> int:
    """Check the output and numbers, open the collection, train, say where the encoder is."""
    from galview.io import open_collection

    output = Path(args.output)
    if output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise UserFacingError(output, "already exists and is not empty; an encoder needs a new folder")
    if args.epochs < 1 or args.batch_size < 2:
        raise UserFacingError(args.data, "expected --epochs ≥ 1 and --batch-size ≥ 2")
    with open_collection(args.data, **open_options(args)) as collection:
        if len(collection) < 2:  # each batch's other cutouts are the negatives
            from galview.core.words import count

            raise UserFacingError(
                args.data, f"has {count(len(collection), 'cutout')}; training an encoder needs at least 2"
            )
        from galview.core.progress import progress_printer
        from galview.ml.contrastive import train_encoder

        unreadable: dict[int, str] = {}
        with progress_printer("train-encoder") as progress:
            path = train_encoder(
                collection, output, epochs=args.epochs, batch_size=args.batch_size, seed=args.seed,
                on_progress=progress, on_unreadable=unreadable.__setitem__,
            )  # fmt: skip
    warn_unreadable(unreadable, left_out_of="the training")
    print(f"encoder written: {path}")
    return 0


def cmd_similar(args) -> int:
    """Check the output, options, collection and references, then index, compare and print."""
    from galview.core.outputs import output_path
    from galview.io import open_collection

    output = output_path(args.output, CSV, "similarities") if args.output else None
    _check_options(args)
    top = PRINTED if args.top is None else args.top
    with open_collection(args.data, **open_options(args)) as collection:
        references = _references(args, collection)
        for reference in references:
            for step in reference.steps:
                print(f"reference {reference.name}: {step}", file=sys.stderr)
        space = _space(args, collection)
        result = _search(args, collection, space, references)
        print_top(result, collection.ids, top)
        if output is not None:
            from galview.io.similarity_files import write_similarities

            written = write_similarities(output, result, collection.ids, args.top)
            print(f"wrote {written}", file=sys.stderr)
    return 0


def _check_options(args) -> None:
    for text in args.reference:  # "#I" is a cutout of the collection, anything else a file
        if text.startswith("#"):
            try:
                args.to.append(int(text[1:]))
            except ValueError:
                raise UserFacingError(
                    f"--reference {text}", "expected #I (a cutout's index, e.g. #12) or an image file"
                ) from None
        else:
            args.to_file.append(text)
    if not args.to and not args.to_file:
        raise UserFacingError(
            args.data, "no reference given; expected --reference REF, --to INDEX or --to-file FILE"
        )
    if args.top is not None and args.top < 1:
        raise UserFacingError(f"--top {args.top}", "expected a positive number of cutouts to print")
    if args.crop is not None and args.crop < 2:
        raise UserFacingError(f"--crop {args.crop}", "expected a side of at least 2 pixels")
    if args.space == "self-supervised" and not args.encoder:
        raise UserFacingError(
            args.data, "the self-supervised space needs --encoder ENCODER_DIR (galview train-encoder)"
        )
    if args.encoder and not Path(args.encoder).exists():
        raise UserFacingError(args.encoder, "no such encoder file or folder")
    if args.mask_centre is not None and not args.mask_centre >= 0:
        raise UserFacingError(f"--mask-centre {args.mask_centre}", "expected a radius of 0 or more pixels")


def _references(args, collection) -> list:
    """The references, prepared to the collection's cutouts (indices checked, files read)."""
    from galview.core.reference import cutout_reference
    from galview.io.reference_files import reference_for

    n, references = len(collection), []
    for index in args.to:
        if not 0 <= index < n:
            raise UserFacingError(
                args.data, f"has no cutout {index} (--to or --reference #I); expected an index 0..{n - 1}"
            )
        name = f"cutout {index} ({collection.id_of(index)})"
        references.append(cutout_reference(collection.get(index), index, name))
    for path in args.to_file:
        references.append(reference_for(path, collection, args.mask_centre))
    return references


def _space(args, collection):
    from galview.spaces import make_space

    if args.space == "self-supervised":
        return make_space(args.space, encoder=args.encoder)
    if args.space != "embedding":
        return make_space(
            args.space,
            background=not args.no_sky,
            normalisation=args.normalise,
            crop=args.crop,
            colour=args.colour,
        )
    path = model_path(args.model)
    from galview.ml.loading import load_model

    loaded = load_model(path)
    if args.resize:
        from galview.ml.scoring import with_adapter

        loaded = with_adapter(loaded, collection, resize=True)
        print(f"adapter: {loaded.card.input.adapter}", file=sys.stderr)
    else:  # cutouts the model does not take: the plain steps that fit them, said (the window asks)
        from galview.ml.plain_adapter import plain_adapter_offer

        offer = plain_adapter_offer(loaded, collection)
        if offer is not None:
            loaded = offer.apply(loaded, collection)
            print(f"embedding: the cutouts brought to the model's input: {offer.text()}", file=sys.stderr)
    return make_space("embedding", loaded=loaded, collection=collection, adapt=not args.no_adapt)


def _search(args, collection, space, references):
    from galview.core.feature_index import build_index
    from galview.core.progress import progress_printer
    from galview.core.similarity import similarity

    store = None
    if not args.no_cache:
        from galview.io.feature_cache import FeatureCache

        store = FeatureCache.default()
    with progress_printer("similar") as progress:
        index = build_index(collection, space, store, on_progress=progress)
    result = similarity(index, references, orientations=not args.no_orientations, combine=args.combine)
    _warn_not_compared(result, index.unreadable, collection.ids)
    return result


def _warn_not_compared(result, unreadable: dict[int, str], ids) -> None:
    """Say on stderr which cutouts are missing from the ranking, and why where it is known."""
    from galview.core.words import count

    warn_unreadable(unreadable, left_out_of="the ranking")
    others = [int(i) for i in result.not_compared() if int(i) not in unreadable]
    if others:
        more = f" and {len(others) - 1:,} more" if len(others) > 1 else ""
        print(
            f"warning: {count(len(others), 'cutout')} (#{others[0]} {ids[others[0]]}{more}) could not be read "
            "when the features kept for this collection were computed: not ranked (--no-cache computes "
            "them again)",
            file=sys.stderr,
        )


def print_top(result, ids, k: int) -> None:
    """The ``k`` most similar cutouts as an aligned table on stdout."""
    from galview.io.similarity_files import similarity_rows

    rows = similarity_rows(result, ids, result.top(k))
    print(f"most similar to {result.reference_name()} — {result.space}")
    if not rows:
        print("no cutout could be compared")
        return
    columns = list(rows[0])
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in columns}
    print(
        "  ".join(
            c.rjust(widths[c]) if c in ("rank", "index") else c.ljust(widths[c]) for c in columns
        ).rstrip()
    )
    for row in rows:
        cells = [
            str(row[c]).rjust(widths[c]) if c in ("rank", "index") else str(row[c]).ljust(widths[c])
            for c in columns
        ]
        print("  ".join(cells).rstrip())

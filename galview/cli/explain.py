"""``galview explain``: heat maps of what a model looks at, and the explanation sheet.

Registered by :mod:`galview.cli`; Keras is imported only when the command runs.
"""

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
from galview.cli.parsing import whole_number
from galview.core.errors import UserFacingError

EXPLAIN_SUFFIXES = (".npy", ".png")


def add_parsers(commands) -> None:
    """Register ``explain`` on the main parser's ``commands``."""
    explain = commands.add_parser(
        "explain",
        help="heat maps of what a model looks at (Grad-CAM)",
        description="Heat maps of what a model looks at: Grad-CAM, guided Grad-CAM, guided "
        "backpropagation or saliency, as .npy arrays or PNG overlays; or the explanation sheet.",
    )
    explain.add_argument("data", help="the cutout collection (file or folder)")
    add_model_option(explain)
    which = explain.add_mutually_exclusive_group(required=True)
    which.add_argument("--index", type=int, action="append", help="cutout index (repeatable)")
    which.add_argument("--all", action="store_true", help="every cutout")
    which.add_argument(
        "--sheet",
        action="store_true",
        help="explanation sheet (PNG): most confident true/false positives/negatives of a labelled collection",
    )
    explain.add_argument(
        "--per-group", type=whole_number(1), default=4, help="cutouts per group of the sheet"
    )
    explain.add_argument(
        "--class", dest="class_index", type=int, help="class index to explain (default: the predicted one)"
    )
    explain.add_argument(
        "--method",
        choices=["gradcam", "guided", "backprop", "saliency"],
        default="gradcam",
        help="gradcam; guided (guided Grad-CAM); backprop (guided backpropagation); saliency (|gradient|)",
    )
    explain.add_argument(
        "-o", "--output", required=True, help=".npy maps (H, W) or (N, H, W), or .png with overlays"
    )
    add_open_options(explain)
    add_plain_adapter_options(explain)
    add_adapt_option(explain)
    explain.set_defaults(run=cmd_explain)


def cmd_explain(args) -> int:
    """Check the output, the collection, the indices (or the labels) and the model, then load Keras."""
    import numpy as np

    from galview.core.outputs import output_path
    from galview.io import open_collection

    output = output_path(args.output, (".png",) if args.sheet else EXPLAIN_SUFFIXES, "heat maps")
    with open_collection(args.data, **open_options(args)) as collection:
        if args.sheet:
            return _explain_sheet(args, collection, output)
        n = len(collection)
        indices = np.arange(n) if args.all else np.asarray(args.index, dtype=np.int64)
        bad = [int(i) for i in indices if not 0 <= i < n]
        if bad:
            raise UserFacingError(
                args.data, f"index {bad[0]} is out of range; the collection has {n} cutouts (0..{n - 1})"
            )
        check_band_names(args, collection)
        loaded = ready_model(_load(args), collection, args)
        from galview.ml.gradcam import explain

        # cutouts asked for by number must all be read; with --all, one that cannot be read (a damaged
        # image of a folder) gets a NaN map (a .npy) or no row (a .png), and a warning
        cutouts, unreadable = (
            collection.get_batch_skipping(indices) if args.all else (collection.get_batch(indices), {})
        )
        readable = np.setdiff1d(np.arange(len(indices)), list(unreadable))
        if not len(readable):
            raise UserFacingError(args.data, f"no cutout could be read ({unreadable[0]})")
        found = explain(loaded, cutouts[readable], method=args.method, class_index=args.class_index)
        maps = np.full((len(indices), *found.shape[1:]), np.nan, dtype=found.dtype)
        maps[readable] = found
        dtype, bands = collection.dtype, collection.bands
    if output.suffix.lower() == ".npy":
        np.save(output, maps[0] if args.index is not None and len(indices) == 1 else maps)
    else:
        _save_overlays(output, cutouts[readable], maps[readable], dtype, bands)
    which = {int(indices[position]): why for position, why in unreadable.items()}
    warn_unreadable(which, left_out_of="the heat maps")
    print(output)
    return 0


def _load(args):
    """The model of ``--model`` (checked first), loaded: TensorFlow is imported here."""
    path = model_path(args.model)
    from galview.ml.loading import load_model

    return load_model(path)


def _save_overlays(output, cutouts, maps, dtype, bands) -> None:
    """One row per cutout: the cutout as displayed, and the heat map over it (PNG)."""
    import numpy as np
    from PIL import Image

    from galview.core.display import default_settings, render
    from galview.ml.gradcam import overlay

    settings = default_settings(dtype, cutouts.shape[-1])
    rows = []
    for cutout, heat in zip(cutouts, maps, strict=True):
        rgb = render(cutout, settings, bands=bands, dtype=dtype)
        rows.append(np.concatenate([rgb, overlay(rgb, heat)], axis=1))
    sheet = np.concatenate(rows, axis=0)
    scale = max(1, -(-128 // rows[0].shape[0]))  # small cutouts: nearest-neighbour up to >= 128 px
    Image.fromarray(sheet.repeat(scale, axis=0).repeat(scale, axis=1)).save(output)


def _explain_sheet(args, collection, output) -> int:
    from PIL import Image

    from galview.io.label_choice import current_labels

    choice = current_labels(collection)
    if choice.source == "none":
        raise UserFacingError(args.data, "has no labels; the explanation sheet needs labelled cutouts")
    check_band_names(args, collection)
    loaded = _load(args)
    from galview.ml.explain_sheet import explanation_sheet, positive_probabilities

    loaded = ready_model(loaded, collection, args)
    probs, unreadable = positive_probabilities(loaded, collection)
    warn_unreadable(unreadable, left_out_of="the sheet")
    sheet, groups = explanation_sheet(
        loaded, collection, probs, choice.labels, k=args.per_group, method=args.method
    )
    Image.fromarray(sheet).save(output)
    for name, indices in groups.items():
        print(f"{name}: {' '.join(str(int(i)) for i in indices) or '-'}")
    print(output)
    return 0

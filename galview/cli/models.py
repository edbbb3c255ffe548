"""``galview models list | use | delete``: the shipped models and the versions retraining made, headless.

The window's Model ▸ Retrained versions menu, on the command line: ``list`` names every shipped model and
every version in GalView's data folder (newest first, with what the retraining measured and the path to
pass as ``--model``); ``use`` makes one the default of every command and of the window
(:func:`galview.assets.choose_model`); ``delete`` removes a version the way the menu does (GalView deletes
only its own versions, never a shipped model, any other file, or the default). Listing reads the model
cards only: no Keras.
"""

from __future__ import annotations

import json


def add_parsers(commands) -> None:
    """Register ``models`` on the main parser's ``commands``."""
    parser = commands.add_parser(
        "models",
        help="list the shipped models and retrained versions, choose the default, or delete a version",
        description="List the shipped models and the versions that retraining in the window made (GalView's "
        "data folder), newest first, with the cross-validated before/after each version's card records; use "
        "one with --model PATH. 'use' makes one the default from now on; 'delete' removes a version (never a "
        "shipped model, nor the default).",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser(
        "list",
        help="the shipped models and every retrained version",
        description="Name the default model, every shipped model and every retrained version (newest first, "
        "with the cross-validated before/after its card records and the path to pass as --model).",
    )
    listing.add_argument("--json", action="store_true", help="one JSON object instead of lines")
    listing.set_defaults(run=run_list)
    use = actions.add_parser(
        "use",
        help="make a version (or 'shipped') the default model",
        description="Make a retrained version the model every command and the window use without --model, "
        "from now on; 'shipped' goes back to the shipped model. GALVIEW_MODEL, where set, still overrides it.",
    )
    use.add_argument("version", help="a version's name as listed, a path to a model, or 'shipped'")
    use.set_defaults(run=run_use)
    delete = actions.add_parser(
        "delete",
        help="delete a retrained version (its folder)",
        description="Delete a retrained version's folder, as Model ▸ Retrained versions ▸ Delete does; a "
        "shipped model, or any folder outside GalView's versions folder, is refused.",
    )
    delete.add_argument(
        "version", help="the version's name as listed, or the path of its folder or model.keras"
    )
    delete.set_defaults(run=run_delete)


def run_list(args) -> int:
    from galview.assets import default_model_path, shipped_models
    from galview.ml.versions import list_versions, version_title, versions_dir

    default = default_model_path()
    versions = list_versions()[::-1]
    if args.json:
        print(
            json.dumps(
                {
                    "default": str(default),
                    "shipped": [str(path) for path in shipped_models()],
                    "versions_folder": str(versions_dir()),
                    "versions": [
                        {"name": v.name, "path": str(v.path), "created": v.created, "title": version_title(v)}
                        for v in versions
                    ],
                }
            )
        )
        return 0
    print(f"default (used without --model): {default}  ({_why_default()})")
    for path in shipped_models():
        print(f"shipped   {path.stem}  {path}")
    if not versions:
        print(f"no retrained versions yet in {versions_dir()} (the window's Model ▸ Retrain… makes them)")
    for version in versions:
        print(f"version   {version_title(version)}\n          {version.path}")
    return 0


def _why_default() -> str:
    import os

    from galview.assets import chosen_model

    if os.environ.get("GALVIEW_MODEL"):
        return "GALVIEW_MODEL"
    return "chosen with 'galview models use'" if chosen_model() else "the shipped model"


def run_use(args) -> int:
    from galview.assets import choose_model, default_model_path
    from galview.core.errors import UserFacingError
    from galview.ml.loading import model_file
    from galview.ml.versions import version_path

    if args.version == "shipped":
        choose_model(None)
    else:
        given = version_path(args.version)
        path = given if given.is_file() else model_file(args.version)
        if not path.is_file():
            raise UserFacingError(
                args.version, "no such model version or model file; 'galview models list' names them"
            )
        from galview.ml.loading import load_model

        load_model(path)  # a file that is no model (or a damaged one) never becomes every command's default
        choose_model(path)
    print(f"default model: {default_model_path()}")
    return 0


def run_delete(args) -> int:
    from galview.core.errors import UserFacingError
    from galview.ml.versions import delete_version, version_path

    path = version_path(args.version)
    if not path.parent.exists():
        raise UserFacingError(args.version, "no such model version; 'galview models list' names them")
    delete_version(path)
    print(f"deleted {path.parent}")
    return 0

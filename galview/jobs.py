"""Every long job GalView runs, in one list: what it is called, where it lives, what it counts.

A job is a plain function in ``ml``, ``core``, ``sim`` or ``io`` that takes keyword arguments
``on_progress`` and ``cancel`` (see :mod:`galview.core.jobs`). The window's one runner
(:class:`galview.qt.workers.JobRunner`) starts jobs by name from this list, injects both, shows one
progress bar in the job's unit with a Cancel button, and runs one job at a time. The functions are
imported only when a job starts, so importing this module costs nothing.

Heat maps are not in this list: they are computed continuously by the heat-map service (a
separate newest-first thread, :mod:`galview.qt.heatmaps`) and may overlap a job. That is safe:
Grad-CAM runs on its own gradient model and only reads the serving model's weights, and inference
from two threads is supported by each backend (``tests/qt/test_jobs.py`` checks that maps and
scores computed together equal those computed alone).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module


@dataclass(frozen=True)
class JobSpec:
    """One kind of job.

    Attributes
    ----------
    name : str
        Key in :data:`JOBS`.
    title : str
        What the progress bar says while it runs, e.g. ``"Scoring"``.
    target : str
        ``"module:function"`` of the job function.
    unit : str
        What its progress counts (the function may report phases in other units).
    """

    name: str
    title: str
    target: str
    unit: str

    def function(self):
        """The job function (its module is imported now)."""
        module, attribute = self.target.split(":")
        return getattr(import_module(module), attribute)


JOBS: dict[str, JobSpec] = {
    spec.name: spec
    for spec in (
        JobSpec("open", "Opening", "galview.io.opening:open_for_viewing", "steps"),
        JobSpec("load_model", "Loading model", "galview.ml.jobs:open_model", "steps"),
        JobSpec("score", "Scoring", "galview.ml.jobs:score_rows", "cutouts"),
        JobSpec("suspects", "Finding suspected label errors", "galview.ml.jobs:find_suspects", "folds"),
        JobSpec("explanation_sheet", "Explanation sheet", "galview.ml.jobs:render_sheet", "groups"),
        JobSpec("train", "Training", "galview.ml.training:train_model", "batches"),
        JobSpec("finetune", "Retraining", "galview.ml.finetune_process:finetune_in_process", "batches"),
        JobSpec(
            "train_encoder",
            "Training the self-supervised encoder",
            "galview.ml.contrastive:train_encoder",
            "batches",
        ),
        JobSpec("encode", "Embedding cutouts", "galview.ml.contrastive:encode", "cutouts"),
        JobSpec("simulate", "Simulating", "galview.sim.generate:write_simulation", "cutouts"),
        JobSpec("salvage", "Recovering labels", "galview.io.label_salvage:salvage_store", "rows"),
        JobSpec(
            "adapt_batchnorm",
            "Adapting the model to the collection",
            "galview.ml.batchnorm_adapt:adapt_to_collection",
            "cutouts",
        ),
        JobSpec("similarity", "Indexing for similarity", "galview.core.feature_index:build_index", "cutouts"),
        JobSpec(
            "similar", "Ranking by similarity", "galview.core.similarity_job:rank_by_similarity", "cutouts"
        ),
        JobSpec("crossmatch", "Matching a catalogue", "galview.io.catalogues:match_collection", "steps"),
        JobSpec(
            "inspectors",
            "Reading other inspectors' labels",
            "galview.io.other_labels:read_inspectors",
            "files",
        ),
        JobSpec(
            "store_people", "Reading each person's labels", "galview.io.other_labels:store_people", "steps"
        ),
        JobSpec("export_labels", "Exporting labels", "galview.io.label_export:export_labels", "steps"),
        JobSpec("import_labels", "Importing labels", "galview.io.label_export:import_csv", "steps"),
        JobSpec("export_table", "Exporting the grid", "galview.io.writers:write_table", "rows"),
        JobSpec(
            "grid_figure",
            "Saving the grid as an image",
            "galview.io.figure_jobs:write_grid_figure",
            "cutouts",
        ),
        JobSpec(
            "fits_figure",
            "Saving the fits as a figure",
            "galview.io.figure_jobs:write_fits_figure",
            "cutouts",
        ),
        JobSpec(
            "measure", "Fitting Sérsic profiles", "galview.io.photometry_files:measure_and_keep", "cutouts"
        ),
        JobSpec(
            "pair", "Pairing with another collection", "galview.io.paired_collections:open_and_pair", "steps"
        ),
    )
}


def get_job(name: str) -> JobSpec:
    """The job called ``name``; KeyError listing the known jobs otherwise."""
    try:
        return JOBS[name]
    except KeyError:
        raise KeyError(f"unknown job {name!r}; known jobs: {', '.join(JOBS)}") from None

"""The grid out of the window: File ▸ Export the grid as shown… (a CSV table of the cutouts it shows, in
its order) and File ▸ Save the grid as an image… (a figure of them, as they are drawn)."""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QApplication, QFileDialog, QInputDialog

from galview.core.errors import UserFacingError
from galview.core.grid_table import shown_table, table_rows
from galview.core.label_filter import filters_in_words
from galview.core.label_values import class_names_for, label_name
from galview.core.mosaic import MAX_TILES, unreadable_tiles
from galview.core.outputs import output_path
from galview.core.words import count
from galview.io.writers import write_csv

#: Grids of this many rows or more are written by a background job (smaller ones take under 0.1 s).
BACKGROUND_ROWS = 20_000


def ask_export_grid(window) -> None:
    """Ask for a CSV file and write the grid to it (:func:`export_grid`)."""
    if window.state.collection is None or not len(window.state.order):
        window.statusBar().showMessage("The grid shows no cutout: nothing to export")
        return
    path, _ = QFileDialog.getSaveFileName(window, "Export the grid as shown", "cutouts.csv", "CSV (*.csv)")
    if path:
        export_grid(window, path)


def export_grid(window, path) -> bool:
    """Write the cutouts the grid shows, in its order (:func:`galview.core.grid_table.shown_table`).

    The table is taken as the grid shows it now; from :data:`BACKGROUND_ROWS` rows on it is written
    by a job (a million rows take seconds: BENCHMARKS.md), so the window stays usable, unless another
    job runs. Says in the status bar what was written, or in a message box why nothing was.
    """
    state = window.state
    kept = filters_in_words(state.sorting, class_names_for(state.collection, state.labels))
    what = f"{state.sort_title()}; only those {kept}" if kept else state.sort_title()
    done = f"{count(len(state.order), 'cutout')} written to {path} ({what})"
    table: dict = {}

    def take() -> None:
        table["path"] = output_path(path, (".csv",), "the grid's table")
        table["cells"] = shown_table(state, window.labelling.classes)

    if not written_or_said(window, path, take):
        return False
    if len(state.order) >= BACKGROUND_ROWS and not window.runner.busy:
        window.runner.start(
            "export_table", table["path"], table["cells"],
            on_returned=lambda _path: window.statusBar().showMessage(done),
            on_errored=lambda exc: window.show_error(f"{path}: the grid's table was not written ({exc})"),
        )  # fmt: skip
        window.statusBar().showMessage(
            f"Writing {count(len(state.order), 'cutout')} to {path} in the background…"
        )
        return True
    cells = table["cells"]
    if not written_or_said(window, path, lambda: write_csv(table["path"], list(cells), table_rows(cells))):
        return False
    window.statusBar().showMessage(done)
    return True


def ask_save_figure(window) -> None:
    """Ask how many cutouts (unless several are selected) and where, then :func:`save_figure`."""
    state = window.state
    if state.collection is None or not len(state.order):
        window.statusBar().showMessage("The grid shows no cutout: no figure to save")
        return
    chosen = figure_cutouts(state, 0)
    if len(state.selection) <= 1:
        k, ok = QInputDialog.getInt(
            window,
            "Save the grid as an image",
            "How many cutouts, from the top of the grid? (Select several first to choose them.)",
            min(len(state.order), 48),
            1,
            min(len(state.order), MAX_TILES),
        )
        if not ok:
            return
        chosen = figure_cutouts(state, k)
    path, _ = QFileDialog.getSaveFileName(window, "Save the grid as an image", "cutouts.png", "PNG (*.png)")
    if path:
        save_figure(window, path, chosen)


def figure_cutouts(state, k: int) -> list[int]:
    """The cutouts of a figure: the selection when several are selected, else the first ``k`` shown."""
    if len(state.selection) > 1:
        return [int(i) for i in state.selection[:MAX_TILES]]
    return [int(i) for i in state.order[: max(0, min(int(k), MAX_TILES))]]


def save_figure(window, path, cutouts, columns: int | None = None) -> bool:
    """Write a PNG of ``cutouts`` drawn with the window's display settings, as many per row as the
    grid shows (or ``columns``), each captioned with its id, label and probability (none of those two
    during a blind re-check).

    Drawn and written by a job (:func:`galview.io.figure_jobs.write_grid_figure`: 400 cutouts take
    seconds), or, while another job runs, here under a wait cursor. Returns False when refused at once
    (a name that is not ``.png``); the status bar says when it is saved, a message box why it was not.
    """
    state = window.state
    try:
        checked = output_path(path, (".png",), "the figure")
    except UserFacingError as exc:
        window.show_error(str(exc))
        return False
    shown = window.counterparts
    if shown.other is not None:
        cutouts = list(cutouts)[: MAX_TILES // 2]  # each takes two tiles, with its counterpart
    cutouts = [int(i) for i in cutouts]
    names, probs, prob_name = ["" for _ in cutouts], None, "p"
    if not state.blind:
        classes = class_names_for(state.collection, state.labels)
        names = [label_name(state.labels[i], classes) for i in cutouts]
        if state.scores is not None:
            probs, prob_name = state.scores.positive_prob()[cutouts], f"P({state.scores.positive_name})"
    ids = [state.collection.id_of(i) for i in cutouts]
    beside = (shown.other, shown.pairing, shown.name) if shown.other is not None else None
    refused = []

    def saved(unreadable: dict) -> None:
        note = "; " + unreadable_tiles(unreadable, cutouts, "it") if unreadable else ""
        window.statusBar().showMessage(f"A figure of {count(len(cutouts), 'cutout')} saved to {path}{note}")

    def failed(exc) -> None:
        refused.append(exc)
        window.show_error(why_not_saved(path, exc, "the figure"))

    how = window.runner.start_or_run_here(
        "grid_figure", checked, state.collection, cutouts, state.display, ids, names, probs, prob_name,
        columns or window.grid.grid_model.columns, beside, on_returned=saved, on_errored=failed,
    )  # fmt: skip
    if how == "started":
        window.statusBar().showMessage(f"Drawing {count(len(cutouts), 'cutout')} for {path}…")
    return not refused


def why_not_saved(path, exc, what: str) -> str:
    """The message box's text for a figure a job could not write."""
    if isinstance(exc, UserFacingError):
        return str(exc)
    if isinstance(exc, OSError):
        return f"{path}: cannot be written ({exc.strerror or exc})"
    return f"{path}: {what} was not saved ({exc})"


def written_or_said(window, path, write) -> bool:
    """Run ``write()`` under a busy cursor (a table of up to :data:`BACKGROUND_ROWS` rows: under 0.1 s); on
    failure say why in a message box naming ``path`` and return False."""
    QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        write()
    except UserFacingError as exc:
        problem = str(exc)
    except OSError as exc:
        problem = f"{path}: cannot be written ({exc.strerror or exc})"
    else:
        problem = None
    finally:
        QApplication.restoreOverrideCursor()
    if problem:
        window.show_error(problem)
    return problem is None

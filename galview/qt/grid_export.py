"""File ▸ Export the grid as shown…: the cutouts the grid shows, in its order, as a CSV table."""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QApplication, QFileDialog

from galview.core.errors import UserFacingError
from galview.core.grid_table import shown_table, table_rows
from galview.core.label_filter import filters_in_words
from galview.core.label_values import class_names_for
from galview.core.outputs import output_path
from galview.core.words import count
from galview.io.writers import write_csv


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

    Says in the status bar what was written, or in a message box why nothing was.
    """
    state = window.state
    QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)  # a million rows take seconds (BENCHMARKS.md)
    try:
        path = output_path(path, (".csv",), "the grid's table")
        table = shown_table(state, window.labelling.classes)
        write_csv(path, list(table), table_rows(table))
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
        return False
    kept = filters_in_words(state.sorting, class_names_for(state.collection, state.labels))
    what = f"{state.sort_title()}; only those {kept}" if kept else state.sort_title()
    window.statusBar().showMessage(f"{count(len(state.order), 'cutout')} written to {path} ({what})")
    return True

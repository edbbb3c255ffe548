"""Similarity rankings in the window (issue 13): the Similarity menu, the grid's context menu, the job.

"Rank by similarity to this" (S, or right-click a cutout) compares every cutout with the current
one — or with all the selected ones, their similarities averaged — in the chosen space, in the
background on the window's one job runner; the grid then sorts by the new ``similar`` ranking and
each thumbnail shows its similarity. "… to a file" (Shift+S) takes a FITS, PNG/JPEG or .npy image,
brought to the collection's cutouts (the steps are shown), with an optional masked centre. The
features are kept on disk per collection and space (:class:`galview.io.feature_cache.FeatureCache`),
so the next search in the same space only compares; the ``embedding`` space reuses the embeddings
the scoring job kept for the active model. The metadata panel shows the current cutout's similarity
and the orientation of the reference that matched it; the reference itself stays pinned beside the
cutout, turned that way (Similarity ▸ Show the reference beside the cutout).
"""

from __future__ import annotations

import logging

import numpy as np
from PyQt6.QtCore import QObject, Qt
from PyQt6.QtGui import QAction, QActionGroup
from PyQt6.QtWidgets import QFileDialog, QInputDialog, QMenu

from galview.core.display import render
from galview.core.errors import UserFacingError
from galview.core.orientations import orient, orientation_name
from galview.core.words import count, unreadable_cutouts
from galview.qt.controller import WindowController

logger = logging.getLogger(__name__)

JOB = "similar"
#: The spaces the menu offers, in order: (name, menu text). ``embedding`` needs an active model.
SPACE_CHOICES = (
    ("pixel", "&Pixels (the thesis method: greyscale, cosine)"),
    ("morphology", "&Morphology (rotation-invariant profiles and shapes)"),
    ("embedding", "Model &embedding (the active model's penultimate layer)"),
    ("self-supervised", "Self-&supervised encoder (trained on this collection, no labels)"),
)
ENCODER_JOB = "train_encoder"
ENCODER_EPOCHS = 40
#: With several references: each cutout's similarity is their mean, or the best of them (menu texts).
COMBINE_CHOICES = {
    "mean": "Several references: their &mean similarity",
    "max": "Several references: the &best of them (like any one)",
}
REFERENCE_FILTER = "Images (*.fits *.fit *.fits.gz *.fz *.png *.jpg *.jpeg *.npy);;All files (*)"


class SimilarityController(WindowController):
    """Runs similarity searches for the window and shows their ranking."""

    def __init__(self, window, parent: QObject | None = None):
        super().__init__(window, parent)
        self.space_name = str(window.settings.value("similarity/space", "pixel"))
        if self.space_name not in dict(SPACE_CHOICES):
            self.space_name = "pixel"
        self.orientations = window.settings.value("similarity/orientations", True, type=bool)
        self.result = None  # the last SimilarityResult
        self._store = None
        self._after_job = None  # what to start when the running job has finished
        self.runner.finished.connect(self._on_job_finished)
        self.show_reference = window.settings.value("similarity/show_reference", True, type=bool)
        self.pixel_options = _saved_pixel_options(window.settings)
        self.combine = str(window.settings.value("similarity/combine", "mean"))
        if self.combine not in COMBINE_CHOICES:
            self.combine = "mean"
        self.state.current_changed.connect(lambda _i: self.show_current())
        self.state.rankings_changed.connect(lambda _name: self.show_current())
        self.state.display_changed.connect(lambda _s: self.show_reference_beside())

    # -- menus ------------------------------------------------------------------------------------
    def build_menu(self, menu: QMenu) -> None:
        """Fill the Similarity menu."""
        self.this_action = _add(menu, "Rank by similarity to &this cutout", self.rank_like_current, "S")
        self.file_action = _add(menu, "Rank by similarity to a &file…", self.ask_file, "Shift+S")
        menu.addSeparator()
        self.space_group = _choice_group(menu, SPACE_CHOICES, self.space_name, self.set_space)
        self.pixel_options_action = _add(menu, "Pi&xel space options…", self.ask_pixel_options)
        self.orientation_action = _add(menu, "Try the reference's 8 &orientations", self.set_orientations)
        self.orientation_action.setCheckable(True)
        self.orientation_action.setChecked(self.orientations)
        self.combine_group = _choice_group(menu, COMBINE_CHOICES.items(), self.combine, self.set_combine)
        self.reference_action = _add(menu, "Show the &reference beside the cutout", self.set_show_reference)
        self.reference_action.setCheckable(True)
        self.reference_action.setChecked(self.show_reference)
        self.encoder_action = _add(
            menu, "Train a self-supervised &encoder on this collection…", self.ask_encoder
        )
        menu.addSeparator()
        _add(menu, "Select the &top of the ranking…", self.window.label_menu.ask_select_top)
        _add(menu, "Select by &similarity…", self.window.label_menu.ask_select_value)
        _add(menu, "Send the selection to the review &queue", lambda: self.window.review.send())

    def context_menu(self, grid) -> None:
        """Right-click on the grid: rank by this cutout (or the selection), open it in the viewer."""
        grid.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        grid.customContextMenuRequested.connect(lambda pos: self._show_context_menu(grid, pos))

    def _show_context_menu(self, grid, pos) -> None:
        cutout = grid.grid_model.cutout_at(grid.indexAt(pos))
        if cutout < 0:
            return
        if cutout not in self.state.selection:
            self.state.set_current(cutout)
        menu = QMenu(grid)
        n = max(len(self.state.selection), 1)
        text = "Rank by similarity to this" if n == 1 else f"Rank by similarity to these {n}"
        menu.addAction(text, self.rank_like_current)
        menu.addAction("Select the top of the ranking…", self.window.label_menu.ask_select_top)
        menu.addAction("Select by the ranking's value…", self.window.label_menu.ask_select_value)
        menu.addAction("Send to the review queue", lambda: self.window.review.send())
        menu.addAction("Open in Legacy Survey viewer", self.window.open_in_legacy_viewer)
        menu.popup(grid.viewport().mapToGlobal(pos))

    def set_space(self, name: str) -> None:
        """Compare in space ``name`` from the next search on (remembered in the settings)."""
        self.space_name = name
        self.window.settings.setValue("similarity/space", name)

    def set_orientations(self, on: bool) -> None:
        """Try the 8 flips/quarter turns of references (pixel and embedding spaces)."""
        self.orientations = bool(on)
        self.window.settings.setValue("similarity/orientations", bool(on))

    def ask_pixel_options(self) -> None:
        """Ask for the pixel space's sky subtraction, normalisation and crop."""
        from galview.qt.pixel_options import PixelOptionsDialog

        collection = self.state.collection
        side = min(collection.shape[:2]) if collection is not None else 4096
        dialog = PixelOptionsDialog(self.pixel_options, side, self.window)
        if dialog.exec() == PixelOptionsDialog.DialogCode.Accepted:
            self.set_pixel_options(dialog.options())

    def set_pixel_options(self, options) -> None:
        """Use ``options`` (:class:`~galview.qt.pixel_options.PixelOptions`) from the next pixel search on."""
        self.pixel_options = options
        settings = self.window.settings
        settings.setValue("similarity/pixel_sky", options.background)
        settings.setValue("similarity/pixel_normalisation", options.normalisation)
        settings.setValue("similarity/pixel_crop", options.crop or 0)
        settings.setValue("similarity/pixel_colour", options.colour)

    def set_combine(self, name: str) -> None:
        """How several references' similarities become one: ``"mean"`` or ``"max"`` (remembered)."""
        if name not in COMBINE_CHOICES:
            raise ValueError(f"combine {name!r}; expected one of {', '.join(COMBINE_CHOICES)}")
        self.combine = name
        self.window.settings.setValue("similarity/combine", name)

    def set_show_reference(self, on: bool) -> None:
        """Pin the reference beside the cutout while a similarity ranking is open (remembered)."""
        self.show_reference = bool(on)
        self.window.settings.setValue("similarity/show_reference", bool(on))
        self.show_reference_beside()

    # -- searching --------------------------------------------------------------------------------
    def rank_like_current(self) -> bool:
        """Rank by similarity to the selected cutouts, or the current one (read by the job); False if it
        cannot start."""
        state = self.state
        chosen = [int(i) for i in state.selection] if len(state.selection) > 1 else [state.current]
        if state.collection is None or chosen[0] < 0:
            self.message.emit("Choose a cutout to compare with")
            return False
        return self.rank_like(chosen)

    def ask_file(self) -> None:
        """Ask for a reference image and a centre mask, then rank by similarity to it."""
        path, _ = QFileDialog.getOpenFileName(self.window, "Reference image", "", REFERENCE_FILTER)
        if not path:
            return
        radius, ok = QInputDialog.getDouble(
            self.window, "Centre mask", "Leave out a centre disc of radius (reference pixels; 0: none)",
            0.0, 0.0, 10000.0, 1,
        )  # fmt: skip
        if ok:
            self.rank_like_file(path, mask_centre=radius or None)

    def rank_like_file(self, path, mask_centre: float | None = None) -> bool:
        """Rank by similarity to the image in ``path``, brought to the collection's cutouts."""
        from galview.io.reference_files import reference_for

        collection = self.state.collection
        if collection is None:
            self.message.emit("Open a collection first")
            return False
        try:
            reference = reference_for(path, collection, mask_centre)
        except (UserFacingError, ValueError) as exc:
            self.error.emit(str(exc))
            return False
        if reference.steps:
            self.message.emit(f"Reference {reference.name}: " + "; ".join(reference.steps))
        return self.rank_like([reference])

    def rank_like(self, references) -> bool:
        """Start the search for ``references`` (PreparedReference, or the index of a cutout of the open
        collection) in the chosen space."""
        if self.runner.busy:
            self.message.emit(self.runner.busy_message())
            return False
        try:
            space, features = self._space()
        except (UserFacingError, ValueError) as exc:
            self.error.emit(str(exc))
            return False
        store = None if features is not None else self._feature_store()
        collection = self.state.collection
        self.runner.start(
            JOB, collection, space, references, store, self.orientations, self.combine, features,
            on_returned=lambda result: self._on_ranked(result, collection),
            on_errored=lambda exc: self.error.emit(f"Similarity search failed: {exc}"),
        )  # fmt: skip
        return True

    def _space(self):
        """The chosen space and, for ``embedding``, the kept embeddings (or None): the job makes them
        its index (a million cutouts' are gigabytes, so not here in the GUI thread)."""
        from galview.spaces import make_space

        name, state = self.space_name, self.state
        if name == "self-supervised":
            encoder = self.encoder_path()
            if encoder is None:
                raise ValueError(
                    "No self-supervised encoder for this collection yet: Similarity ▸ Train a self-supervised "
                    "encoder on this collection…"
                )
            return make_space(name, encoder=encoder), None
        if name == "pixel":
            return make_space(name, **self.pixel_options.space_options()), None
        if name != "embedding":
            return make_space(name), None
        if state.model is None:
            raise ValueError("The embedding space needs a model: choose one in the Model menu")
        space = make_space(name, loaded=state.model, collection=state.collection)
        scores = state.scores
        kept = scores is not None and scores.embeddings is not None and scores.complete
        if kept and scores.model_version == state.model.version:
            return space, scores.embeddings
        return space, None

    def _feature_store(self):
        if self._store is None:
            from galview.io.feature_cache import FeatureCache

            self._store = FeatureCache.default()
        return self._store

    def _on_ranked(self, result, collection) -> None:
        if collection is not self.state.collection:
            return  # another collection was opened while it ran (of the same size, perhaps)
        self.result = result
        ranking = result.ranking()
        self.state.set_ranking(ranking)
        self.state.set_sorting(sort=ranking.name)
        own = {r.index for r in result.references if r.index is not None}
        others = [i for i in result.top(len(own) + 1) if i not in own]
        which = "other cutout" if own else "cutout"  # a file reference is none of the cutouts
        best = f"; the most similar {which}: {result.scores[others[0]]:.3f} (#{others[0]})" if others else ""
        self.message.emit(f"Sorted by similarity: {describe(result)}{best}")

    # -- the self-supervised encoder ---------------------------------------------------------------
    def encoder_path(self):
        """The encoder trained on the open collection (remembered per collection), or None."""
        from pathlib import Path

        if self.state.collection is None:
            return None
        value = self.window.settings.value(f"similarity/encoder/{self.state.fingerprint}", "")
        return Path(value) if value and Path(value).exists() else None

    def ask_encoder(self) -> None:
        """Ask how many epochs, then train an encoder on the open collection in the background."""
        epochs, ok = QInputDialog.getInt(
            self.window, "Self-supervised encoder", "Passes over the collection (epochs):",
            ENCODER_EPOCHS, 1, 1000,
        )  # fmt: skip
        if ok:
            self.train_encoder(epochs)

    def train_encoder(self, epochs: int = ENCODER_EPOCHS, batch_size: int = 64) -> bool:
        """Train a contrastive encoder on the collection's cutouts (no labels); then search with it."""
        from datetime import UTC, datetime

        from galview.core.paths import data_dir

        state = self.state
        if state.collection is None:
            self.message.emit("Open a collection first")
            return False
        if state.n < 2:  # each batch's other cutouts are the negatives
            self.message.emit("Training an encoder needs at least 2 cutouts")
            return False
        if self.runner.busy:
            self.message.emit(self.runner.busy_message())
            return False
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
        folder = data_dir() / "encoders" / f"{state.collection.source.stem[:40]}-{stamp}"
        fingerprint = state.fingerprint
        unreadable: dict[int, str] = {}  # filled by the job's thread, read once it has returned
        self.runner.start(
            ENCODER_JOB, state.collection, folder, epochs=epochs, batch_size=min(batch_size, max(2, state.n)),
            on_unreadable=unreadable.__setitem__,
            on_returned=lambda path: self._on_encoder(fingerprint, path, unreadable),
            on_errored=lambda exc: self.error.emit(f"Training the encoder failed; nothing was written. {exc}"),
        )  # fmt: skip
        return True

    def _on_encoder(self, fingerprint: str, path, unreadable: dict[int, str] | None = None) -> None:
        self.window.settings.setValue(f"similarity/encoder/{fingerprint}", str(path))
        if unreadable:  # left out of the training: say which, as the CLI does
            self.error.emit(unreadable_cutouts(unreadable, left_out_of="the training"))
        self.message.emit(f"Self-supervised encoder ready: {path.parent.name}")
        if fingerprint != self.state.fingerprint:
            return
        self.set_space("self-supervised")
        for action in self.space_group.actions():
            action.setChecked(action.data() == "self-supervised")
        if self.result is not None:  # rebuild the last ranking in the new space once the runner is free
            references = list(self.result.references)
            self._after_job = lambda: self.rank_like(references)

    def _on_job_finished(self, _name: str, _outcome: str) -> None:
        step, self._after_job = self._after_job, None
        if step is not None and not self.runner.busy:
            step()

    # -- the current cutout -----------------------------------------------------------------------
    def show_current(self) -> None:
        """The current cutout's similarity (and matched orientation) in the metadata panel."""
        self.show_reference_beside()
        ranking, index = self.state.ranking("similar"), self.state.current
        if ranking is None or not 0 <= index < len(ranking):
            self.window.metadata.show_similarity("—")
            return
        value = ranking.value_of(index)
        if not np.isfinite(value):
            self.window.metadata.show_similarity("not compared")
            return
        orientation = ranking.orientation_of(index)
        matched = f", matched {orientation}" if orientation else ""
        self.window.metadata.show_similarity(f"{value:.3f} to {ranking.reference_name}{matched}")

    def show_reference_beside(self) -> None:
        """Pin the reference beside the cutout, turned as it matched the current cutout; or hide it."""
        panel = self.window.detail.reference
        shown = self._reference_view()
        if shown is None:
            panel.hide()
            panel.clear()
            return
        image, caption, steps = shown
        collection = self.state.collection
        try:
            rgb = render(image, self.state.display, collection.bands, collection.dtype)
        except ValueError as exc:  # a display setting the reference cannot take: say so, keep going
            logger.warning("the reference could not be drawn: %s", exc)
            panel.hide()
            return
        panel.show_reference(rgb, image.shape[:2], caption, steps)
        panel.show()

    def _reference_view(self):
        """(image, caption, steps) of the reference as it matched the current cutout, or None: nothing to show."""
        result, ranking, collection = self.result, self.state.ranking("similar"), self.state.collection
        if not self.show_reference or result is None or ranking is None or collection is None:
            return None
        if len(result.scores) != self.state.n:
            return None  # a result of another collection
        index = self.state.current
        which, code = 0, 0
        if 0 <= index < len(result.scores):
            which = int(result.best_reference[index])
            if result.orientation is not None and result.orientation[index] >= 0:
                code = int(result.orientation[index])
        reference = result.references[which]
        image = orient(reference.image, code)
        if image.shape[:2] != tuple(collection.shape[:2]):
            image, code = reference.image, 0  # a turn that does not fit a non-square cutout
        caption = f"Reference: {reference.name}"
        if len(result.references) > 1:
            caption += f" (the closest of {len(result.references)})"
        if code:
            caption += f" · {orientation_name(code)}, as it matched this cutout"
        return image, caption, reference.steps


def _saved_pixel_options(settings):
    """The pixel space's options as last chosen (defaults where none or unreadable)."""
    from galview.qt.pixel_options import PixelOptions

    try:
        crop = int(settings.value("similarity/pixel_crop", 0))
        return PixelOptions(
            settings.value("similarity/pixel_sky", True, type=bool),
            str(settings.value("similarity/pixel_normalisation", "none")),
            crop if crop > 0 else None,
            settings.value("similarity/pixel_colour", False, type=bool),
        )
    except (TypeError, ValueError):
        return PixelOptions()


def _choice_group(menu: QMenu, choices, current: str, choose) -> QActionGroup:
    """Checkable actions for ``(name, text)`` ``choices``, one checked (``current``); ``choose(name)`` on a pick."""
    group = QActionGroup(menu)
    for name, text in choices:
        action = _add(menu, text, lambda _c=False, n=name: choose(n))
        action.setCheckable(True)
        action.setChecked(name == current)
        action.setData(name)
        group.addAction(action)
    return group


def _add(menu: QMenu, text: str, slot, shortcut: str | None = None) -> QAction:
    action = QAction(text, menu)
    if shortcut:
        action.setShortcut(shortcut)
    action.triggered.connect(slot)
    menu.addAction(action)
    return action


def describe(result) -> str:
    """One line: "12 cutouts compared with cutout 3 in greyscale pixels", and which were not
    ("; 1 could not be read and is not ranked (#5)")."""
    compared = int(np.isfinite(result.scores).sum())
    line = f"{count(compared, 'cutout')} compared with {result.reference_name()} in {result.space}"
    missing = result.not_compared()
    if len(missing):
        more = f" and {len(missing) - 1:,} more" if len(missing) > 1 else ""
        verb = "is" if len(missing) == 1 else "are"
        line += f"; {len(missing):,} could not be read and {verb} not ranked (#{missing[0]}{more})"
    return line

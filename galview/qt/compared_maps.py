"""Explain ▸ the compared model's heat maps, while two models are compared (issue 12).

Two checkable actions: *Map of the compared model* (B) flips the heat-map pane between the active
model and the one it is compared with; *Both models' maps side by side* (Shift+B) shows the two at
once, in two panes (A, the active model; B, the other). Only one of the two can be on. Both turn off,
back to the active model's map in one pane, when the comparison ends or the active model changes.
"""

from __future__ import annotations

from galview.core.model_names import model_name


class ComparedMapsActions:
    """Adds the two actions to ``menu`` and keeps them in step with ``window.retraining``."""

    def __init__(self, window, menu):
        self.window = window
        self.flip = window._action(menu, "Map of the &compared model", self._show_flipped, "B", True)
        self.flip.setToolTip(
            "While two models are compared (Model ▸ Retrained versions): flip between their maps (B)"
        )
        self.both = window._action(menu, "Both models' maps side &by side", self._show_both, "Shift+B", True)
        self.both.setToolTip(
            "While two models are compared (Model ▸ Retrained versions): the active model's map (A) and the"
            " compared model's (B) side by side"
        )
        for action in (self.flip, self.both):
            action.setEnabled(False)
        window.retraining.comparison_changed.connect(self.follow)
        window.state.model_changed.connect(lambda _model: self.follow())

    def _other(self):
        return self.window.retraining.other_model()

    def _show_flipped(self, on: bool) -> None:
        """Heat maps of the model the active one is compared with (on), or of the active model (off)."""
        other = self._other() if on else None
        if other is not None and self.both.isChecked():
            self.both.trigger()  # one pane flipping between the two, or two panes: not both
        self.window.explaining.use_model(other)
        if other is not None:
            self._say(f"Heat maps of {model_name(other)} (B: back to the active model's)")
        elif on:  # nothing is compared now: the action cannot stay on
            self.flip.setChecked(False)

    def _show_both(self, on: bool) -> None:
        """The compared model's maps in a second pane beside the active model's (on), or one pane (off)."""
        other = self._other() if on else None
        state = self.window.state
        if other is not None:
            if self.flip.isChecked():
                self.flip.trigger()
            if not state.explain.beside:
                state.update_explain(beside=True)
            self._say(f"Heat maps of {model_name(state.model)} (A) and {model_name(other)} (B)")
        elif on:
            self.both.setChecked(False)
        self.window.explaining.show_beside(other)

    def follow(self) -> None:
        """Enabled while a loaded model is compared with the active one; off, with the active model's
        map in one pane, whenever the active model changes or the comparison ends."""
        other, explaining = self._other(), self.window.explaining
        for action, shown, hide in (
            (self.flip, explaining.override, explaining.use_model),
            (self.both, explaining.second_model, explaining.show_beside),
        ):
            if shown is not None and (other is None or shown.version != other.version):
                action.setChecked(False)
                hide(None)
            action.setEnabled(other is not None)

    def _say(self, text: str) -> None:
        self.window.statusBar().showMessage(text)

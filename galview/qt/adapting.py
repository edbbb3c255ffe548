"""Model ▸ Adapt the cutouts to the model…: accept a plain adapter in the window (resize, bands).

Asked for from the menu, or offered when scoring is refused because the cutouts have another size
or other bands than the model's input. The steps come from
:func:`galview.ml.plain_adapter.plain_adapter_offer`; "Adapt and score" makes a copy of the active
model that carries them (its own version: its scores and heat maps are kept apart) and scores
with it. Nothing is adapted without the user's yes, and the refusal is shown when there is nothing
plain to offer.
"""

from __future__ import annotations

from PyQt6.QtCore import QObject, Qt, pyqtSignal
from PyQt6.QtWidgets import QMessageBox

from galview.core.model_names import model_name
from galview.ml.errors import CHOOSE_ADAPTER, ModelError

TITLE = "GalView — adapt the cutouts to the model"


class AdapterOffers(QObject):
    """Asks whether to adapt the collection's cutouts to the active model, and does it on yes.

    Signals
    -------
    message(str)
        A status-bar message.
    error(str)
        Something the user must be told.
    """

    message = pyqtSignal(str)
    error = pyqtSignal(str)

    def __init__(self, state, parent_widget):
        super().__init__(parent_widget)
        self.state = state
        self.parent_widget = parent_widget
        self.box: QMessageBox | None = None  # the open question, if any
        self._asked_for: tuple | None = None  # the (model, collection) it is about

    def offer(self, refusal: str | None = None) -> bool:
        """Ask about the plain adapter for the active model and collection; False if none is offered.

        ``refusal`` is the message that prompted the offer (shown above the question, or as an
        error when there is nothing to offer); None when the user asked from the menu.
        """
        from galview.ml.plain_adapter import plain_adapter_offer

        model, collection = self.state.model, self.state.collection
        if self.box is not None:
            if self._about(model, collection):  # already asking (Score pressed again meanwhile)
                return True
            self.box.done(0)  # a question about another model or collection: gone stale
        if model is None or collection is None:
            self.message.emit("Open a collection and choose a model first")
            return False
        offer = plain_adapter_offer(model, collection)
        if offer is None:
            if refusal:
                self.error.emit(refusal)
            else:
                self.message.emit(self._why_nothing(model, collection))
            return False
        if refusal:  # its command-line options are no use here: the question lists the steps
            refusal = refusal.split(f" — {CHOOSE_ADAPTER}")[0]
        question = (f"{refusal}\n\n" if refusal else "") + (
            f"Score these cutouts with {model_name(model)} after these steps?\n\n{offer.text()}"
        )
        box = QMessageBox(QMessageBox.Icon.Question, TITLE, question, parent=self.parent_widget)
        adapt = box.addButton("Adapt and score", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Not now", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(adapt)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(
            lambda _result: self._answered(box.clickedButton() is adapt, offer, model, collection)
        )
        self.box, self._asked_for = box, (model, collection)
        box.open()
        return True

    def answer(self, yes: bool) -> None:
        """Answer the open question as the user would, with one of its two buttons."""
        if self.box is not None:
            role = QMessageBox.ButtonRole.AcceptRole if yes else QMessageBox.ButtonRole.RejectRole
            next(b for b in self.box.buttons() if self.box.buttonRole(b) == role).click()

    def _answered(self, yes: bool, offer, model, collection) -> None:
        if self._about(model, collection):
            self.box, self._asked_for = None, None
        if not yes:
            self.message.emit("Not adapted: the model does not take these cutouts as they are")
            return
        if self.state.model is not model or self.state.collection is not collection:
            self.message.emit("Not adapted: the model or the collection changed meanwhile")
            return
        try:
            adapted = offer.apply(model, collection)
        except ModelError as exc:
            self.error.emit(str(exc))
            return
        self.message.emit(f"{model_name(adapted)}: {offer.text()}")
        self.state.set_model(adapted)  # scored automatically, like any model made active

    def _about(self, model, collection) -> bool:
        """Whether the open question is about this model and collection (the same objects)."""
        asked = self._asked_for
        return asked is not None and asked[0] is model and asked[1] is collection

    @staticmethod
    def _why_nothing(model, collection) -> str:
        from galview.ml.adapt import adapt_for

        try:
            _, note = adapt_for(model, collection)
        except ModelError as exc:
            return f"No plain adapter fits: {exc}"
        if note:
            return f"The physical adapter already brings these cutouts to the model: {note}"
        if model.card.input.adapter:
            return "The model already takes these cutouts through its adapter"
        return "The cutouts fit the model as they are"

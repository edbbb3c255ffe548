"""Evented viewer state shared by every widget: collection, current cutout, display settings.

Widgets read it, change it through its setters and listen to its signals; no widget
holds state of its own that another needs (the napari/glue pattern).
"""

from __future__ import annotations

from psygnal import Signal

from galview.core.collection import Collection
from galview.core.display import DisplaySettings, default_settings


class ViewerState:
    """What the window shows.

    Signals
    -------
    collection_changed(Collection or None)
    current_changed(int)
        Index of the cutout in the detail view (-1 when there is none).
    display_changed(DisplaySettings)
    """

    collection_changed = Signal(object)
    current_changed = Signal(int)
    display_changed = Signal(object)

    def __init__(self) -> None:
        self.collection: Collection | None = None
        self.current: int = -1
        self.display = DisplaySettings()

    def set_collection(self, collection: Collection | None) -> None:
        """Show a new collection (the previous one is closed) with display defaults for its data."""
        old = self.collection
        self.collection = collection
        if collection is not None:
            self.display = default_settings(collection.dtype, collection.shape[2])
        self.current = 0 if collection is not None else -1
        if old is not None and old is not collection:
            old.close()
        self.collection_changed.emit(collection)
        self.display_changed.emit(self.display)
        self.current_changed.emit(self.current)

    def set_current(self, index: int) -> None:
        """Select the cutout at ``index``, clipped to the collection."""
        if self.collection is None:
            return
        index = max(0, min(int(index), len(self.collection) - 1))
        if index != self.current:
            self.current = index
            self.current_changed.emit(index)

    def set_display(self, settings: DisplaySettings) -> None:
        if settings != self.display:
            self.display = settings
            self.display_changed.emit(settings)

    def update_display(self, **changes) -> None:
        """Change some display fields, e.g. ``update_display(stretch="log")``."""
        self.set_display(self.display.with_changes(**changes))

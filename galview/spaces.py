"""Every similarity space GalView knows, in one list: its name, what it is, where it is built.

A space is a named feature function plus metadata (:class:`galview.core.spaces.Space`). Each entry
names a factory ``"module:function"`` imported only when the space is made, so listing the spaces
costs nothing and the Keras-based ones load Keras only when used. Another space (a self-supervised
encoder, say) is added with :func:`register_space` and a factory returning a ``Space``.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module


@dataclass(frozen=True)
class SpaceSpec:
    """One similarity space.

    Attributes
    ----------
    name : str
        Key in :data:`SPACES` (``--space`` on the command line).
    title : str
        What it compares, for menus and help.
    target : str
        ``"module:function"`` of its factory, which returns a :class:`~galview.core.spaces.Space`.
    needs_model : bool
        Whether the factory takes a loaded model (``loaded=``) and the collection (``collection=``).
    """

    name: str
    title: str
    target: str
    needs_model: bool = False

    def factory(self):
        """The factory (its module is imported now)."""
        module, attribute = self.target.split(":")
        return getattr(import_module(module), attribute)


SPACES: dict[str, SpaceSpec] = {
    spec.name: spec
    for spec in (
        SpaceSpec("pixel", "greyscale pixels (cosine)", "galview.core.spaces:pixel_space"),
        SpaceSpec(
            "embedding",
            "the model's penultimate layer",
            "galview.ml.similarity:embedding_space",
            needs_model=True,
        ),
        SpaceSpec(
            "self-supervised",
            "an encoder trained on the collection's own cutouts without labels (contrastive)",
            "galview.ml.contrastive_space:self_supervised_space",
        ),
        SpaceSpec(
            "morphology",
            "rotation-invariant profiles, Fourier modes, concentration, asymmetry",
            "galview.core.spaces:morphology_space",
        ),
    )
}


def register_space(spec: SpaceSpec) -> None:
    """Add (or replace) a space."""
    SPACES[spec.name] = spec


def make_space(name: str, **options):
    """The :class:`~galview.core.spaces.Space` called ``name``, built with ``options``.

    Raises
    ------
    KeyError
        Listing the known spaces, for an unknown name.
    """
    try:
        spec = SPACES[name]
    except KeyError:
        raise KeyError(f"unknown similarity space {name!r}; known spaces: {', '.join(SPACES)}") from None
    return spec.factory()(**options)

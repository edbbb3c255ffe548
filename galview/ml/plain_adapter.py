"""The plain adapter to offer when a model does not take a collection's colour cutouts as they are.

A model refuses cutouts of another size or other bands unless the user accepts a conversion
explicitly (:func:`galview.ml.inputs.make_adapter`). :func:`plain_adapter_offer` works out which plain
steps would make them fit — resize, band order or choice, greyscale — and says them in words, so
that the window can ask once ("Adapt and score") instead of leaving the user at an error. Float
fluxes into a model of colours are not offered: they go through the physical adapter
(:mod:`galview.ml.adapt`) or are refused.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from galview.ml.errors import ModelError
from galview.ml.inputs import check_compatible, make_adapter


@dataclass(frozen=True)
class PlainAdapterOffer:
    """Plain steps that make a collection's cutouts fit a model.

    Attributes
    ----------
    resize : bool
        Resize each cutout to the model's height and width (bilinear).
    bands : tuple of int or None
        The collection's channels to feed, in the model's order (None: as they are).
    greyscale : bool
        Average the channels into one.
    steps : tuple of str
        Each step in words, for the user.
    caution : str or None
        What the steps cannot make up for (a resized field is not the model's field).
    """

    resize: bool
    bands: tuple[int, ...] | None
    greyscale: bool
    steps: tuple[str, ...]
    caution: str | None = None

    def apply(self, loaded, collection):
        """A copy of ``loaded`` whose card carries this adapter for ``collection``'s cutouts (or, when
        there is no step, no adapter: the model as it was before it was adapted)."""
        from galview.ml.adapt import carrying
        from galview.ml.scoring import with_adapter

        if not (self.resize or self.greyscale or self.bands is not None):
            return carrying(loaded, None)
        bands = None if self.bands is None else list(self.bands)
        return with_adapter(loaded, collection, self.resize, bands, self.greyscale)

    def text(self) -> str:
        """The steps as one sentence, with the caution after it."""
        sentence = "; ".join(self.steps)
        sentence = sentence[:1].upper() + sentence[1:] + "."
        return f"{sentence} {self.caution}" if self.caution else sentence


def plain_adapter_offer(loaded, collection) -> PlainAdapterOffer | None:
    """The plain steps that would make ``collection``'s cutouts fit ``loaded``, or None.

    None when they fit already, when they are float fluxes and the model takes colours (the
    physical adapter's case), when the pixel types differ, or when the choice of bands cannot be
    made from their names (more bands than the model takes, not all named as the model's).
    A model adapted for other cutouts is offered steps from its own input as if unadapted
    (dropping the adapter when these cutouts fit as they are).
    """
    spec = loaded.card.input
    shape = tuple(int(s) for s in collection.shape)
    dtype = np.dtype(collection.dtype)
    names = [str(b) for b in collection.bands]
    where = str(collection.source)
    try:
        check_compatible(shape, dtype, names, spec, where=where)
        return None  # fits as it is (or through the adapter the card already carries)
    except ModelError:
        pass
    if spec.adapter and "physical" in spec.adapter:
        return None
    if (dtype.kind == "f") != (spec.dtype != "uint8"):
        return None
    if spec.adapter:  # made for other cutouts: start again from the model's own input
        made_for = "×".join(str(s) for s in (spec.adapter.get("from") or {}).get("shape", ())) or "other"
        spec = dataclasses.replace(spec, adapter=None)
        try:
            check_compatible(shape, dtype, names, spec, where=where)
            return PlainAdapterOffer(False, None, False, (f"drop the adapter made for {made_for} cutouts",))
        except ModelError:
            pass
    choice = _band_choice(names, shape[2], list(spec.bands), spec.shape[2])
    if choice is None:
        return None
    bands, greyscale, steps = choice
    resize = shape[:2] != tuple(spec.shape[:2])
    if resize:
        steps.append(
            f"resize each cutout from {shape[0]}×{shape[1]} to {spec.shape[0]}×{spec.shape[1]} pixels"
        )
    if not steps:
        return None
    try:
        adapter = make_adapter(shape, spec, resize=resize, bands=bands, greyscale=greyscale)
        adapted = dataclasses.replace(spec, adapter=adapter)
        check_compatible(shape, dtype, names, adapted, where=where)
    except ModelError:
        return None
    return PlainAdapterOffer(
        resize, None if bands is None else tuple(bands), greyscale, tuple(steps), _caution(spec, resize)
    )


def _band_choice(names: list[str], have: int, want_names: list[str], want: int):
    """(band indices or None, greyscale, steps) feeding ``have`` channels to a ``want``-channel model."""
    shown = ",".join(names) or f"{have} unnamed"
    if want == 1 and have > 1:
        return None, True, [f"average the bands {shown} into one"]
    if have == want:
        if not names or not want_names or names == want_names:
            return None, False, []
        if sorted(names) == sorted(want_names):
            order = [names.index(b) for b in want_names]
            return order, False, [f"reorder the bands {shown} as the model's {','.join(want_names)}"]
        return list(range(have)), False, [f"feed the bands {shown} as the model's {','.join(want_names)}"]
    if have > want and want_names and all(b in names for b in want_names):
        order = [names.index(b) for b in want_names]
        return order, False, [f"take the bands {','.join(want_names)} of {shown}"]
    if have == 1 and want > 1:
        model = ",".join(want_names) or f"{want} channels"
        return [0] * want, False, [f"repeat the one band as the model's {model}"]
    return None  # which bands to feed is the user's call (galview score --bands)


def _caution(spec, resize: bool) -> str | None:
    if not resize:
        return None
    if spec.field_arcsec and spec.pixel_scale:
        field = f"cutouts {spec.field_arcsec:.0f}″ across ({spec.pixel_scale:.2f}″ per pixel)"
    else:
        field = f"{spec.shape[0]}×{spec.shape[1]}-pixel cutouts"
    return (
        f"The model learnt from {field}: resizing fits these cutouts to its pixels, not to its field, "
        "so if their field is wider or narrower, galaxies look smaller or larger than any it learnt from "
        "and its scores mean less."
    )

"""Similarity spaces: a named feature function plus what a search needs to know about it.

A space turns cutouts (N, H, W, C) float32 into features (N, D) float32. The search compares
L2-normalised features by cosine; a space may ask for per-feature standardisation across the
collection first (``standardise``), for the reference's orientations to be tried (``orientations``;
off for spaces invariant by construction), and may say which features a masked pixel touches
(``feature_mask``, so the pixel space can leave masked pixels out of the comparison exactly).
``options`` and ``version`` key the features kept on disk. Spaces are listed, by name, in
:mod:`galview.spaces`; this module builds the two that need nothing but numpy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from galview.core.morphology import morphology_features
from galview.core.pixel_space import MAX_SIDE, NORMALISATIONS, pixel_features, pixel_mask

FeatureFunction = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Space:
    """A feature extractor for similarity search.

    Attributes
    ----------
    name : str
        ``"pixel"``, ``"morphology"``, ``"embedding"``…
    features : callable
        ``(images (N, H, W, C) float32) -> (N, D) float32``; images in the collection's value range.
    options : dict
        JSON-serialisable settings of the feature function (part of the cache key).
    version : str
        Version of the features: the model version for learned spaces, the feature code's
        version for the others (part of the cache key).
    orientations : bool
        Whether comparing the reference in its 8 orientations makes sense (False for spaces
        invariant by construction).
    standardise : bool
        Z-score each feature across the collection before cosine (features of different kinds).
    feature_mask : callable, optional
        ``(mask (H, W) bool, shape (H, W, C)) -> (D,) bool``: the features a masked pixel
        touches; None when masked pixels can only be filled.
    batch_size : int
        Cutouts per call of ``features`` when a collection is indexed.
    description : str
        One line for titles and reports ("pixel (sky subtracted, crop 200 px)").
    """

    name: str
    features: FeatureFunction
    options: dict = field(default_factory=dict)
    version: str = "1"
    orientations: bool = True
    standardise: bool = False
    feature_mask: Callable | None = None
    batch_size: int = 64
    description: str = ""

    def key(self) -> dict:
        """What identifies these features, apart from the collection: name, options, version."""
        return {"space": self.name, "options": dict(sorted(self.options.items())), "version": self.version}


def pixel_space(
    background: bool = True,
    normalisation: str = "none",
    crop: int | None = None,
    max_side: int = MAX_SIDE,
    colour: bool = False,
    **_ignored,
) -> Space:
    """The ``pixel`` space (see :mod:`galview.core.pixel_space`); other keyword arguments are ignored."""
    if normalisation not in NORMALISATIONS:
        raise ValueError(f"normalisation {normalisation!r}; expected one of {', '.join(NORMALISATIONS)}")
    if crop is not None and int(crop) < 2:
        raise ValueError(f"crop {crop}; expected a side of at least 2 pixels")
    options = {
        "background": bool(background),
        "normalisation": normalisation,
        "crop": crop,
        "max_side": max_side,
    }
    if colour:  # only then: the grey space's kept features keep their key
        options["colour"] = True
    words = ["colour"] if colour else []
    words += ["sky subtracted" if background else "no sky subtraction"]
    words += [f"{normalisation} normalisation"] if normalisation != "none" else []
    words += [f"central {crop} px"] if crop is not None else []
    return Space(
        "pixel",
        partial(
            pixel_features,
            background=bool(background),
            normalisation=normalisation,
            crop=crop,
            max_side=max_side,
            colour=bool(colour),
        ),
        options,
        version="1",
        feature_mask=lambda mask, shape: pixel_mask(mask, shape, crop, max_side, bool(colour)),
        batch_size=256,
        description=f"pixel ({', '.join(words)})",
    )


def morphology_space(**_ignored) -> Space:
    """The ``morphology`` space (see :mod:`galview.core.morphology`): rotation-invariant, standardised."""
    return Space(
        "morphology",
        morphology_features,
        {},
        version="1",
        orientations=False,
        standardise=True,
        batch_size=64,
        description="morphology (radial profiles, Fourier modes, concentration, asymmetry)",
    )

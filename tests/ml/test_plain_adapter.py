"""The plain adapter offered when a model refuses a collection's colour cutouts."""

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from galview.ml.cards import InputSpec, ModelCard
from galview.ml.inputs import check_compatible, model_input
from galview.ml.loading import LoadedModel
from galview.ml.plain_adapter import plain_adapter_offer

RGB = InputSpec((16, 16, 3), bands=("R", "G", "B"), dtype="uint8", scale="divide255")
GRZ = InputSpec((16, 16, 3), bands=("g", "r", "z"), dtype="uint8", scale="divide255")
GREY = InputSpec((16, 16, 1), dtype="uint8", scale="divide255")


def _model(spec):
    card = ModelCard("tiny", "binary", ("artifact", "LSBG"), spec, explain_layer=None)
    return LoadedModel(model=None, card=card, path=Path("tiny.keras"), files=())


def _collection(shape, bands=(), dtype="uint8"):
    return SimpleNamespace(shape=shape, bands=tuple(bands), dtype=np.dtype(dtype), source="cutouts.npz")


@pytest.mark.parametrize(
    ("spec", "shape", "bands", "steps", "wanted"),
    [
        (
            RGB,
            (64, 64, 3),
            ("R", "G", "B"),
            ["resize each cutout from 64×64 to 16×16 pixels"],
            (True, None, False),
        ),
        (
            RGB,
            (16, 16, 3),
            ("g", "r", "z"),
            ["feed the bands g,r,z as the model's R,G,B"],
            (False, (0, 1, 2), False),
        ),
        (
            GRZ,
            (16, 16, 3),
            ("z", "r", "g"),
            ["reorder the bands z,r,g as the model's g,r,z"],
            (False, (2, 1, 0), False),
        ),
        (
            GRZ,
            (16, 16, 4),
            ("g", "r", "i", "z"),
            ["take the bands g,r,z of g,r,i,z"],
            (False, (0, 1, 3), False),
        ),
        (
            GREY,
            (32, 32, 3),
            ("R", "G", "B"),
            ["average the bands R,G,B into one", "resize each cutout from 32×32 to 16×16 pixels"],
            (True, None, True),
        ),
        (RGB, (16, 16, 1), (), ["repeat the one band as the model's R,G,B"], (False, (0, 0, 0), False)),
    ],
)
def test_the_offer_names_each_step_and_makes_the_cutouts_fit(spec, shape, bands, steps, wanted):
    collection = _collection(shape, bands)
    with pytest.raises(Exception, match="model expects"):
        check_compatible(shape, "uint8", bands, spec)  # refused as they are
    offer = plain_adapter_offer(_model(spec), collection)
    assert list(offer.steps) == steps and (offer.resize, offer.bands, offer.greyscale) == wanted
    assert (offer.caution is not None) == offer.resize  # a resized field is not the model's field
    adapted = offer.apply(_model(spec), collection)
    assert adapted.card.input.adapter["from"] == {"shape": list(shape)}
    batch = np.random.default_rng(0).integers(0, 256, (2, *shape), dtype=np.uint8)
    assert model_input(batch, adapted.card.input).shape == (2, *spec.shape)


@pytest.mark.parametrize(
    ("spec", "collection"),
    [
        (RGB, _collection((16, 16, 3), ("R", "G", "B"))),  # fits already
        (
            RGB,
            _collection((64, 64, 3), ("g", "r", "z"), dtype="float32"),
        ),  # fluxes: the physical adapter's case
        (RGB, _collection((16, 16, 5))),  # which three of five unnamed bands: the user's call
        (GRZ, _collection((16, 16, 4), ("g", "r", "i", "y"))),  # z is missing
    ],
)
def test_nothing_is_offered_when_nothing_plain_is_needed_or_right(spec, collection):
    assert plain_adapter_offer(_model(spec), collection) is None


def test_the_text_is_one_sentence_with_the_caution_after():
    offer = plain_adapter_offer(_model(RGB), _collection((64, 64, 3), ("g", "r", "z")))
    assert offer.text().startswith("Feed the bands g,r,z as the model's R,G,B; resize each cutout from 64×64")
    assert "scores mean less" in offer.text()


def test_a_model_adapted_for_other_cutouts_is_offered_new_steps_or_none():
    """An adapter is made for one collection's cutouts: for others, the steps start from the model's
    own input, and cutouts that fit it as they are get the model back without its adapter."""
    large = _collection((64, 64, 3), ("R", "G", "B"))
    adapted = plain_adapter_offer(_model(RGB), large).apply(_model(RGB), large)
    other = _collection((32, 32, 3), ("R", "G", "B"))
    offer = plain_adapter_offer(adapted, other)
    assert offer.steps == ("resize each cutout from 32×32 to 16×16 pixels",)
    assert offer.apply(adapted, other).card.input.adapter["from"] == {"shape": [32, 32, 3]}
    fits = _collection((16, 16, 3), ("R", "G", "B"))
    offer = plain_adapter_offer(adapted, fits)
    assert offer.steps == ("drop the adapter made for 64×64×3 cutouts",) and offer.caution is None
    back = offer.apply(adapted, fits)
    assert back.card.input == RGB

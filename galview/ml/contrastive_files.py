"""A self-supervised encoder on disk: a folder with ``encoder.keras`` and its card ``encoder.json``.

An encoder is not a classifier, so its card is not a :class:`~galview.ml.cards.ModelCard`: it has no
classes or task, but the working size, field and stretch its cutouts are prepared with
(:func:`galview.ml.contrastive_views.prepare`), the embedding width, and the training record. Folders
are written whole or not at all (:func:`galview.ml.versions.write_folder`); encoders are loaded in
Keras' safe mode (standard layers only, nothing unpickled).
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from galview.ml.cards import _jsonable, _keras_info
from galview.ml.contrastive_views import STRETCHES
from galview.ml.errors import ModelError

ENCODER_FILE, CARD_FILE = "encoder.keras", "encoder.json"
SCHEMA = "galview-encoder-card/1"
SPACE = "self-supervised"


@dataclass
class EncoderCard:
    """What an encoder takes, gives and learnt from.

    Attributes
    ----------
    size, channels : int
        Its input is (size, size, channels) prepared cutouts.
    stretch : str
        The per-image stretch of :func:`~galview.ml.contrastive_views.prepare`.
    embedding_dim : int
        D, the width of the embedding.
    source_shape : tuple of int
        (H, W, C) of the cutouts it was trained on.
    training : dict
        Epochs, batch size, learning rate, temperature, seed, number of cutouts, augmentations,
        final loss, seconds, device…
    collection_fingerprint : str or None
        :func:`galview.core.collection.fingerprint` of the collection it was trained on, if any.
    field : float
        The central fraction of each cutout's side that is prepared (1: all of it).
    """

    size: int
    channels: int
    stretch: str
    embedding_dim: int
    source_shape: tuple[int, int, int]
    training: dict[str, Any] = dataclasses.field(default_factory=dict)
    collection_fingerprint: str | None = None
    field: float = 1.0
    space: str = SPACE
    architecture: str = "contrastive-cnn"
    created: str = dataclasses.field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    backend: str = dataclasses.field(default_factory=lambda: _keras_info()[0])
    keras_version: str = dataclasses.field(default_factory=lambda: _keras_info()[1])

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict, schema tag first (NaN as null)."""
        return {"schema": SCHEMA, **_jsonable(asdict(self))}

    @classmethod
    def from_dict(cls, data: Any, path: str | Path = "card") -> EncoderCard:
        """Validate a card read from JSON; ModelError naming ``path`` for anything missing or wrong."""
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            raise ModelError(path, f"not an encoder card (expected a JSON object with schema {SCHEMA!r})")
        for key in ("size", "channels", "embedding_dim"):
            if not _positive_int(data.get(key)):
                raise ModelError(path, f"encoder card: {key} must be a positive whole number")
        field = data.get("field", 1.0)
        if isinstance(field, bool) or not isinstance(field, int | float) or not 0 < field <= 1:
            raise ModelError(path, "encoder card: field must be a number in (0, 1]")
        if data.get("stretch") not in STRETCHES:
            raise ModelError(path, f"encoder card: stretch must be one of {STRETCHES}")
        shape = data.get("source_shape")
        if not (isinstance(shape, list) and len(shape) == 3 and all(map(_positive_int, shape))):
            raise ModelError(path, "encoder card: source_shape must be [H, W, C]")
        if not isinstance(data.get("training", {}), dict):
            raise ModelError(path, "encoder card: training must be an object")
        for key in ("collection_fingerprint", "space", "architecture", "created", "backend", "keras_version"):
            if key in data and not (data[key] is None or isinstance(data[key], str)):
                raise ModelError(path, f"encoder card: {key} must be text or null")
        known = set(cls.__dataclass_fields__)
        values = {key: value for key, value in data.items() if key in known}
        values["source_shape"] = tuple(int(s) for s in shape)
        return cls(**values)


def save_encoder_card(card: EncoderCard, path: str | Path) -> Path:
    """Write ``card`` as indented JSON (validated first; temporary file then rename)."""
    path = Path(path)
    data = card.to_dict()
    EncoderCard.from_dict(data, path)
    tmp = path.with_name(path.name + ".partial")
    tmp.write_text(json.dumps(data, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def load_encoder_card(path: str | Path) -> EncoderCard:
    """Read and validate an encoder card; ModelError for a missing, oversized or invalid file."""
    from galview.core.budget import MAX_MODEL_CONFIG_BYTES

    path = Path(path)
    if not path.is_file():
        raise ModelError(path, "encoder card not found (expected encoder.json beside encoder.keras)")
    if path.stat().st_size > MAX_MODEL_CONFIG_BYTES:
        raise ModelError(path, "encoder card is too large; expected a small JSON file")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ModelError(path, f"encoder card is not valid JSON ({type(exc).__name__})") from exc
    return EncoderCard.from_dict(data, path)


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


@dataclass
class LoadedEncoder:
    """An encoder ready to use: the Keras model, its card and the file it came from (None if in memory)."""

    model: Any
    card: EncoderCard
    path: Path | None = None


def save_encoder(encoder: Any, card: EncoderCard, out_dir: str | Path) -> Path:
    """Write ``encoder.keras`` and ``encoder.json`` as the new folder ``out_dir`` (whole or not at all)."""
    from galview.ml.loading import quiet_keras
    from galview.ml.versions import write_folder

    def fill(partial: Path) -> None:
        with quiet_keras():
            encoder.save(partial / ENCODER_FILE)
        save_encoder_card(card, partial / CARD_FILE)

    return write_folder(out_dir, fill, "a new encoder") / ENCODER_FILE


def load_encoder(path: str | Path) -> LoadedEncoder:
    """Open ``encoder.keras`` (or the folder holding it) in safe mode, with its card.

    Raises
    ------
    ModelError
        Missing or corrupt file or card, a card that does not fit the model, NaN weights.
    """
    import keras

    from galview.ml.loading import _keras_call
    from galview.ml.model_checks import check_archive, check_finite_weights

    path = Path(path)
    path = path / ENCODER_FILE if path.is_dir() else path
    if not path.is_file():
        raise ModelError(path, "encoder not found (expected encoder.keras, or the folder holding it)")
    check_archive(path)
    card = load_encoder_card(path.with_name(CARD_FILE))
    model = _keras_call(
        path, "a GalView encoder", lambda: keras.saving.load_model(path, safe_mode=True, compile=False)
    )
    check_finite_weights(model, path)
    expected = (None, card.size, card.size, card.channels)
    if tuple(model.input.shape) != expected or model.output.shape[-1] != card.embedding_dim:
        raise ModelError(path, f"the model does not match its card (input {tuple(model.input.shape)}, "
                               f"output {tuple(model.output.shape)})")  # fmt: skip
    return LoadedEncoder(model, card, path)

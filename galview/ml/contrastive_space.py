"""The ``self-supervised`` similarity space: embeddings of an encoder trained on the user's own cutouts.

The encoder comes from :func:`galview.ml.contrastive.train_encoder` (``galview train-encoder``, or
Similarity ▸ Train a self-supervised encoder… in the window), or is a file the user supplies;
nothing is downloaded. It was trained with flips and rotations as augmentations, so references are
not tried in their 8 orientations.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from galview.core.spaces import Space
from galview.ml.contrastive import encode
from galview.ml.contrastive_files import LoadedEncoder, load_encoder
from galview.ml.errors import ModelError


def self_supervised_space(encoder=None, batch_size: int = 256, **_ignored) -> Space:
    """The space of the encoder ``encoder`` (its folder or ``encoder.keras``, or a LoadedEncoder).

    Raises
    ------
    ModelError
        If no encoder is given, or it cannot be loaded.
    """
    if encoder is None:
        raise ModelError(
            "self-supervised", "needs an encoder: train one on the collection first (galview train-encoder)"
        )
    loaded = encoder if isinstance(encoder, LoadedEncoder) else load_encoder(encoder)
    path = Path(loaded.path) if loaded.path else None

    def features(images):
        return encode(loaded, images, batch_size)

    card = loaded.card
    trained_on = card.training.get("n_images")
    about = f", trained on {trained_on:,} cutouts" if isinstance(trained_on, int) else ""
    return Space(
        "self-supervised",
        features,
        {"encoder": str(path) if path else ""},
        version=_version(path),
        orientations=False,
        batch_size=batch_size,
        description=f"self-supervised ({path.parent.name if path else 'encoder'}{about})",
    )


def _version(path: Path | None) -> str:
    """12 hex digits of sha256 over the encoder's file (a new training is a new index)."""
    if path is None or not path.is_file():
        return "memory"
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:12]

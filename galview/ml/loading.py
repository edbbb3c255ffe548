"""Open models safely: native ``.keras`` files with their cards, and imports of older formats.

Keras runs in safe mode throughout: a model whose file carries Python code (a ``Lambda`` layer) is
refused, and nothing is ever unpickled. Every failure is a :class:`ModelError` naming the file and
what GalView expected there.

- :func:`load_model` — ``models/foo.keras`` (+ ``models/foo.json`` card if present).
- :func:`import_legacy_h5` — a Keras 2 full-model ``.h5`` (architecture + weights in one file).
- :func:`import_json_weights` — ``model.json`` (``model.to_json()``) + weights (``.weights.h5`` or a
  Keras 2 ``.h5``), as the UWA thesis saved its models.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import warnings
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from galview.io.text import one_line
from galview.ml.cards import InputSpec, ModelCard, card_path, load_card, save_card
from galview.ml.errors import ModelError
from galview.ml.model_checks import check_archive, check_finite_weights

# TensorFlow 2.21 variables implement ``__array__`` without NumPy 2's ``copy`` keyword, so every
# ``convert_to_numpy`` of a variable (saving, ``get_weights``) warns. Not ours to fix, nor the user's.
_NUMPY2_COPY_WARNING = r"__array__ implementation doesn't accept a copy keyword"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class LoadedModel:
    """A model ready to use, with the card that describes it.

    Attributes
    ----------
    model : keras.Model
    card : ModelCard
    path : Path
        The file the user opened (``.keras``, ``.h5`` or the architecture ``.json``).
    files : tuple of Path
        The files whose bytes define the model (hashed into :attr:`version`).
    explain_problem : str or None
        Why Grad-CAM cannot explain this model, when warming it up failed (see
        :func:`galview.ml.jobs.open_model`).
    """

    model: Any
    card: ModelCard
    path: Path
    files: tuple[Path, ...]
    explain_problem: str | None = None

    @cached_property
    def version(self) -> str:
        """12 hex digits of sha256 over the model files and the card: a cache key for Grad-CAM."""
        digest = hashlib.sha256()
        for file in self.files:
            with open(file, "rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(chunk)
        digest.update(json.dumps(self.card.to_dict(), sort_keys=True).encode())
        return digest.hexdigest()[:12]


@contextmanager
def quiet_keras() -> Iterator[None]:
    """Silence the TensorFlow/NumPy 2 ``copy`` DeprecationWarning that Keras saving triggers."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_NUMPY2_COPY_WARNING, category=DeprecationWarning)
        yield


def model_file(path: str | Path) -> Path:
    """The model file ``path`` names: the ``model.keras`` inside a folder that holds one (what
    ``galview train -o`` writes), else ``path`` itself. Nothing is read."""
    path = Path(path)
    inside = path / "model.keras"
    return inside if path.is_dir() and inside.is_file() else path


def load_model(path: str | Path) -> LoadedModel:
    """Open a Keras 3 ``.keras`` model in safe mode, with its card (or one inferred from the model).

    ``path`` may be a folder holding the model (see :func:`model_file`). ``.h5``/``.hdf5`` files
    are passed to :func:`import_legacy_h5`.

    Raises
    ------
    ModelError
        Missing, truncated or corrupt file; wrong format; Lambda layers; a card that does not fit.
    """
    import keras

    path = model_file(path)
    _require_file(path, "a Keras model file (.keras)")
    if path.suffix in (".h5", ".hdf5"):
        return import_legacy_h5(path)
    if path.suffix != ".keras":
        raise ModelError(
            path,
            "unsupported model file; expected a Keras 3 .keras file (or a legacy .h5 model, or "
            "model.json + weights through import_json_weights)",
        )
    if not zipfile.is_zipfile(path):
        raise ModelError(path, "not a Keras 3 .keras archive (not a zip file): truncated or corrupt?")
    check_archive(path)
    card_file = card_path(path)
    card = load_card(card_file) if card_file.is_file() else None  # a bad card fails before Keras loads
    model = _keras_call(
        path, "a Keras 3 .keras model", lambda: keras.saving.load_model(path, safe_mode=True, compile=False)
    )
    check_finite_weights(model, path)
    card = card if card is not None else infer_card(model, path)
    check_card_matches(model, card, card_file)
    return LoadedModel(model, card, path, (path,))


def import_legacy_h5(path: str | Path, card: ModelCard | None = None) -> LoadedModel:
    """Open a Keras 2-style full-model ``.h5`` (``model.save('x.h5')``) in safe mode.

    The card is ``card`` if given, else inferred from the model (``card.inferred`` is True).
    """
    import h5py
    import keras

    path = Path(path)
    _require_file(path, "a legacy Keras .h5 model")
    if path.suffix not in (".h5", ".hdf5"):
        raise ModelError(path, "expected a legacy Keras model file ending in .h5 or .hdf5")
    if not h5py.is_hdf5(path):
        raise ModelError(path, "not an HDF5 file; expected a legacy Keras .h5 model")
    try:
        with h5py.File(path, "r") as handle:
            has_architecture = "model_config" in handle.attrs
    except OSError as exc:
        raise ModelError(
            path, f"HDF5 file cannot be opened, truncated or corrupt? ({one_line(exc)})"
        ) from exc
    if not has_architecture:
        raise ModelError(
            path,
            "HDF5 file holds no model architecture (weights only?); "
            "import it with import_json_weights and the model's JSON",
        )
    model = _keras_call(
        path,
        "a legacy Keras .h5 model",
        lambda: keras.saving.load_model(str(path), safe_mode=True, compile=False),
    )
    return _imported(model, card, path, (path,))


def import_json_weights(
    json_path: str | Path, weights_path: str | Path, card: ModelCard | None = None
) -> LoadedModel:
    """Rebuild a model from ``model.to_json()`` and load its weights (``model_from_json`` style).

    Parameters
    ----------
    json_path : str or Path
        Architecture JSON, from Keras 3 or Keras 2 ``model.to_json()``.
    weights_path : str or Path
        ``.weights.h5`` (Keras 3) or ``.h5``/``.hdf5`` (Keras 2 ``save_weights`` or a full model).
    card : ModelCard, optional
        Attached as is; otherwise inferred from the model.
    """
    import h5py

    json_path, weights_path = Path(json_path), Path(weights_path)
    _require_file(json_path, "a model architecture JSON (model.to_json())")
    _require_file(weights_path, "a weights file (.weights.h5 or .h5)")
    config = _read_architecture(json_path)
    model = _keras_call(json_path, "a Keras model architecture", lambda: _model_from_config(config))
    if weights_path.suffix not in (".h5", ".hdf5") or not h5py.is_hdf5(weights_path):
        raise ModelError(weights_path, "not an HDF5 weights file; expected .weights.h5 or a Keras 2 .h5")
    expected = f"weights for the architecture in {json_path.name}"
    _check_weight_count(weights_path, model, expected)
    _keras_call(weights_path, expected, lambda: model.load_weights(str(weights_path)), strict=True)
    return _imported(model, card, json_path, (json_path, weights_path))


def save_model(model: Any, card: ModelCard, path: str | Path) -> LoadedModel:
    """Save ``model`` as ``path`` (``.keras``) and ``card`` beside it; both written atomically."""
    path = Path(path)
    if path.suffix != ".keras":
        raise ModelError(path, "GalView saves models as Keras 3 .keras files")
    ModelCard.from_dict(card.to_dict(), card_path(path))  # an invalid card fails before anything is written
    check_card_matches(model, card, path)
    partial = path.with_name(path.stem + ".partial.keras")
    try:
        with quiet_keras():
            _without_optimizer(model).save(partial)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    save_card(card, card_path(path))
    return LoadedModel(model, card, path, (path,))


def _without_optimizer(model: Any) -> Any:
    """An uncompiled copy with the same weights: the optimizer's slots would triple the file.

    GalView loads models with ``compile=False`` and fine-tunes with a fresh optimizer, so
    nothing is lost (DeepShadows: 17 MB instead of 51 MB with Adadelta's accumulators).
    """
    import keras

    if getattr(model, "optimizer", None) is None:
        return model
    copy = keras.Model.from_config(model.get_config())  # clone_model would carry the optimizer over
    copy.set_weights(model.get_weights())
    return copy


def infer_card(model: Any, path: str | Path = "model") -> ModelCard:
    """A minimal card read off the model: input shape, output width → task, last conv layer.

    A model named like a registered architecture (e.g. ``deepshadows``) with a matching head gets
    that architecture's class names and input scaling. ``inferred`` is set so the GUI can say so.
    """
    shape = _input_hwc(model, path)
    n_out = int(model.output_shape[-1])
    activation = _output_activation(model)
    if n_out == 1:
        task = "binary"
    else:
        task = "multilabel" if activation == "sigmoid" else "multiclass"
    spec = _registered(model.name, task, n_out)
    if spec is not None:
        class_names, spec_input = spec.default_class_names, spec.input_spec(shape)
    else:
        class_names = (
            ("negative", "positive") if task == "binary" else tuple(f"class {i}" for i in range(n_out))
        )
        spec_input = InputSpec(shape=shape)
    return ModelCard(
        architecture=spec.name if spec else model.name,
        task=task,
        class_names=class_names,
        input=spec_input,
        explain_layer=last_conv_layer(model),
        inferred=True,
        description="Card inferred from the model file: check the class names and input scaling.",
    )


def check_card_matches(model: Any, card: ModelCard, where: str | Path) -> None:
    """ModelError (naming ``where``) if the card's input, outputs or explain layer don't fit."""
    shape = _input_hwc(model, where)
    if any(m is not None and m != c for m, c in zip(shape, card.input.shape, strict=True)):
        raise ModelError(
            where, f"card says inputs are {_fmt(card.input.shape)}, the model takes {_fmt(shape)}"
        )
    n_out = int(model.output_shape[-1])
    if n_out != card.n_outputs:
        raise ModelError(
            where, f"card describes {card.n_outputs} outputs ({card.task}), the model has {n_out}"
        )
    if card.explain_layer is None:
        return
    try:
        layer = model.get_layer(card.explain_layer)
    except ValueError:
        raise ModelError(where, f"explain_layer {card.explain_layer!r} is not a layer of the model") from None
    if len(layer.output.shape) != 4:
        raise ModelError(where, f"explain_layer {card.explain_layer!r} has no (H, W, C) feature map")


def last_conv_layer(model: Any) -> str | None:
    """Name of the last 2-D convolution in ``model.layers`` (Grad-CAM's default), or None."""
    import keras

    convs = (keras.layers.Conv2D, keras.layers.SeparableConv2D, keras.layers.DepthwiseConv2D)
    for layer in reversed(model.layers):
        if isinstance(layer, convs):
            return layer.name
    return None


def _imported(model: Any, card: ModelCard | None, path: Path, files: tuple[Path, ...]) -> LoadedModel:
    check_finite_weights(model, path)
    card = card if card is not None else infer_card(model, path)
    check_card_matches(model, card, path)
    return LoadedModel(model, card, path, files)


def _read_architecture(path: Path) -> dict[str, Any]:
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(
            path, f"not valid JSON; expected the output of model.to_json() ({one_line(exc)})"
        ) from exc
    if not isinstance(config, dict) or "class_name" not in config or "config" not in config:
        raise ModelError(
            path, "not a Keras model architecture (model.to_json() has 'class_name' and 'config')"
        )
    return config


def _model_from_config(config: dict[str, Any]) -> Any:
    """Keras 3 configs via the public API; Keras 2 JSON (no 'module' keys) via Keras' legacy reader."""
    import keras

    if "module" in config:
        return keras.saving.deserialize_keras_object(config, safe_mode=True)
    # Keras 3 has no public reader for Keras 2 JSON; this is what its legacy .h5 loader uses.
    from keras.src.legacy.saving import saving_utils
    from keras.src.saving import serialization_lib

    with serialization_lib.SafeModeScope(True):
        return saving_utils.model_from_config(config)


def _check_weight_count(path: Path, model: Any, expected: str) -> None:
    """Keras ignores surplus arrays in a weights file; GalView wants exactly the model's weights.

    Counts the numbers stored under ``layers/`` (Keras 3 ``.weights.h5``), ``model_weights/`` (a
    full-model ``.h5``) or the root (Keras 2 ``save_weights``); optimizer state is not counted.
    """
    import h5py

    sizes: list[int] = []
    try:
        with h5py.File(path, "r") as handle:
            if "layer_names" in handle.attrs:
                root = handle
            else:
                root = handle.get("layers") or handle.get("model_weights")
            if root is None:
                return  # unknown layout: let Keras judge
            root.visititems(lambda _, obj: sizes.append(obj.size) if isinstance(obj, h5py.Dataset) else None)
    except OSError as exc:
        raise ModelError(
            path, f"HDF5 file cannot be opened, truncated or corrupt? ({one_line(exc)})"
        ) from exc
    if sum(sizes) != model.count_params():
        raise ModelError(
            path,
            f"holds {sum(sizes):,} weights but the model has {model.count_params():,}; expected {expected}",
        )


def _keras_call(path: Path, expected: str, call: Callable[[], Any], strict: bool = False) -> Any:
    """Run a Keras load; turn whatever it raises into a ModelError that says what went wrong.

    ``strict`` also fails on Keras' UserWarnings, which it uses to report weights it skipped.
    """
    try:
        with quiet_keras():
            if strict:
                warnings.simplefilter("error", UserWarning)
            return call()
    except Exception as exc:  # Keras raises ValueError, TypeError, KeyError, OSError, zip errors...
        raise ModelError(path, _explain(exc, expected)) from exc


def _explain(exc: Exception, expected: str) -> str:
    text = _ANSI.sub("", str(exc)).strip()
    if "Lambda" in text and "safe" in text:
        return (
            "contains a Lambda layer (arbitrary Python code), which GalView refuses to load; "
            "rebuild the model with standard layers"
        )
    if "Could not locate" in text or "Unknown layer" in text:
        return f"uses a custom layer or object that GalView does not know; expected {expected} of standard Keras layers"
    first = text.splitlines()[0] if text else type(exc).__name__
    return f"could not be read as {expected} ({type(exc).__name__}: {first[:200]})"


def _require_file(path: Path, expected: str) -> None:
    if not path.exists():
        raise ModelError(path, f"file not found; expected {expected}")
    if not path.is_file():
        raise ModelError(path, f"not a file; expected {expected}")


def _input_hwc(model: Any, where: str | Path) -> tuple[Any, Any, Any]:
    inputs = getattr(model, "inputs", None) or []
    if len(inputs) != 1 or len(inputs[0].shape) != 4:
        shapes = [tuple(t.shape) for t in inputs]
        raise ModelError(where, f"GalView needs one image input (batch, H, W, C); the model takes {shapes}")
    return tuple(inputs[0].shape[1:])


def _output_activation(model: Any) -> str | None:
    import keras

    activation = getattr(model.layers[-1], "activation", None)
    if activation is None:
        return None
    name = keras.activations.serialize(activation)
    return name if isinstance(name, str) else getattr(activation, "__name__", None)


def _registered(model_name: str, task: str, n_out: int) -> Any:
    from galview.ml.architectures import ARCHITECTURES

    for spec in ARCHITECTURES.values():
        norm = spec.name.replace("-", "_")
        if (norm == model_name or norm.startswith(model_name + "_")) and spec.task == task:
            if spec.default_n_outputs == n_out:
                return spec
    return None


def _fmt(shape: tuple[Any, ...]) -> str:
    return "×".join("?" if s is None else str(s) for s in shape)

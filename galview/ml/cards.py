"""Model cards: the JSON file beside every model that says what it expects and where it came from.

``models/foo.keras`` is described by ``models/foo.json``. The card records the input the model was
trained on (shape, bands, dtype, scaling, any adapter), its classes, the layer Grad-CAM explains,
metrics, provenance (parent model, data fingerprint, recipe, versions). Nothing here imports Keras
at module level.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from galview.core.errors import CollectionError
from galview.ml.errors import ModelError

SCHEMA = "galview-model-card/1"
TASKS = ("binary", "multiclass", "multilabel")
DTYPES = ("uint8", "float32")
SCALES = ("divide255", "none")
REQUIRED_KEYS = ("architecture", "task", "class_names", "input", "explain_layer")
#: Optional InputSpec fields that place the input on the sky (older cards lack them).
SKY_KEYS = ("pixel_scale", "field_arcsec", "representation", "colours")


@dataclass(frozen=True)
class InputSpec:
    """What one model input looks like.

    Attributes
    ----------
    shape : tuple of int
        ``(H, W, C)``, channels last.
    bands : tuple of str
        Name of each channel, e.g. ``("R", "G", "B")`` or ``("g", "r", "z")``; may be empty.
    dtype : {'uint8', 'float32'}
        The pixel type of the cutouts the model was trained on.
    scale : {'divide255', 'none'}
        Scaling applied before the network: ``divide255`` maps 0–255 to 0–1.
    adapter : dict or None
        An explicit conversion from a collection's cutouts to this input (see
        :func:`galview.ml.inputs.make_adapter` and :func:`galview.ml.physical.physical_adapter`);
        ``None`` when cutouts are fed as they are.
    pixel_scale : float or None
        Arcseconds per input pixel on the sky, if known.
    field_arcsec : float or None
        Side of the field an input covers, in arcseconds, if known.
    representation : str or None
        What the pixels are, in words: ``"viewer colours: …"`` (a colour image of fluxes) or
        ``"flux: nanomaggies"`` (flux per pixel in that unit).
    colours : dict or None
        How viewer colours were made from fluxes, for a ``"viewer colours"`` representation:
        ``mapping`` (``"legacy"``: :func:`galview.core.display.legacy_rgb`), the flux ``bands`` and
        ``flux_unit`` it takes, the ``pixel_scale`` (″) the mapping is applied at, and the
        ``jpeg_quality`` of the round trip before the bicubic resize to the input size
        (:func:`galview.core.viewer_colours.viewer_rgb`). The physical adapter follows it.

    The last four are optional (older cards lack them) and written only when set.
    """

    shape: tuple[int, int, int]
    bands: tuple[str, ...] = ()
    dtype: str = "float32"
    scale: str = "none"
    adapter: dict[str, Any] | None = None
    pixel_scale: float | None = None
    field_arcsec: float | None = None
    representation: str | None = None
    colours: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (lists, not tuples); the optional sky fields only when set."""
        data = {
            "shape": list(self.shape),
            "bands": list(self.bands),
            "dtype": self.dtype,
            "scale": self.scale,
            "adapter": _jsonable(self.adapter),
        }
        for key in SKY_KEYS:
            if getattr(self, key) is not None:
                data[key] = _jsonable(getattr(self, key))
        return data

    @classmethod
    def from_dict(cls, data: Any, path: str | Path = "input") -> InputSpec:
        """Validate and build from a card's ``input`` entry; ModelError naming ``path`` if invalid."""
        if not isinstance(data, dict) or "shape" not in data:
            raise ModelError(path, "the card's 'input' must be an object with a 'shape' [H, W, C]")
        shape = data["shape"]
        if not (isinstance(shape, list | tuple) and len(shape) == 3 and all(_is_pos_int(s) for s in shape)):
            raise ModelError(path, f"input shape must be three positive integers [H, W, C], got {shape!r}")
        _check_types(data, INPUT_TYPES, path, "input ")
        spec = cls(
            shape=tuple(int(s) for s in shape),
            bands=tuple(str(b) for b in data.get("bands") or ()),
            dtype=data.get("dtype", "float32"),
            scale=data.get("scale", "none"),
            adapter=data.get("adapter"),
            **_sky_fields(data, path),
        )
        if spec.dtype not in DTYPES:
            raise ModelError(path, f"input dtype must be one of {DTYPES}, got {spec.dtype!r}")
        if spec.scale not in SCALES:
            raise ModelError(path, f"input scale must be one of {SCALES}, got {spec.scale!r}")
        if spec.adapter is not None and not isinstance(spec.adapter, dict):
            raise ModelError(path, f"input adapter must be an object or null, got {spec.adapter!r}")
        if spec.bands and len(spec.bands) != spec.shape[2]:
            raise ModelError(path, f"{len(spec.bands)} band names for {spec.shape[2]} channels")
        return spec


def _sky_fields(data: dict, path: str | Path) -> dict[str, Any]:
    """The optional sky fields of a card's ``input``, type-checked; ModelError naming ``path``."""
    values = {key: data.get(key) for key in SKY_KEYS}
    for key in ("pixel_scale", "field_arcsec"):
        value = values[key]
        if value is not None and not (_is_number(value) and 0 < value < 1e6):
            raise ModelError(path, f"input {key} must be a positive number of arcseconds, got {value!r}")
        values[key] = None if value is None else float(value)
    if values["representation"] is not None and not isinstance(values["representation"], str):
        raise ModelError(path, f"input representation must be text, got {values['representation']!r}")
    if values["colours"] is not None and not isinstance(values["colours"], dict):
        raise ModelError(path, f"input colours must be an object or null, got {values['colours']!r}")
    return values


@dataclass
class ModelCard:
    """Everything GalView needs to know about a model besides its weights.

    ``positive_class`` (binary only) is the index in ``class_names`` whose probability the single
    sigmoid output gives. Numbers in ``metrics`` and ``training`` are stored as JSON (NaN as null).
    """

    architecture: str
    task: str
    class_names: tuple[str, ...]
    input: InputSpec
    explain_layer: str | None
    positive_class: int | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    data_fingerprint: str | None = None
    parent: str | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    backend: str = field(default_factory=lambda: _keras_info()[0])
    keras_version: str = field(default_factory=lambda: _keras_info()[1])
    galview_version: str = field(default_factory=lambda: _galview_version())
    inferred: bool = False
    description: str = ""

    def __post_init__(self):
        self.class_names = tuple(self.class_names)
        if self.task == "binary" and self.positive_class is None:
            self.positive_class = 1

    @property
    def n_outputs(self) -> int:
        """Width of the model's output: 1 for binary (sigmoid), else one per class name."""
        return 1 if self.task == "binary" else len(self.class_names)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict, schema tag first."""
        data = {"schema": SCHEMA}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            data[f.name] = value.to_dict() if isinstance(value, InputSpec) else _jsonable(value)
        return data

    @classmethod
    def from_dict(cls, data: Any, path: str | Path = "card") -> ModelCard:
        """Validate a card read from JSON; ModelError naming ``path`` for anything missing or wrong."""
        if not isinstance(data, dict):
            raise ModelError(path, "a model card must be a JSON object")
        missing = [key for key in REQUIRED_KEYS if key not in data]
        if missing:
            raise ModelError(path, f"model card lacks required keys: {', '.join(missing)}")
        _check_types(data, CARD_TYPES, path)
        known = {f.name for f in dataclasses.fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        values["input"] = InputSpec.from_dict(data["input"], path)
        values.setdefault("metrics", {})
        values.setdefault("training", {})
        card = cls(**values)
        _validate(card, path)
        return card


_TEXT_LIST = "a list of strings"
#: JSON type of each card field GalView reads: (description, test); absent fields are not checked.
CARD_TYPES: dict[str, tuple[str, Any]] = {
    "architecture": ("a string", lambda v: isinstance(v, str)),
    "task": ("a string", lambda v: isinstance(v, str)),
    "class_names": (_TEXT_LIST, lambda v: isinstance(v, list) and all(isinstance(c, str) for c in v)),
    "explain_layer": ("a string or null", lambda v: v is None or isinstance(v, str)),
    "positive_class": ("a whole number or null", lambda v: v is None or _is_int(v)),
    "metrics": ("an object", lambda v: isinstance(v, dict)),
    "training": ("an object", lambda v: isinstance(v, dict)),
    "inferred": ("true or false", lambda v: isinstance(v, bool)),
    **{
        key: ("a string or null", lambda v: v is None or isinstance(v, str))
        for key in ("data_fingerprint", "parent", "id", "created", "backend", "keras_version")
    },
    **{key: ("a string", lambda v: isinstance(v, str)) for key in ("galview_version", "description")},
}
INPUT_TYPES: dict[str, tuple[str, Any]] = {
    "bands": (
        _TEXT_LIST + " or null",
        lambda v: v is None or (isinstance(v, list) and all(isinstance(b, str) for b in v)),
    ),
    "dtype": ("a string", lambda v: isinstance(v, str)),
    "scale": ("a string", lambda v: isinstance(v, str)),
}


def _check_types(data: dict, types: dict[str, tuple[str, Any]], path: str | Path, prefix: str = "") -> None:
    """ModelError naming ``path`` and the first field whose JSON type is wrong."""
    for key, (expected, test) in types.items():
        if key in data and not test(data[key]):
            raise ModelError(path, f"{prefix}{key} must be {expected}, got {_short(data[key])}")


def _short(value: Any) -> str:
    text = (
        json.dumps(value)
        if isinstance(value, dict | list | str | int | float | bool) or value is None
        else repr(value)
    )
    return text if len(text) <= 60 else text[:57] + "..."


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _validate(card: ModelCard, path: str | Path) -> None:
    if card.task not in TASKS:
        raise ModelError(path, f"task must be one of {TASKS}, got {card.task!r}")
    if not card.class_names or not all(isinstance(c, str) for c in card.class_names):
        raise ModelError(path, "class_names must be a non-empty list of strings")
    if card.task == "binary":
        if len(card.class_names) != 2:
            raise ModelError(path, f"a binary card needs 2 class names, got {len(card.class_names)}")
        if card.positive_class not in (0, 1):
            raise ModelError(path, f"positive_class must be 0 or 1, got {card.positive_class!r}")
    if card.explain_layer is not None and not isinstance(card.explain_layer, str):
        raise ModelError(path, "explain_layer must be a layer name or null")
    for key in ("metrics", "training"):
        if not isinstance(getattr(card, key), dict):
            raise ModelError(path, f"{key} must be an object")


def card_path(model_path: str | Path) -> Path:
    """The card beside a model: ``models/foo.keras`` → ``models/foo.json``."""
    return Path(model_path).with_suffix(".json")


def save_card(card: ModelCard, path: str | Path) -> Path:
    """Write ``card`` as indented JSON to ``path`` (atomically: temp file then rename).

    The card is validated first, exactly as :func:`load_card` will: an invalid card is never written.
    """
    path = Path(path)
    data = card.to_dict()
    ModelCard.from_dict(data, path)
    text = json.dumps(data, indent=2, allow_nan=False) + "\n"
    tmp = path.with_name(path.name + ".partial")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def load_card(path: str | Path) -> ModelCard:
    """Read and validate a card; ModelError for a missing file, bad JSON or missing/invalid keys."""
    from galview.core.budget import MAX_MODEL_CONFIG_BYTES, megabytes

    path = Path(path)
    if not path.is_file():
        raise ModelError(path, "model card not found (expected a JSON file beside the model)")
    size = path.stat().st_size
    if size > MAX_MODEL_CONFIG_BYTES:
        raise ModelError(
            path,
            f"model card is {megabytes(size)}; expected a small JSON file (at most {megabytes(MAX_MODEL_CONFIG_BYTES)})",
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # ValueError: also a 4,301-digit number
        raise ModelError(path, f"model card is not valid JSON ({_first_line(exc)})") from exc
    return ModelCard.from_dict(data, path)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:200]


def fingerprint(images: Any, labels: Any, n_sample: int = 32) -> str:
    """A sha256 identifying a training set without storing it.

    Hashes the shapes and dtypes, every label, and the full pixels of ``n_sample`` cutouts spread
    evenly through the set (so a million-cutout file is not read in full); a cutout that cannot be
    read counts as its position.

    Parameters
    ----------
    images : array-like, shape (N, H, W, C)
        Anything indexable by an integer: ndarray, memmap, h5py dataset, collection.
    labels : array-like, shape (N,) or (N, K)

    Returns
    -------
    str
        ``"sha256:<64 hex digits>"``.
    """
    labels = np.asarray(labels)
    labels = labels.astype(np.float64 if labels.dtype.kind == "f" else np.int64)
    n = len(images)
    header = {"n": n, "image_shape": list(np.shape(images[0])) if n else [], "labels": list(labels.shape)}
    digest = hashlib.sha256(json.dumps(header, sort_keys=True).encode())
    digest.update(np.ascontiguousarray(labels).tobytes())
    if n:
        picks = np.unique(np.linspace(0, n - 1, min(n, n_sample)).round().astype(int))
        for i in picks:
            try:
                pixels = np.ascontiguousarray(np.asarray(images[int(i)]))
            except CollectionError:  # a damaged image of a folder counts as its position
                digest.update(f"unreadable {int(i)}".encode())
                continue
            digest.update(pixels.dtype.str.encode())
            digest.update(pixels.tobytes())
    return "sha256:" + digest.hexdigest()


def _jsonable(value: Any, keep_nan: bool = False) -> Any:
    """Tuples → lists, numpy scalars/arrays → Python, NaN/inf → None (kept with ``keep_nan``), recursively."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v, keep_nan) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v, keep_nan) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist(), keep_nan)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value) and not keep_nan:
        return None
    return value


def _is_number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return abs(value) < 1e300 and math.isfinite(value)  # the bound first: a huge int has no float


def _is_pos_int(value: Any) -> bool:
    return _is_int(value) and value > 0


def _keras_info() -> tuple[str, str]:
    try:
        import keras
    except ImportError:  # pragma: no cover - keras is a dependency
        return "unknown", "unknown"
    return keras.backend.backend(), keras.__version__


def _galview_version() -> str:
    from galview import __version__

    return __version__

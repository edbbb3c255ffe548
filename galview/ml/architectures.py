"""The seed architectures as flat Keras functional graphs (no nested models: Grad-CAM needs the layers).

Each published system (see ``SEEDS.md``) is a builder ``f(input_shape, n_outputs) -> keras.Model``
plus an :class:`ArchitectureSpec` in :data:`ARCHITECTURES` with its task, default input, classes,
the conv layer Grad-CAM explains and the training :class:`Recipe` of the paper. Builders work for
any input size and channel count large enough for their pooling. Keras is imported inside the
builders so that the registry itself can be read without it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from galview.ml.errors import ModelError

if TYPE_CHECKING:  # the cards (and numpy) load with the first card: ``galview --help`` reads the registry
    from galview.ml.cards import InputSpec, ModelCard

Shape = tuple[int, int, int]


def deepshadows(input_shape: Shape = (64, 64, 3), n_classes: int = 1) -> Any:
    """DeepShadows (Tanoglidis, Ćiprijanović & Drlica-Wagner 2021), as published.

    Three blocks of Conv2D 3×3 (same, ReLU, L2 0.13) → BatchNorm → MaxPool 2 → Dropout 0.4
    with 16, 32, 64 filters; Flatten; Dense 1024 ReLU (L2 0.12); Dense 1 sigmoid, or
    ``n_classes`` softmax for the three-class variant. 4,220,385 parameters at 64×64×3.
    """
    import keras
    from keras import layers, regularizers

    inputs = keras.Input(shape=input_shape, name="cutout")
    x = inputs
    for block, filters in enumerate((16, 32, 64), start=1):
        x = layers.Conv2D(
            filters,
            3,
            padding="same",
            activation="relu",
            kernel_regularizer=regularizers.l2(0.13),
            name=f"conv{block}",
        )(x)
        x = layers.BatchNormalization(name=f"bn{block}")(x)
        x = layers.MaxPooling2D(2, name=f"pool{block}")(x)
        x = layers.Dropout(0.4, name=f"dropout{block}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(1024, activation="relu", kernel_regularizer=regularizers.l2(0.12), name="dense")(x)
    if n_classes == 1:
        outputs = layers.Dense(1, activation="sigmoid", name="probability")(x)
    else:
        outputs = layers.Dense(n_classes, activation="softmax", name="probability")(x)
    return keras.Model(inputs, outputs, name="deepshadows")


def deepmerge(input_shape: Shape = (75, 75, 2), n_outputs: int = 1) -> Any:
    """DeepMerge (Ćiprijanović et al. 2020), reproduced from the published notebook.

    Three blocks Conv2D (8@5×5, 16@3×3, 32@3×3; same, ReLU) → BatchNorm → MaxPool 2 → Dropout 0.5;
    Flatten; Dense 64 → Dense 32 (both L2 1e-4 and, as in the original, *softmax* activations);
    Dense 1 sigmoid. 174,801 parameters at 75×75×2.

    The original ran channels-first ``(N, 2, 75, 75)`` convolutions but left BatchNormalization at
    Keras' default ``axis=-1``, so it normalised each image *column* (the width axis: 75, 37, 18
    features) rather than each channel. We take channels-last ``(N, H, W, C)`` and reproduce that
    with ``axis=2`` (width); it is what gives the published 174,801 parameters.
    """
    import keras
    from keras import layers, regularizers

    inputs = keras.Input(shape=input_shape, name="cutout")
    x = inputs
    for block, (filters, kernel) in enumerate(((8, 5), (16, 3), (32, 3)), start=1):
        x = layers.Conv2D(filters, kernel, padding="same", activation="relu", name=f"conv{block}")(x)
        x = layers.BatchNormalization(axis=2, name=f"bn{block}")(x)
        x = layers.MaxPooling2D(2, name=f"pool{block}")(x)
        x = layers.Dropout(0.5, name=f"dropout{block}")(x)
    x = layers.Flatten(name="flatten")(x)
    for index, units in enumerate((64, 32), start=1):
        x = layers.Dense(
            units, activation="softmax", kernel_regularizer=regularizers.l2(1e-4), name=f"dense{index}"
        )(x)
    outputs = _head(layers, x, n_outputs, multilabel=False)
    return keras.Model(inputs, outputs, name="deepmerge")


def uwa_shapes(input_shape: Shape = (50, 50, 1), n_outputs: int = 3) -> Any:
    """UWA thesis shape classifier (oval / rectangular / obround) on 50×50×1 density maps.

    Conv2D 32@3×3 → Conv2D 64@3×3 (both valid, ReLU) → MaxPool 2 → Dropout 0.25 → Flatten →
    Dense 128 ReLU → Dropout 0.5 → Dense softmax: the classic Keras ``mnist_cnn`` layout the thesis
    describes. 4,352,899 parameters at 50×50×1.
    """
    import keras
    from keras import layers

    inputs = keras.Input(shape=input_shape, name="cutout")
    x = layers.Conv2D(32, 3, activation="relu", name="conv1")(inputs)
    x = layers.Conv2D(64, 3, activation="relu", name="conv2")(x)
    x = layers.MaxPooling2D(2, name="pool")(x)
    x = layers.Dropout(0.25, name="dropout1")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(128, activation="relu", name="dense")(x)
    x = layers.Dropout(0.5, name="dropout2")(x)
    outputs = _head(layers, x, n_outputs, multilabel=False)
    return keras.Model(inputs, outputs, name="uwa_shapes")


def galaxyid(input_shape: Shape = (64, 64, 1), n_outputs: int = 37) -> Any:
    """GalaxyID Galaxy Zoo 2 regressor: 37 sigmoid vote fractions from 64×64 greyscale.

    Conv 64 (same) → Pool → Conv 128 (valid) → Pool → Conv 256 (same) → Conv 256 (same) → Pool →
    Flatten → Dropout 0.5 → Dense 2048 ReLU → Dropout 0.5 → Dense 2048 ReLU → Dropout 0.25 →
    Dense 37 sigmoid. All kernels 3×3 with ReLU (the project's ``src/model.py``; the README gives
    no sizes). 30,924,069 parameters at 64×64×1.
    """
    import keras
    from keras import layers

    inputs = keras.Input(shape=input_shape, name="cutout")
    x = layers.Conv2D(64, 3, padding="same", activation="relu", name="conv1")(inputs)
    x = layers.MaxPooling2D(2, name="pool1")(x)
    x = layers.Conv2D(128, 3, activation="relu", name="conv2")(x)
    x = layers.MaxPooling2D(2, name="pool2")(x)
    x = layers.Conv2D(256, 3, padding="same", activation="relu", name="conv3")(x)
    x = layers.Conv2D(256, 3, padding="same", activation="relu", name="conv4")(x)
    x = layers.MaxPooling2D(2, name="pool3")(x)
    x = layers.Flatten(name="flatten")(x)
    for index, (rate, units) in enumerate(((0.5, 2048), (0.5, 2048)), start=1):
        x = layers.Dropout(rate, name=f"dropout{index}")(x)
        x = layers.Dense(units, activation="relu", name=f"dense{index}")(x)
    x = layers.Dropout(0.25, name="dropout3")(x)
    outputs = _head(layers, x, n_outputs, multilabel=True)
    return keras.Model(inputs, outputs, name="galaxyid")


def _head(layers: Any, x: Any, n_outputs: int, multilabel: bool) -> Any:
    """Output layer ``probability``: one sigmoid, ``n`` softmax, or ``n`` sigmoid (multilabel)."""
    activation = "sigmoid" if n_outputs == 1 or multilabel else "softmax"
    return layers.Dense(n_outputs, activation=activation, name="probability")(x)


@dataclass(frozen=True)
class Recipe:
    """How a seed model was trained. ``patience`` drives GalView's early stopping on ``monitor``."""

    optimizer: str
    learning_rate: float
    loss: str
    batch_size: int
    epochs: int
    patience: int
    monitor: str = "val_loss"
    metrics: tuple[str, ...] = ("accuracy",)

    def make_optimizer(self, weight_average: float = 0.0, decay_steps: int | None = None) -> Any:
        """A fresh Keras optimizer (``adadelta`` or ``adam``) at ``learning_rate``.

        ``weight_average`` > 0 keeps an exponential moving average of the weights with that momentum
        (Keras' ``use_ema``); 0 keeps none. ``decay_steps``: the rate falls from ``learning_rate`` to 0
        along a cosine over that many batches; None keeps it constant.
        """
        import keras

        optimizers = {"adadelta": keras.optimizers.Adadelta, "adam": keras.optimizers.Adam}
        if self.optimizer not in optimizers:
            raise ModelError(self.optimizer, f"unknown optimizer; expected one of {sorted(optimizers)}")
        if not 0.0 <= weight_average < 1.0:
            raise ValueError(f"weight-average momentum {weight_average} must be in [0, 1)")
        averaging = {"use_ema": True, "ema_momentum": weight_average} if weight_average else {}
        rate = self.learning_rate
        if decay_steps is not None:
            if decay_steps < 1:
                raise ValueError(f"a cosine decay needs at least one step, not {decay_steps}")
            rate = keras.optimizers.schedules.CosineDecay(
                self.learning_rate, decay_steps=decay_steps, alpha=0.0
            )
        return optimizers[self.optimizer](learning_rate=rate, **averaging)


@dataclass(frozen=True)
class ArchitectureSpec:
    """One registered architecture: builder, task, defaults and training recipe.

    ``default_dtype``/``default_scale``/``default_bands`` describe the data the paper trained on.
    """

    name: str
    build: Callable[[Shape, int], Any]
    task: str
    default_input_shape: Shape
    default_class_names: tuple[str, ...]
    explain_layer: str
    recipe: Recipe
    default_bands: tuple[str, ...] = ()
    default_dtype: str = "float32"
    default_scale: str = "none"
    reference: str = ""

    @property
    def default_n_outputs(self) -> int:
        """1 for binary (one sigmoid), else one output per class name."""
        return 1 if self.task == "binary" else len(self.default_class_names)

    def input_spec(self, input_shape: Shape | None = None) -> InputSpec:
        """The :class:`InputSpec` of the data the paper used (bands kept only if channels match)."""
        from galview.ml.cards import InputSpec

        shape = tuple(input_shape or self.default_input_shape)
        bands = self.default_bands if len(self.default_bands) == shape[2] else ()
        return InputSpec(shape=shape, bands=bands, dtype=self.default_dtype, scale=self.default_scale)

    def card(self, **fields: Any) -> ModelCard:
        """A :class:`ModelCard` with this architecture's defaults; ``fields`` override them."""
        from galview.ml.cards import ModelCard

        defaults = {
            "architecture": self.name,
            "task": self.task,
            "class_names": self.default_class_names,
            "input": self.input_spec(),
            "explain_layer": self.explain_layer,
        }
        return ModelCard(**{**defaults, **fields})


GZ2_ANSWERS = (
    "t01_smooth", "t01_features_or_disk", "t01_star_or_artifact", "t02_edgeon_yes", "t02_edgeon_no",
    "t03_bar", "t03_no_bar", "t04_spiral", "t04_no_spiral", "t05_no_bulge", "t05_just_noticeable",
    "t05_obvious", "t05_dominant", "t06_odd_yes", "t06_odd_no", "t07_completely_round",
    "t07_in_between", "t07_cigar_shaped", "t08_ring", "t08_lens_or_arc", "t08_disturbed",
    "t08_irregular", "t08_other", "t08_merger", "t08_dust_lane", "t09_rounded", "t09_boxy",
    "t09_no_bulge", "t10_tight", "t10_medium", "t10_loose", "t11_1", "t11_2", "t11_3", "t11_4",
    "t11_more_than_4", "t11_cant_tell",
)  # fmt: skip
"""The 37 Galaxy Zoo 2 decision-tree answers (Willett et al. 2013), in table order."""


def _deepshadows_binary(input_shape: Shape, n_outputs: int = 1) -> Any:
    return deepshadows(input_shape, n_classes=n_outputs)


def _deepshadows3(input_shape: Shape, n_outputs: int = 3) -> Any:
    return deepshadows(input_shape, n_classes=n_outputs)


_DEEPSHADOWS = "Tanoglidis, Ćiprijanović & Drlica-Wagner 2021, Astronomy & Computing 35, 100469"
ARCHITECTURES: dict[str, ArchitectureSpec] = {
    spec.name: spec
    for spec in (
        ArchitectureSpec(
            "deepshadows", _deepshadows_binary, "binary", (64, 64, 3),
            ("artifact", "LSBG"), "conv3",
            Recipe("adadelta", 0.1, "binary_crossentropy", batch_size=64, epochs=100, patience=10),
            default_bands=("R", "G", "B"), default_dtype="uint8", default_scale="divide255",
            reference=_DEEPSHADOWS,
        ),
        ArchitectureSpec(
            "deepshadows-3class", _deepshadows3, "multiclass", (64, 64, 3),
            ("artifact type 1", "artifact type 2", "LSBG"), "conv3",
            Recipe("adadelta", 0.1, "sparse_categorical_crossentropy", 64, 100, 10),
            default_bands=("R", "G", "B"), default_dtype="uint8", default_scale="divide255",
            reference=_DEEPSHADOWS + ", appendix A",
        ),
        ArchitectureSpec(
            "deepmerge", deepmerge, "binary", (75, 75, 2), ("non-merger", "merger"), "conv3",
            Recipe("adam", 1e-3, "binary_crossentropy", batch_size=128, epochs=500, patience=50),
            default_bands=("F814W", "F160W"),
            reference="Ćiprijanović et al. 2020, Astronomy & Computing 32, 100390",
        ),
        ArchitectureSpec(
            "uwa-shapes", uwa_shapes, "multiclass", (50, 50, 1), ("oval", "rectangular", "obround"),
            "conv2",
            Recipe("adadelta", 1.0, "sparse_categorical_crossentropy", 128, epochs=1000, patience=20),
            default_bands=("density",), reference="UWA Master's thesis (Bekki simulations)",
        ),
        ArchitectureSpec(
            "galaxyid", galaxyid, "multilabel", (64, 64, 1), GZ2_ANSWERS, "conv4",
            Recipe("adam", 1e-3, "binary_crossentropy", 32, epochs=25, patience=20, metrics=("mse",)),
            default_bands=("grey",), default_dtype="uint8", default_scale="divide255",
            reference="GalaxyID (Galaxy Zoo 2, Kaggle images)",
        ),
    )
}  # fmt: skip
"""Registry of the seed architectures by name.

Recipe notes: DeepShadows trained 100 epochs without early stopping; GalView stops after 10 epochs
without improvement. The three-class variant used ``categorical_crossentropy`` on one-hot labels;
``sparse_categorical_crossentropy`` on class indices is the same loss. The UWA thesis used Adadelta
with Keras' then default learning rate 1.0 (Keras 3's default, 0.001, would barely train), 1000 epochs;
its batch size (128, as ``mnist_cnn``) and patience are GalView's choices.
"""


def get_architecture(name: str) -> ArchitectureSpec:
    """The registered spec called ``name``; ModelError listing the known names otherwise."""
    try:
        return ARCHITECTURES[name]
    except (KeyError, TypeError):
        known = ", ".join(sorted(ARCHITECTURES))
        raise ModelError(str(name), f"unknown architecture; known architectures: {known}") from None


def build_model(name: str, input_shape: Shape | None = None, n_outputs: int | None = None) -> Any:
    """Build a fresh, untrained registered architecture.

    Parameters
    ----------
    name : str
        A key of :data:`ARCHITECTURES`.
    input_shape : tuple of int, optional
        ``(H, W, C)`` channels last; defaults to the paper's.
    n_outputs : int, optional
        Output width; defaults to 1 (binary) or the number of default classes.

    Returns
    -------
    keras.Model
        A flat functional model whose output layer is named ``probability``.
    """
    spec = get_architecture(name)
    shape = tuple(input_shape or spec.default_input_shape)
    outputs = n_outputs if n_outputs is not None else spec.default_n_outputs
    if len(shape) != 3 or not all(isinstance(s, int) and s > 0 for s in shape):
        raise ModelError(name, f"input_shape must be (H, W, C) positive integers, got {shape!r}")
    if not isinstance(outputs, int) or outputs < 1:
        raise ModelError(name, f"n_outputs must be a positive integer, got {outputs!r}")
    try:
        return spec.build(shape, outputs)
    except ValueError as exc:  # Keras refuses shapes that pool away to nothing
        size = "×".join(map(str, shape))
        raise ModelError(name, f"cannot build for {size} inputs: too small for its pooling") from exc

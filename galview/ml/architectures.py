"""The seed architectures as flat Keras functional graphs (no nested models: Grad-CAM needs the layers)."""

from __future__ import annotations


def deepshadows(input_shape=(64, 64, 3), n_classes: int = 1):
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

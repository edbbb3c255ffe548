"""Feature alignment with unlabelled real cutouts (issue 14, lever "domain-adversarial or feature alignment").

    python benchmarks/diag_feature_alignment.py --sim SIM.h5 --test-sim TEST.h5 [--weight W | --weight auto]
        [--epochs 3] [--context-swap 0.9] -o OUT_DIR

Fine-tunes the shipped model on simulated cutouts (labels from the simulator) while pulling the
penultimate features of real cutouts towards those of the simulations: deep CORAL (Sun & Saenko 2016),
the squared difference of the two feature means and covariances in each batch, added to the
classification loss with weight ``W``. The real cutouts (``--real``, default the 112 DES ones) enter
**without their labels**, flipped and turned at random; their labels are read only at the end, to
measure. ``--weight 0`` is the control: the same extra epochs without alignment. ``auto`` sets the
weight so that the alignment term starts as large as the classification loss (label-free).

``--adversarial W`` trains against a small domain discriminator behind a gradient reversal instead
(DANN, Ganin et al. 2016), the halves as one batch, with loss weight ``W``.

Writes ``OUT_DIR/model.keras`` with the shipped model's card (its description says what was done) and
prints, before and after: a domain classifier's ROC AUC on the penultimate features (simulated test
cutouts against real ones, 5-fold logistic regression; 0.5 = the features cannot tell them apart),
accuracy on the simulated test file, and the real figures of ``diag_sim_to_real.real_figures`` (centrality,
accuracy all / outside group B / group B). Runs under any Keras backend.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import keras
import numpy as np
from keras import ops

sys.path.insert(0, str(Path(__file__).resolve().parent))

from diag_sim_to_real import REAL, real_figures  # noqa: E402

from galview.assets import default_model_path  # noqa: E402
from galview.ml.augment import dihedral, swap_surroundings  # noqa: E402
from galview.ml.inputs import model_input  # noqa: E402
from galview.ml.loading import load_model  # noqa: E402
from galview.ml.scoring import embedding_model  # noqa: E402


def coral(features_sim, features_real):
    """Mean and covariance mismatch of two (B, D) feature batches, scaled by D and D²."""
    d = ops.cast(ops.shape(features_sim)[1], "float32")

    def moments(f):
        mean = ops.mean(f, axis=0, keepdims=True)
        centred = f - mean
        n = ops.cast(ops.shape(f)[0], "float32")
        return mean, ops.matmul(ops.transpose(centred), centred) / (n - 1.0)

    mean_s, cov_s = moments(features_sim)
    mean_r, cov_r = moments(features_real)
    return ops.sum(ops.square(mean_s - mean_r)) / d + ops.sum(ops.square(cov_s - cov_r)) / (d * d)


def alignment_loss(_y_true, y_pred):
    """``y_pred`` (B, 2, D): simulated features in [:, 0], real in [:, 1]; one value per row."""
    value = coral(y_pred[:, 0, :], y_pred[:, 1, :])
    return ops.ones_like(y_pred[:, 0, 0]) * value


class PairedBatches(keras.utils.PyDataset):
    """Batches of simulated cutouts (labels, flips, turns, context swap) paired with real ones (no labels)."""

    def __init__(self, sim_images, sim_labels, real_images, spec, batch, swap, seed):
        super().__init__()
        self.sim_images, self.sim_labels, self.real_images = sim_images, sim_labels, real_images
        self.spec, self.batch, self.swap = spec, batch, swap
        self.rng = np.random.default_rng(seed)
        self.order = self.rng.permutation(len(sim_labels))

    def __len__(self):
        return len(self.sim_labels) // self.batch

    def __getitem__(self, k):
        chosen = np.sort(self.order[k * self.batch : (k + 1) * self.batch])
        sim = dihedral(self.sim_images[chosen], self.rng.integers(0, 8, len(chosen)))
        if self.swap:
            sim = swap_surroundings(sim, self.rng, self.swap)
        real_idx = self.rng.integers(0, len(self.real_images), self.batch)
        real = dihedral(self.real_images[real_idx], self.rng.integers(0, 8, self.batch))
        x_sim = model_input(sim, self.spec)
        x_real = model_input(real, self.spec)
        y = self.sim_labels[chosen].astype("float32")[:, None]
        return (x_sim, x_real), (y, np.zeros((self.batch, 1), "float32"))

    def on_epoch_end(self):
        self.order = self.rng.permutation(len(self.sim_labels))


class MixStyle(keras.layers.Layer):
    """In training, with probability ``p`` per batch, each cutout's channel means and spreads (its
    "style": colour, contrast, noise level) become a Beta(α, α) mix of its own and another cutout's
    (Zhou et al. 2021); the identity at inference. It has no weights, so the saved model is the plain one."""

    def __init__(self, p: float = 0.5, alpha: float = 0.1, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.p, self.alpha = p, alpha
        self.generator = keras.random.SeedGenerator(seed)

    def call(self, x, training=None):
        if not training:
            return x
        n = ops.shape(x)[0]
        mean = ops.stop_gradient(ops.mean(x, axis=(1, 2), keepdims=True))
        spread = ops.stop_gradient(ops.sqrt(ops.var(x, axis=(1, 2), keepdims=True) + 1e-6))
        weight = keras.random.beta((n, 1, 1, 1), self.alpha, self.alpha, seed=self.generator)
        other = keras.random.shuffle(ops.arange(n), seed=self.generator)
        mixed_mean = weight * mean + (1 - weight) * ops.take(mean, other, axis=0)
        mixed_spread = weight * spread + (1 - weight) * ops.take(spread, other, axis=0)
        mixed = (x - mean) / spread * mixed_spread + mixed_mean
        return ops.where(keras.random.uniform((), seed=self.generator) < self.p, mixed, x)


def mixstyle_embedding_model(base, p: float, after=("bn1", "bn2")):
    """(penultimate features, output) of ``base`` with :class:`MixStyle` after the named layers; the
    layers (and so the weights) are ``base``'s own. DeepShadows is a chain of layers, rebuilt in order."""
    from galview.ml.scoring import penultimate_layer

    penultimate = penultimate_layer(base)
    x = inputs = keras.Input(tuple(base.input.shape[1:]))
    for k, layer in enumerate(base.layers[1:]):
        x = layer(x)
        if layer.name in after:
            x = MixStyle(p, seed=k, name=f"mixstyle_{layer.name}")(x)
        if layer is penultimate:
            features = x
    return keras.Model(inputs, [features, x], name=f"{base.name}_mixstyle")


def paired_model(base, joint: bool = False, adversarial: bool = False, both=None):
    """Two inputs (simulated, real) → (P(LSBG) of the simulated, stacked features of both).

    ``joint``: both halves go through the network as one batch, so batch normalisation sees them
    together (as at inference, where its statistics are shared); otherwise each half is its own batch
    and normalised by its own statistics in training. ``adversarial``: instead of the stacked
    features, a small discriminator's P(real) of both halves, behind a gradient reversal (DANN).
    """
    both = both or embedding_model(base)
    shape = tuple(base.input.shape[1:])
    x_sim, x_real = keras.Input(shape, name="sim"), keras.Input(shape, name="real")
    flat = keras.layers.Flatten()
    if joint:
        joined = keras.layers.Concatenate(axis=0, name="joined")([x_sim, x_real])
        f_all, p_all = both(joined)
        f_all = flat(f_all)
        split = keras.layers.Lambda(lambda t: ops.split(t, 2, axis=0), name="halves")
        f_sim, f_real = split(f_all)
        p_sim = keras.layers.Lambda(lambda t: ops.split(t, 2, axis=0)[0], name="probability_sim")(p_all)
    else:
        f_sim, p_sim = both(x_sim)
        f_real, _ = both(x_real)
        f_sim, f_real = flat(f_sim), flat(f_real)
    if adversarial:
        # gradient reversal: the identity forward, the negative gradient backward (any backend)
        reverse = keras.layers.Lambda(lambda t: ops.stop_gradient(2.0 * t) - t, name="reverse_gradient")
        hidden = keras.layers.Dense(64, activation="relu", name="domain_hidden")
        judge = keras.layers.Dense(1, activation="sigmoid", name="domain_probability")
        d_sim, d_real = judge(hidden(reverse(f_sim))), judge(hidden(reverse(f_real)))
        pair = keras.layers.Concatenate(axis=1, name="domain")([d_sim, d_real])
        return keras.Model([x_sim, x_real], [p_sim, pair])
    stacked = keras.layers.Lambda(lambda fs: ops.stack(fs, axis=1), name="features")([f_sim, f_real])
    return keras.Model([x_sim, x_real], [p_sim, stacked])


def domain_loss(_y_true, y_pred):
    """``y_pred`` (B, 2): the discriminator's P(real) of the simulated and of the real half."""
    p = ops.clip(y_pred, 1e-6, 1 - 1e-6)
    return -(ops.log(1.0 - p[:, 0]) + ops.log(p[:, 1])) / 2.0


def features(loaded, images):
    emb, out = embedding_model(loaded.model).predict(
        model_input(images, loaded.card.input), batch_size=256, verbose=0
    )
    return emb.reshape(len(emb), -1), out[:, 0]


def domain_auc(sim_features, real_features, seed=0) -> float:
    """5-fold ROC AUC of a logistic regression telling real (1) from simulated (0) features."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x = np.concatenate([sim_features, real_features])
    y = np.r_[np.zeros(len(sim_features)), np.ones(len(real_features))]
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000))
    folds = StratifiedKFold(5, shuffle=True, random_state=seed)
    scores = cross_val_predict(model, x, y, cv=folds, method="predict_proba")[:, 1]
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, scores))


def summary(loaded, test_images, test_labels, real_images) -> dict:
    f_sim, p_sim = features(loaded, test_images)
    f_real, _ = features(loaded, real_images)
    figures = real_figures(loaded, REAL)
    return {
        "domain_auc": domain_auc(f_sim, f_real),
        "sim_test_accuracy": float(((p_sim > 0.5) == (test_labels == 1)).mean()),
        "real": figures,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=default_model_path())
    parser.add_argument("--sim", type=Path, required=True, help="simulated training cutouts (HDF5)")
    parser.add_argument("--test-sim", type=Path, required=True, help="other simulated cutouts to measure on")
    parser.add_argument("--real", type=Path, default=REAL, help="real cutouts, used unlabelled in training")
    parser.add_argument("--weight", default="auto", help="weight of the alignment term, or 'auto'")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=1e-4)
    parser.add_argument("--context-swap", type=float, default=0.9)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--adversarial",
        type=float,
        default=0.0,
        help="weight of a domain discriminator behind gradient reversal (DANN) instead of CORAL; implies --joint",
    )
    parser.add_argument(
        "--joint",
        action="store_true",
        help="simulated and real halves as one batch (shared batch-norm statistics)",
    )
    parser.add_argument(
        "--ema",
        type=float,
        default=0.0,
        help="keep an exponential moving average of the weights with this momentum and save it (0: off)",
    )
    parser.add_argument(
        "--mixstyle",
        type=float,
        default=0.0,
        help="mix the channel statistics of cutouts after bn1 and bn2 in training with this probability "
        "per batch (MixStyle; 0: off)",
    )
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args()

    import h5py

    keras.utils.set_random_seed(args.seed)
    parent = load_model(args.model)
    spec = parent.card.input
    with h5py.File(args.sim, "r") as f:
        sim_images, sim_labels = f["images"][:], f["labels"][:].astype(int)
    with h5py.File(args.test_sim, "r") as f:
        test_images, test_labels = f["images"][:], f["labels"][:].astype(int)
    real_images = np.load(args.real, allow_pickle=False)["images"]

    before = summary(parent, test_images, test_labels, real_images)
    print("before", json.dumps(_short(before)), flush=True)

    base = keras.models.clone_model(parent.model)
    base.set_weights(parent.model.get_weights())
    args.joint = args.joint or bool(args.adversarial)
    both = mixstyle_embedding_model(base, args.mixstyle) if args.mixstyle else None
    model = paired_model(base, args.joint, bool(args.adversarial), both)
    data = PairedBatches(sim_images, sim_labels, real_images, spec, args.batch, args.context_swap, args.seed)
    if args.adversarial:
        weight = args.adversarial
    elif args.weight == "auto":
        (x_sim, x_real), _ = data[0]
        f_sim, _ = embedding_model(base).predict(x_sim, verbose=0)
        f_real, _ = embedding_model(base).predict(x_real, verbose=0)
        start = float(
            coral(
                ops.convert_to_tensor(f_sim.reshape(len(f_sim), -1)),
                ops.convert_to_tensor(f_real.reshape(len(f_real), -1)),
            )
        )
        p = parent.model.predict(x_sim, verbose=0)[:, 0]
        y = data[0][1][0][:, 0]
        bce = float(-np.mean(y * np.log(np.clip(p, 1e-7, 1)) + (1 - y) * np.log(np.clip(1 - p, 1e-7, 1))))
        weight = bce / max(start, 1e-12)
        print(f"alignment term at the start {start:.4g}, classification loss {bce:.3f}: weight {weight:.4g}")
    else:
        weight = float(args.weight)
    model.compile(
        optimizer=keras.optimizers.Adam(
            args.learning_rate, use_ema=args.ema > 0, ema_momentum=args.ema or 0.99
        ),
        loss=["binary_crossentropy", domain_loss if args.adversarial else alignment_loss],
        loss_weights=[1.0, weight],
    )
    started = time.time()
    history = model.fit(data, epochs=args.epochs, verbose=2)
    seconds = time.time() - started

    args.output.mkdir(parents=True, exist_ok=True)
    path = args.output / "model.keras"
    base.save(path)
    card = json.loads(parent.path.with_suffix(".json").read_text())
    card["description"] = (
        f"{card.get('description', '')} Then {args.epochs} epochs of fine-tuning on {args.sim.name} with deep "
        f"{'(joint-batch) ' if args.joint else ''}"
        f"{'adversarial (DANN)' if args.adversarial else 'CORAL'} alignment (weight {weight:.4g}) to the "
        f"unlabelled real cutouts of {args.real.name} "
        "(benchmarks/diag_feature_alignment.py; their labels were not used)."
    ).strip()
    path.with_suffix(".json").write_text(json.dumps(card, indent=2) + "\n")
    after = summary(load_model(path), test_images, test_labels, real_images)
    print("after ", json.dumps(_short(after)), flush=True)
    record = {
        "args": {k: str(v) for k, v in vars(args).items()},
        "weight": weight,
        "seconds": seconds,
        "history": history.history,
        "before": before,
        "after": after,
    }
    (args.output / "alignment.json").write_text(json.dumps(record, indent=2, default=float) + "\n")
    shutil.copy(__file__, args.output / "script.py")


def _short(summary_: dict) -> dict:
    real = summary_["real"]
    central = real["centrality"]
    keep = {
        "domain_auc": round(summary_["domain_auc"], 3),
        "sim_test": round(summary_["sim_test_accuracy"], 3),
        "centrality": f"{central['fraction']:.3f} of {central['n_confident']} ({central['median_distance']:.1f} px)",
    }
    for name, row in real["groups"].items():
        if name in ("all", "outside B", "B_model_eval_panels"):
            keep[name] = f"{row['accuracy']:.3f} AUC {row['roc_auc']:.3f}"
    return keep


if __name__ == "__main__":
    main()

"""Label noise as in DeepShadows' table (issue 6): does the suspected-errors queue find flipped labels?

Simulates (or reuses) a labelled DES-like set and a clean test set of another seed, flips
``--noise`` of the training labels at random, computes out-of-sample probabilities with the
``cnn`` method (a fresh DeepShadows per fold, k folds) and the ``head`` method (logistic regression
on the shipped model's embeddings), ranks suspects by confident learning and reports the recall
curve: the fraction of flipped labels found in the first 5/10/15/20/30% of the queue (goal: >= 80%
within 15%). Then it trains DeepShadows once on the noisy labels and once after an astronomer
(simulated with the truth) reviewed the first 15% of the cnn queue, and compares both on the clean
test set with bootstrap 95% intervals.

Writes ``recall_curve.csv``, ``probabilities.npz`` (the out-of-sample probabilities) and
``summary.json`` to ``--out`` (under bench_data/, gitignored).

Run: ``nohup python benchmarks/bench_label_noise.py > bench_data/label_noise.log 2>&1 &``
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path

import numpy as np

FRACTIONS = (0.05, 0.10, 0.15, 0.20, 0.30)
#: The name of the fully out-of-sample queue in the results (absent with ``--head-only``).
CNN_QUEUE = "cnn (fresh DeepShadows per fold)"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4000, help="labelled cutouts (first n of the train file)")
    parser.add_argument("--noise", type=float, default=0.10, help="fraction of labels flipped")
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=20, help="at most, per fold and per final model")
    parser.add_argument("--patience", type=int, default=5)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1.0, help="Adadelta learning rate (recipe: 0.1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--train-file", default="bench_data/label_noise/des_sim_8k_seed11.h5")
    parser.add_argument("--train-seed", type=int, default=11, help="simulation seed if the file is made")
    parser.add_argument("--test-file", default="bench_data/label_noise/des_sim_2k_seed12.h5")
    parser.add_argument("--test-seed", type=int, default=12)
    parser.add_argument("--model", default="models/deepshadows_des_sim.keras", help="for the head method")
    parser.add_argument("--out", default="bench_data/label_noise")
    parser.add_argument("--clean-reference", action="store_true", help="also train on the true labels")
    parser.add_argument("--no-retrain", action="store_true", help="only the queues, no noisy/fixed models")
    parser.add_argument(
        "--head-only",
        action="store_true",
        help="only the head method's queue (seconds; implies --no-retrain)",
    )
    return parser.parse_args(argv)


def ensure_simulation(path: str, n: int, seed: int) -> Path:
    """The simulated DES-like file at ``path``, written first if missing."""
    from galview.sim.generate import write_simulation
    from galview.sim.surveys import SURVEYS

    path = Path(path)
    if not path.is_file():
        print(f"simulating {n} DES-like cutouts, seed {seed} -> {path}", flush=True)
        write_simulation(path, SURVEYS["des"], n, seed)
    return path


def noisy_labels(truth: np.ndarray, n: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Labels (N,) float: the first ``n`` true labels with ``noise`` of them flipped, NaN after."""
    rng = np.random.default_rng(seed)
    labels = np.full(len(truth), np.nan)
    labels[:n] = truth[:n]
    flipped = np.sort(rng.choice(n, int(round(noise * n)), replace=False))
    labels[flipped] = 1 - labels[flipped]
    return labels, flipped


def recall_at(order: np.ndarray, flipped: np.ndarray, fraction: float) -> float:
    """Fraction of ``flipped`` among the first ``fraction`` of the queue ``order``."""
    reviewed = order[: int(round(fraction * len(order)))]
    return float(np.isin(flipped, reviewed).mean())


def progress_printer(name: str, every: float = 0.05):
    """An ``on_progress`` that prints at most every ``every`` of the way, with elapsed time."""
    started, last = time.monotonic(), [-1.0]

    def report(progress) -> None:
        if progress.fraction - last[0] >= every or progress.done == progress.total:
            last[0] = progress.fraction
            values = " ".join(f"{k} {v:.3f}" for k, v in progress.values.items() if isinstance(v, float))
            elapsed = time.monotonic() - started
            print(
                f"  [{name}] {elapsed:6.0f} s {progress.fraction:5.1%} {progress.message} {values}",
                flush=True,
            )

    return report


def run_method(name, collection, labels, truth, flipped, **options) -> dict:
    """Out-of-sample probabilities, the ranking and its figures for one method."""
    from galview.ml.suspects import out_of_sample_probabilities, suspects_from_probabilities

    started = time.monotonic()
    probs = out_of_sample_probabilities(collection, labels, on_progress=progress_printer(name), **options)
    seconds = time.monotonic() - started
    order, scores, flagged = suspects_from_probabilities(labels, probs)
    used = np.isfinite(labels)
    predicted = probs[used].argmax(axis=1)
    is_flipped = np.isin(np.arange(len(labels)), flipped)
    return {
        "probs": probs,
        "order": order,
        "flagged": flagged,
        "seconds": seconds,
        "recall": {f: recall_at(order, flipped, f) for f in FRACTIONS},
        "n_flagged": int(flagged.sum()),
        "flagged_precision": float(is_flipped[flagged].mean()) if flagged.any() else float("nan"),
        "flagged_recall": float(flagged[flipped].mean()),
        "oos_accuracy_vs_truth": float((predicted == truth[used]).mean()),
        "oos_accuracy_vs_given": float((predicted == labels[used]).mean()),
    }


def cleanlab_agreement(labels: np.ndarray, probs: np.ndarray, flagged: np.ndarray) -> dict | None:
    """How our flagged set compares with ``cleanlab.filter.find_label_issues`` (None without cleanlab)."""
    try:
        from cleanlab.filter import find_label_issues
    except ImportError:
        return None
    used = np.flatnonzero(np.isfinite(labels))
    theirs = find_label_issues(labels[used].astype(int), probs[used], n_jobs=1)
    ours = flagged[used]
    union = int((ours | theirs).sum())
    return {
        "ours": int(ours.sum()),
        "cleanlab": int(theirs.sum()),
        "both": int((ours & theirs).sum()),
        "jaccard": float((ours & theirs).sum() / union) if union else 1.0,
    }


def train_and_test(name, collection, labels, test, args, out: Path) -> dict:
    """Train DeepShadows on ``labels`` (NaN left out), then measure it on the clean ``test`` set."""
    from galview.core.scores import is_positive
    from galview.ml.metrics import binary_metrics
    from galview.ml.scoring import score_batches
    from galview.ml.training import TrainConfig, train_model

    config = TrainConfig(
        architecture="deepshadows",
        epochs=args.epochs,
        batch_size=args.batch,
        learning_rate=args.lr,
        patience=args.patience,
        val_split=0.1,
        test_split=0.0,
        seed=args.seed,
    )
    started = time.monotonic()
    train_labels = np.where(np.isfinite(labels), labels, -1)  # -1: left out, as "unsure"
    loaded = train_model(
        collection,
        config,
        out / f"model_{name}.keras",
        labels=train_labels,
        on_progress=progress_printer(name),
    )
    seconds = time.monotonic() - started
    probs = np.concatenate([b.probs[:, 0] for b in score_batches(loaded, test, batch_size=512)])
    truth = np.asarray(test.labels, dtype=np.int64)
    metrics = binary_metrics(truth, probs)
    return {
        "metrics": metrics,
        "correct": is_positive(probs) == truth,
        "seconds": seconds,
        "epochs_run": loaded.card.training["epochs_run"],
    }


def paired_difference(correct_a: np.ndarray, correct_b: np.ndarray, n_boot: int = 1000, seed: int = 0):
    """Accuracy of b minus a on the same test cutouts, with a paired bootstrap 95% interval."""
    rng = np.random.default_rng(seed)
    diff = correct_b.astype(float) - correct_a.astype(float)
    draws = [diff[rng.integers(0, len(diff), len(diff))].mean() for _ in range(n_boot)]
    return float(diff.mean()), tuple(float(v) for v in np.percentile(draws, [2.5, 97.5]))


def write_curve(path: Path, results: dict, flipped: np.ndarray) -> None:
    """Recall at every 1% of the queue reviewed, one column per method."""
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["fraction_reviewed", *(f"recall_{name}" for name in results)])
        for percent in range(0, 101):
            row = [recall_at(r["order"], flipped, percent / 100) for r in results.values()]
            writer.writerow([f"{percent / 100:.2f}", *(f"{v:.4f}" for v in row)])


def print_tables(args, results: dict, trained: dict, difference, n_fixed: int, n_reviewed: int) -> None:
    print(f"\n## Label noise: {args.n} simulated DES-like cutouts, {args.noise:.0%} flipped\n")
    print("| method | " + " | ".join(f"first {f:.0%}" for f in FRACTIONS) + " | flagged (precision) | time |")
    print("|---|" + "---|" * (len(FRACTIONS) + 2))
    for name, r in results.items():
        cells = " | ".join(f"{r['recall'][f]:.1%}" for f in FRACTIONS)
        flagged = f"{r['n_flagged']} ({r['flagged_precision']:.1%})"
        print(f"| {name} | {cells} | {flagged} | {r['seconds']:.0f} s |")
    if n_reviewed:
        print(
            f"\nReviewed the first 15% of the cnn queue ({n_reviewed}): {n_fixed} flipped labels corrected.\n"
        )
    if not trained:
        return
    print("| trained on | test accuracy [95% CI] | ROC AUC [95% CI] | epochs | time |")
    print("|---|---|---|---|---|")
    for name, t in trained.items():
        m = t["metrics"]
        acc, auc = m["ci95"]["accuracy"], m["ci95"]["roc_auc"]
        print(
            f"| {name} | {m['accuracy']:.3f} [{acc[0]:.3f}, {acc[1]:.3f}] | "
            f"{m['roc_auc']:.3f} [{auc[0]:.3f}, {auc[1]:.3f}] | {t['epochs_run']} | {t['seconds']:.0f} s |"
        )
    low, high = difference[1]
    print(f"\nfixed - noisy accuracy: {difference[0]:+.3f} [{low:+.3f}, {high:+.3f}] (paired bootstrap)")


def summary(args, results, trained, difference, agreement, n_fixed, n_reviewed, total_seconds) -> dict:
    """The figures as plain JSON (no arrays)."""
    methods = {
        name: {k: v for k, v in r.items() if k not in ("probs", "order", "flagged")}
        for name, r in results.items()
    }
    models = {
        name: {"metrics": t["metrics"], "seconds": t["seconds"], "epochs_run": t["epochs_run"]}
        for name, t in trained.items()
    }
    return {
        "settings": vars(args),
        "methods": methods,
        "cleanlab": agreement,
        "reviewed": n_reviewed,
        "corrected": n_fixed,
        "models": models,
        "fixed_minus_noisy_accuracy": None
        if difference is None
        else {"value": difference[0], "ci95": difference[1]},
        "total_seconds": total_seconds,
    }


def rank_queues(args, collection, labels, truth, flipped) -> dict:
    """Both methods' queues with their figures; the cleanlab comparison is printed."""
    from galview.ml.loading import load_model
    from galview.ml.training import TrainConfig

    cnn = TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch,
        learning_rate=args.lr,
        patience=args.patience,
        val_split=0.1,
    )
    common = {"folds": args.folds, "seed": args.seed}
    shipped = load_model(args.model)
    queues = {
        "head (shipped model)": run_method(
            "head", collection, labels, truth, flipped, method="head", loaded=shipped, **common
        )
    }
    if not args.head_only:
        queues[CNN_QUEUE] = run_method(
            "cnn", collection, labels, truth, flipped, method="cnn", config=cnn, **common
        )
    return queues


def retrain(args, collection, labels, fixed, truth, test, out: Path):
    """Models trained on the noisy and on the fixed labels (and the true ones), and their difference."""
    trained = {"noisy labels": train_and_test("noisy", collection, labels, test, args, out)}
    trained["after fixing the first 15%"] = train_and_test("fixed", collection, fixed, test, args, out)
    if args.clean_reference:
        clean = np.where(np.isfinite(labels), truth, np.nan)
        trained["true labels (reference)"] = train_and_test("clean", collection, clean, test, args, out)
    noisy, after = trained["noisy labels"]["correct"], trained["after fixing the first 15%"]["correct"]
    return trained, paired_difference(noisy, after)


def main(argv=None) -> None:
    from galview.io import open_collection

    args = parse_args(argv)
    started = time.monotonic()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    collection = open_collection(ensure_simulation(args.train_file, max(args.n, 8000), args.train_seed))
    test = open_collection(ensure_simulation(args.test_file, 2000, args.test_seed))
    truth = np.asarray(collection.labels, dtype=np.float64)
    labels, flipped = noisy_labels(truth, args.n, args.noise, args.seed)
    results = rank_queues(args, collection, labels, truth, flipped)
    agreement = {name: cleanlab_agreement(labels, r["probs"], r["flagged"]) for name, r in results.items()}
    print("cleanlab agreement:", json.dumps(agreement), flush=True)
    write_curve(out / "recall_curve.csv", results, flipped)
    probs = {name.split()[0]: r["probs"] for name, r in results.items()}
    np.savez(out / "probabilities.npz", labels=labels, truth=truth, flipped=flipped, **probs)
    cnn = results.get(CNN_QUEUE)
    reviewed = cnn["order"][: int(round(0.15 * len(cnn["order"])))] if cnn else np.array([], dtype=np.int64)
    fixed = labels.copy()
    fixed[reviewed] = truth[reviewed]  # the astronomer looks and sets the right class
    n_fixed = int((labels[reviewed] != truth[reviewed]).sum())
    trained, difference = (
        ({}, None)
        if args.no_retrain or args.head_only
        else retrain(args, collection, labels, fixed, truth, test, out)
    )
    total = time.monotonic() - started
    print_tables(args, results, trained, difference, n_fixed, len(reviewed))
    print(f"\ntotal {total / 60:.1f} min", flush=True)
    data = summary(args, results, trained, difference, agreement, n_fixed, len(reviewed), total)
    (out / "summary.json").write_text(json.dumps(data, indent=1, default=float))


if __name__ == "__main__":
    main()

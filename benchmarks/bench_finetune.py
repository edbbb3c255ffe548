"""One-click retraining (issue 12): real transfer, transfer across surveys, and time.

    python benchmarks/bench_finetune.py real  [--modes probe,head,full,scratch]   # 112 real DES cutouts
    python benchmarks/bench_finetune.py hsc   [--modes ...] [--n-train 200] [--n-test 2000]
    python benchmarks/bench_finetune.py time                                       # head and probe, 200 cutouts

``--plain-probe`` runs the probe without its anchor at the parent's output (the probe before 2026-12-04).

``real``: the shipped model fine-tuned on ../shared/data/des_lsbg (112 real labels) with each mode's
default recipe; k-fold before/after with bootstrap intervals and the paired difference.
``hsc``: the shipped model (DES-like simulations) fine-tuned on ``n-train`` labelled HSC-like
simulations; the k-fold estimate on those, and the saved model against the shipped one on ``n-test``
other HSC-like simulations (known truth). ``time``: wall time of a ``head`` and a ``probe``
retraining on 200 cutouts, the final fit apart from the k-fold estimate.
Simulations are cached in bench_data/ (not in git). Results are printed and written as JSON there.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from galview.assets import default_model_path
from galview.io import open_collection
from galview.ml.finetune import MODES, FitEvent, default_recipe, finetune
from galview.ml.loading import load_model
from galview.ml.metrics import binary_metrics, paired_accuracy_difference

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "data" / "des_lsbg" / "des_lsbg_dev.npz"
CACHE = ROOT / "bench_data"


class Timeline:
    """Progress callback that notes when the final fit starts."""

    def __init__(self):
        self.final_started = None
        self.last = time.monotonic()

    def __call__(self, progress):
        now = time.monotonic()
        payload = progress.payload
        final = isinstance(payload, FitEvent) and payload.stage == "final"
        if final and self.final_started is None:
            self.final_started = self.last  # the end of the previous report: the final fit's start
        if "probe" in progress.message and progress.done == progress.total and self.final_started is None:
            self.final_started = self.last
        self.last = now


def _run(parent, collection, indices, labels, mode, output, seed=0, **overrides):
    recipe = replace(default_recipe(len(indices), mode, **overrides), seed=seed)
    timeline = Timeline()
    started = time.monotonic()
    result = finetune(parent, collection, indices, labels, recipe, output=output, on_progress=timeline)
    total = time.monotonic() - started
    final = total - (timeline.final_started - started) if timeline.final_started else float("nan")
    return result, total, final


def _row(result, total: float) -> dict:
    d = result.difference
    return {
        "mode": result.recipe.mode,
        "recipe": result.recipe.describe(),
        "before": _short(result.before),
        "after": _short(result.after),
        "difference": d["difference"],
        "difference_ci95": list(d["ci95"]),
        "supported": d["supported"],
        "verdict": result.verdict,
        "seconds": round(total, 1),
        "epochs_run": result.card.training["epochs_run"],
        "device": result.device,
        "probe": result.card.training.get("probe"),
    }


def _short(metrics: dict) -> dict:
    ci = metrics["ci95"]
    return {key: [metrics[key], *ci[key]] for key in ("accuracy", "roc_auc")}


def _print(row: dict) -> None:
    b, a = row["before"], row["after"]
    low, high = row["difference_ci95"]
    print(
        f"{row['mode']:8s} before {b['accuracy'][0]:.3f} [{b['accuracy'][1]:.3f}, {b['accuracy'][2]:.3f}] "
        f"AUC {b['roc_auc'][0]:.3f} | after {a['accuracy'][0]:.3f} [{a['accuracy'][1]:.3f}, "
        f"{a['accuracy'][2]:.3f}] AUC {a['roc_auc'][0]:.3f} | diff {100 * row['difference']:+.1f} pts "
        f"[{100 * low:+.1f}, {100 * high:+.1f}] {'supported' if row['supported'] else 'not supported'} | "
        f"{row['seconds']:.0f} s",
        flush=True,
    )


def real(args) -> list[dict]:
    parent = load_model(default_model_path())
    collection = open_collection(REAL)
    labels = np.asarray(collection.labels, dtype=np.int64)
    indices = np.arange(len(collection))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for mode in args.modes:
            result, total, _ = _run(parent, collection, indices, labels, mode, Path(tmp) / mode, args.seed)
            rows.append(_row(result, total))
            _print(rows[-1])
    return rows


def _hsc(n: int, seed: int) -> Path:
    """The cached HSC-like simulation of ``n`` cutouts and ``seed``, of this GalView's simulator."""
    from galview.sim import SIMULATOR_VERSION
    from galview.sim.generate import write_simulation
    from galview.sim.surveys import SURVEYS

    path = CACHE / f"hsc_sim{SIMULATOR_VERSION}_{n}_seed{seed}.h5"
    if not path.is_file():
        write_simulation(path, SURVEYS["hsc"], n, seed, workers=1)
    return path


def hsc(args) -> list[dict]:
    parent = load_model(default_model_path())
    train = open_collection(_hsc(args.n_train, args.train_seed))
    test = open_collection(_hsc(args.n_test, args.test_seed))
    labels = np.asarray(train.labels, dtype=np.int64)
    truth = np.asarray(test.labels, dtype=np.int64)
    x_test = test.get_batch(np.arange(len(test)))
    shipped = _probs(parent, x_test)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for mode in args.modes:
            folds = {"folds": args.folds} if args.folds else {}
            result, total, _ = _run(
                parent, train, np.arange(len(train)), labels, mode, Path(tmp) / mode, **folds
            )
            row = _row(result, total)
            tuned = _probs(load_model(result.path), x_test)
            row["test"] = _test_rows(truth, shipped, tuned)
            rows.append(row)
            _print(row)
            t = row["test"]
            print(
                f"         held-out {len(truth)}: shipped {t['before'][0]:.3f} [{t['before'][1]:.3f}, "
                f"{t['before'][2]:.3f}] → {t['after'][0]:.3f} [{t['after'][1]:.3f}, {t['after'][2]:.3f}], "
                f"diff {100 * t['difference']:+.1f} pts [{100 * t['ci95'][0]:+.1f}, {100 * t['ci95'][1]:+.1f}]",
                flush=True,
            )
    return rows


def _probs(loaded, images) -> np.ndarray:
    from galview.ml.inputs import model_input

    return loaded.model.predict(model_input(images, loaded.card.input), batch_size=256, verbose=0)[:, 0]


def _test_rows(truth, before, after) -> dict:
    b, a = binary_metrics(truth, before), binary_metrics(truth, after)
    d = paired_accuracy_difference(truth, (before > 0.5).astype(int), (after > 0.5).astype(int))
    return {
        "before": [b["accuracy"], *b["ci95"]["accuracy"]],
        "after": [a["accuracy"], *a["ci95"]["accuracy"]],
        "auc": [b["roc_auc"], a["roc_auc"]],
        "difference": d["difference"],
        "ci95": list(d["ci95"]),
    }


def timing(args) -> list[dict]:
    parent = load_model(default_model_path())
    collection = open_collection(_hsc(args.n_train, 101))
    labels = np.asarray(collection.labels, dtype=np.int64)
    indices = np.arange(len(collection))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for mode in ("probe", "head"):
            result, total, final = _run(parent, collection, indices, labels, mode, Path(tmp) / mode)
            row = {
                "mode": mode,
                "n": len(indices),
                "recipe": result.recipe.describe(),
                "total_s": round(total, 1),
            }
            row |= {
                "final_fit_s": round(final, 1),
                "kfold_s": round(total - final, 1),
                "device": result.device,
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["real", "hsc", "time"])
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated modes")
    parser.add_argument("--n-train", type=int, default=200)
    parser.add_argument("--n-test", type=int, default=2000)
    parser.add_argument("--train-seed", type=int, default=101, help="hsc: seed of the labelled simulations")
    parser.add_argument("--test-seed", type=int, default=202, help="hsc: seed of the held-out simulations")
    parser.add_argument("--folds", type=int, default=0, help="hsc: folds of the k-fold estimate (0: default)")
    parser.add_argument("--seed", type=int, default=0, help="real: seed of the folds (and of training)")
    parser.add_argument(
        "--plain-probe", action="store_true",
        help="the probe without its anchor at the parent's output (a fresh logistic regression), to compare",
    )  # fmt: skip
    args = parser.parse_args()
    if args.plain_probe:
        from galview.ml import anchored_probe

        anchored_probe.parent_head = lambda model: None  # the job falls back to the plain probe
    args.modes = [m for m in args.modes.split(",") if m]
    CACHE.mkdir(exist_ok=True)
    rows = {"real": real, "hsc": hsc, "time": timing}[args.what](args)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (CACHE / f"bench_finetune_{args.what}_{stamp}.json").write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""Keeping scores per (collection, model version): what switching models back and reopening cost.

    python benchmarks/bench_kept_scores.py [--n 20000] [--dim 1024]

Writes scores of ``--n`` cutouts with ``--dim``-wide embeddings (DeepShadows' penultimate layer is
1024 wide) to the on-disk score cache (in a temporary GalView home), then times: the write (done in
a background thread in the window), bringing them back from memory (switching models back in one
session) and from disk (a new session, or after the memory held other models' scores), and the
copy the state hands out.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np


def timed(call, repeat: int = 5) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = call()
        best = min(best, time.perf_counter() - started)
    return best * 1000, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--dim", type=int, default=1024)
    args = parser.parse_args()
    from galview.core.kept_scores import KeptScores
    from galview.core.scores import Scores
    from galview.io.score_cache import ScoreCache

    folder = Path(tempfile.mkdtemp(prefix="galview-bench-scores-"))
    rng = np.random.default_rng(0)
    scores = Scores.empty(args.n, 1, "model-v1", embedding_dim=args.dim, class_names=("artifact", "LSBG"))
    scores.set_rows(np.arange(args.n), rng.random((args.n, 1)), rng.random((args.n, args.dim), np.float32))
    size_mb = (scores.probs.nbytes + scores.predicted.nbytes + scores.embeddings.nbytes) / 2**20
    print(
        f"# {platform.node()} · {os.cpu_count()} CPUs · {args.n:,} cutouts × {args.dim} embeddings ({size_mb:.0f} MB)"
    )
    cache = ScoreCache(folder)
    started = time.perf_counter()
    cache.save("fp", scores.copy())
    cache.flush()
    print(
        f"write to the disk cache (background thread in the window): {(time.perf_counter() - started) * 1000:.0f} ms"
    )
    kept = KeptScores(disk=cache)
    ms, _ = timed(lambda: kept.put("fp", scores, to_disk=False))
    print(f"keep in memory (a copy, when a scoring job ends or the model changes): {ms:.0f} ms")
    ms, _ = timed(lambda: kept.get("fp", "model-v1"))
    print(f"switch back to the model, from memory: {ms:.0f} ms")
    fresh = KeptScores(disk=cache)  # a new session: nothing in memory
    ms, back = timed(lambda: KeptScores(disk=cache).get("fp", "model-v1"))
    print(f"reopen in a new session, from disk (memory-mapped, copy-on-write): {ms:.0f} ms")
    assert back.complete and np.array_equal(back.embeddings, scores.embeddings)
    fresh.close()
    cache.close()


if __name__ == "__main__":
    main()

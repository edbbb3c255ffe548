"""Scores and embeddings kept on disk per (collection fingerprint, model version), bounded."""

from __future__ import annotations

import numpy as np

from galview.core.kept_scores import KeptScores
from galview.core.scores import Scores
from galview.io.score_cache import ScoreCache, entry_key


def _scores(version="v1", n=50, dim=8, seed=0):
    rng = np.random.default_rng(seed)
    scores = Scores.empty(n, 1, version, embedding_dim=dim, class_names=("artifact", "LSBG"), model_name="m")
    scores.set_rows(np.arange(n - 5), rng.random((n - 5, 1)), rng.random((n - 5, dim)))
    return scores


def test_scores_round_trip_through_the_disk(tmp_path):
    cache = ScoreCache(tmp_path / "scores")
    scores = _scores()
    cache.save("fp-a", scores.copy())
    cache.flush()
    back = cache.load("fp-a", "v1")
    np.testing.assert_array_equal(back.probs, scores.probs)  # NaN rows (not scored) included
    np.testing.assert_array_equal(back.predicted, scores.predicted)
    np.testing.assert_array_equal(back.embeddings, scores.embeddings)
    assert back.class_names == ("artifact", "LSBG") and back.model_name == "m" and back.n_scored == 45
    back.set_rows([49], [[0.5]], np.zeros((1, 8)))  # writable in memory (copy-on-write)
    assert cache.load("fp-a", "v1").n_scored == 45  # the file is not changed by that
    assert cache.load("fp-a", "v2") is None and cache.load("fp-b", "v1") is None


def test_an_unreadable_cutout_is_remembered_as_tried_so_the_scores_stay_complete(tmp_path):
    cache = ScoreCache(tmp_path / "scores")
    scores = Scores.empty(3, 1, "v1")
    scores.set_rows([0, 2], [[0.2], [0.9]])
    assert not scores.complete and scores.todo.tolist() == [False, True, False]
    scores.set_rows([1], [[np.nan]])  # what scoring writes for a cutout it could not read
    assert scores.complete and scores.unreadable.tolist() == [False, True, False] and scores.n_scored == 2
    assert scores.predicted_name(1) is None
    cache.save("fp", scores.copy())
    cache.flush()
    back = cache.load("fp", "v1")
    assert back.complete and back.unreadable.tolist() == [False, True, False]


def test_the_cache_stays_under_its_size_limit_dropping_the_least_recently_used(tmp_path):
    one = _scores(n=400, dim=64)
    size = one.probs.nbytes + one.predicted.nbytes + one.embeddings.nbytes
    cache = ScoreCache(tmp_path / "scores", max_bytes=int(2.5 * size))
    for name in ("a", "b", "c"):
        cache.save(f"fp-{name}", _scores(n=400, dim=64))
        cache.flush()
        if name == "b":
            assert cache.load("fp-a", "v1") is not None  # a used again: b is now the oldest
    kept = sorted(p.name for p in (tmp_path / "scores").iterdir())
    assert entry_key("fp-b", "v1") not in kept and len(kept) == 2


def test_a_damaged_entry_means_rescoring_not_a_crash(tmp_path):
    cache = ScoreCache(tmp_path / "scores")
    cache.save("fp-a", _scores())
    cache.flush()
    (tmp_path / "scores" / entry_key("fp-a", "v1") / "probs.npy").write_bytes(b"garbage")
    kept = KeptScores(disk=cache)
    assert kept.get("fp-a", "v1") is None
    kept.close()


def test_kept_scores_are_copies_and_memory_is_bounded():
    kept = KeptScores(entries=2)
    first = _scores("v1")
    kept.put("fp", first)
    first.set_rows([49], [[0.1]])
    assert kept.get("fp", "v1").n_scored == 45  # a copy was kept, not the live object
    kept.put("fp", _scores("v2"))
    kept.put("fp", _scores("v3"))
    assert kept.get("fp", "v1") is None and kept.get("fp", "v3") is not None

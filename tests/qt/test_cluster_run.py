"""The window opens the OUT_DIR of ``galview score --cluster``: its shards as one collection, its merged
probabilities as the current scores (sortable), labelled as usual."""

from __future__ import annotations

import numpy as np

from galview.io.cluster_runs import SUMMARY, SUMMARY_KIND, write_json
from galview.io.score_files import ScoreWriter
from galview.io.writers import write_hdf5

SHAPE = (16, 16, 3)


def fake_run(folder, sizes=(7, 5)):
    """A run folder as the cluster writes it (unit outputs and summary), with known probabilities."""
    rng = np.random.default_rng(3)
    names, paths, units, probs = [], [], [], []
    for k, n in enumerate(sizes):
        shard = write_hdf5(
            folder / "data" / f"shard_{k}.h5", rng.integers(0, 255, (n, *SHAPE), dtype=np.uint8)
        )
        p = rng.random((n, 1)).astype(np.float32)
        writer = ScoreWriter(folder / "out" / "shards" / f"{shard.name}.h5", n, ["LSBG"])
        (folder / "out" / "shards").mkdir(parents=True, exist_ok=True)
        writer.write(
            0, [str(i) for i in range(n)], p, (p[:, 0] > 0.5).astype(np.int64), np.ones((n, 4), np.float32)
        )
        writer.close()
        names.append(shard.name)
        paths.append(str(shard))
        units.append(
            {"shard": shard.name, "output": f"{shard.name}.h5", "status": "done", "start": 0, "stop": None}
        )
        probs.append(p[:, 0])
    summary = {
        "kind": SUMMARY_KIND,
        "model": "/models/tiny.keras",
        "model_hash": "abc",
        "shards": {"paths": paths, "names": names, "options": {}},
        "units": units,
        "card": {"task": "binary", "class_names": ["artifact", "LSBG"], "positive_class": 1},
    }
    write_json(folder / "out" / SUMMARY, summary)
    return folder / "out", np.concatenate(probs)


def test_window_opens_a_cluster_run_with_its_scores_sorted(window, tmp_path):
    out_dir, probs = fake_run(tmp_path)
    assert window.open_path(out_dir)
    state = window.state
    assert state.n == len(probs)
    np.testing.assert_allclose(state.scores.positive_prob(), probs)
    assert state.scores.class_names == ("artifact", "LSBG")
    window.sort_controls.sort_combo.setCurrentIndex(window.sort_controls.sort_combo.findData("prob_desc"))
    assert window.grid.grid_model.cutout_at_position(0) == int(np.argmax(probs))


def test_window_opens_a_folder_of_shards_as_one_collection(window, tmp_path):
    out_dir, probs = fake_run(tmp_path)
    assert window.open_path(tmp_path / "data")
    assert window.state.n == len(probs) and window.state.scores is None

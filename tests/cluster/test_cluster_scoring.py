"""Survey-scale scoring on a 2-worker LocalCluster: the same scores as ``galview score``, resumable,
robust to a corrupt shard and to a worker killed mid-run, deterministic.

One cluster and one reference run serve the module (each worker imports TensorFlow once).
"""

from __future__ import annotations

import csv
import os
import shutil
import signal

import numpy as np
import pytest

pytest.importorskip("distributed")

from galview.cli import main  # noqa: E402
from galview.io.cluster_runs import read_summary  # noqa: E402
from galview.io.shards import ShardSet  # noqa: E402
from galview.io.writers import write_hdf5  # noqa: E402
from tests.ml.tiny_models import SHAPE, save_tiny_model  # noqa: E402

SIZES = (40, 25, 33)


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    with cluster, Client(cluster) as connected:
        yield connected


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """A tiny model and four shards: three HDF5 (with ids) and one .npy."""
    folder = tmp_path_factory.mktemp("cluster_inputs")
    model = save_tiny_model(folder / "tiny.keras").path
    rng = np.random.default_rng(15)
    shards = []
    for k, n in enumerate(SIZES):
        images = rng.integers(0, 255, (n, *SHAPE), dtype=np.uint8)
        ids = [f"s{k}-obj{i}" for i in range(n)]
        shards.append(write_hdf5(folder / "shards" / f"part_{k}.h5", images, ids=ids))
    npy = folder / "shards" / "part_3.npy"
    np.save(npy, rng.integers(0, 255, (21, *SHAPE), dtype=np.uint8))
    shards.append(npy)
    return model, shards


def _run(client, shards, model, out_dir, **options):
    from galview.cluster.run import score_on_cluster

    return score_on_cluster(client, ShardSet.from_inputs(shards), model, out_dir, batch_size=8, **options)


@pytest.fixture(scope="module")
def reference_run(client, inputs, tmp_path_factory):
    """A run with shards split into chunks of 16 cutouts and Grad-CAM maps of the top 2 per unit."""
    model, shards = inputs
    out_dir = tmp_path_factory.mktemp("run") / "out"
    summary = _run(client, shards, model, out_dir, maps=2, chunk_size=16, top=5)
    return out_dir, summary


def _catalogue(out_dir):
    with open(out_dir / "scores.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def test_scores_equal_single_process_galview_score(inputs, reference_run, tmp_path):
    import h5py

    model, shards = inputs
    out_dir, summary = reference_run
    rows = _catalogue(out_dir)
    assert summary["counts"]["failed"] == 0 and summary["counts"]["done"] == len(summary["units"])
    assert len(rows) == sum(SIZES) + 21
    for shard in shards:
        single = tmp_path / f"{shard.stem}.h5"
        assert main(["score", str(shard), "--model", str(model), "-o", str(single), "--batch-size", "8"]) == 0
        with h5py.File(single, "r") as handle:
            probs, ids = handle["probs"][:, 0], [i.decode() for i in handle["ids"][...]]
            predicted = handle["predicted"][...]
        mine = [r for r in rows if r["shard"] == shard.name]
        assert [int(r["index"]) for r in mine] == list(range(len(probs)))
        assert [r["id"] for r in mine] == ids
        np.testing.assert_allclose([float(r["prob"]) for r in mine], probs, atol=1e-5)
        assert [int(r["predicted"]) for r in mine] == predicted.tolist()


def test_unit_outputs_hold_embeddings_and_top_k_maps(reference_run):
    import h5py

    out_dir, summary = reference_run
    for unit in summary["units"]:
        with h5py.File(out_dir / "shards" / unit["output"], "r") as handle:
            n = len(handle["probs"])
            assert handle["embeddings"].shape == (n, 8)
            assert handle["maps"].shape == (min(2, n), *SHAPE[:2])
            best = np.argsort(-handle["probs"][:, 0], kind="stable")[:2]
            assert handle["map_index"][...].tolist() == handle["index"][...][best].tolist()
    top = list(csv.DictReader(open(out_dir / "top.csv", newline="")))
    probs = sorted((float(r["prob"]) for r in _catalogue(out_dir)), reverse=True)
    assert [float(r["prob"]) for r in top] == probs[:5]


def test_merged_hdf5_catalogue_holds_every_row_of_scores_csv_and_the_top(reference_run):
    import h5py

    out_dir, summary = reference_run
    rows = _catalogue(out_dir)
    with h5py.File(out_dir / "catalogue.h5", "r") as handle:
        names = [n.decode() for n in handle["shard_names"][...]]
        shard = [names[k] for k in handle["shard"][...]]
        ids = [i.decode() for i in handle["ids"][...]]
        probs, top = handle["probs"][:, 0], handle["top"][...]
        assert list(handle.attrs["class_names"]) == ["LSBG"]  # one name per column of probs
        assert handle["index"][...].tolist() == [int(r["index"]) for r in rows]
        assert handle["predicted"][...].tolist() == [int(r["predicted"]) for r in rows]
    assert names == ["part_0.h5", "part_1.h5", "part_2.h5", "part_3.npy"]
    assert shard == [r["shard"] for r in rows] and ids == [r["id"] for r in rows]
    np.testing.assert_allclose(probs, [float(r["prob"]) for r in rows], atol=1e-6)
    ranked = list(csv.DictReader(open(out_dir / "top.csv", newline="")))
    assert [ids[i] for i in top] == [r["id"] for r in ranked] and len(top) == 5
    assert not list(out_dir.glob("*.partial"))


def test_resume_skips_done_units_and_redoes_partial_or_missing_ones(client, inputs, reference_run, tmp_path):
    model, shards = inputs
    out_dir = tmp_path / "out"
    shutil.copytree(reference_run[0], out_dir)
    outputs = sorted((out_dir / "shards").glob("*.h5"))
    outputs[0].unlink()  # missing
    outputs[1].rename(outputs[1].with_name(outputs[1].name + ".partial"))  # killed before the rename
    with open(outputs[2], "r+b") as handle:  # damaged
        handle.truncate(1000)
    summary = _run(client, shards, model, out_dir, maps=2, chunk_size=16, top=5)
    by_output = {u["output"]: u["status"] for u in summary["units"]}
    assert by_output[outputs[0].name] == "done"
    assert by_output[outputs[1].name] == by_output[outputs[2].name] == "redone"
    assert summary["counts"]["skipped"] == len(summary["units"]) - 3
    assert (out_dir / "scores.csv").read_bytes() == (reference_run[0] / "scores.csv").read_bytes()
    again = _run(client, shards, model, out_dir, maps=2, chunk_size=16, top=5)
    assert again["counts"]["skipped"] == len(again["units"])


def test_corrupt_shards_are_named_and_the_rest_completes(client, inputs, reference_run, tmp_path):
    model, shards = inputs
    garbage = tmp_path / "garbage.h5"
    garbage.write_bytes(b"not an HDF5 file at all")
    truncated = tmp_path / "truncated.h5"
    truncated.write_bytes(shards[0].read_bytes()[:3000])
    summary = _run(client, [*shards, garbage, truncated], model, tmp_path / "out")
    reasons = {f["shard"]: f["reason"] for f in summary["failed"]}
    assert set(reasons) == {"garbage.h5", "truncated.h5"}
    assert all(str(tmp_path / name) in reason for name, reason in reasons.items())
    assert summary["counts"]["done"] == len(shards)
    assert _catalogue(tmp_path / "out") == _catalogue(reference_run[0])


def test_a_worker_killed_mid_run_still_gives_the_complete_catalogue(client, inputs, reference_run, tmp_path):
    model, shards = inputs
    killed = []

    def kill_a_busy_worker(_result):
        if killed:
            return
        pids = client.run(os.getpid)
        busy = [address for address, keys in client.processing().items() if keys]
        if busy:
            os.kill(pids[busy[0]], signal.SIGKILL)
            killed.append(busy[0])

    from galview.cluster.run import score_on_cluster

    many = ShardSet.from_inputs(shards)
    summary = score_on_cluster(client, many, model, tmp_path / "out", batch_size=8, maps=2, chunk_size=16,
                               top=5, on_unit=kill_a_busy_worker)  # fmt: skip
    assert killed, "no worker was busy when the first unit finished"
    assert summary["counts"]["failed"] == 0, summary["failed"]
    assert _catalogue(tmp_path / "out") == _catalogue(reference_run[0])
    assert not list((tmp_path / "out" / "shards").glob("*.partial")) or all(
        u["status"] != "skipped" for u in summary["units"]
    )


def test_same_inputs_give_the_same_catalogue_and_summary_names_the_run(
    client, inputs, reference_run, tmp_path
):
    model, shards = inputs
    _run(client, shards, model, tmp_path / "out", maps=2, chunk_size=16, top=5)
    for name in ("scores.csv", "top.csv"):
        assert (tmp_path / "out" / name).read_bytes() == (reference_run[0] / name).read_bytes()
    import h5py

    with (
        h5py.File(tmp_path / "out" / "catalogue.h5") as mine,
        h5py.File(reference_run[0] / "catalogue.h5") as ref,
    ):
        for name in ("shard", "index", "ids", "probs", "predicted", "top"):
            np.testing.assert_array_equal(mine[name][...], ref[name][...])
    summary = read_summary(tmp_path / "out")
    assert summary["kind"] == "galview-cluster-scores" and summary["card"]["class_names"] == [
        "artifact",
        "LSBG",
    ]


def test_search_map_reduce_equals_exact_search_over_all_embeddings(client, reference_run):
    from galview.cluster.search import reference_embeddings, search_run
    from galview.core.vector_search import cosine_topk, unit_rows
    from galview.io.cluster_runs import read_unit

    out_dir, _ = reference_run
    summary = read_summary(out_dir)
    queries = reference_embeddings(out_dir, summary, [("part_1.h5", 3), ("part_3.npy", 20)])
    here = search_run(out_dir, summary, queries, 12)
    there = search_run(out_dir, summary, queries, 12, client=client)
    assert here == there
    units = [read_unit(out_dir / "shards" / u["output"], embeddings=True) for u in summary["units"]]
    everything = np.concatenate([u["embeddings"] for u in units])
    labels = [(s["shard"], int(i)) for s, u in zip(summary["units"], units, strict=True) for i in u["index"]]
    found, score, _ = cosine_topk(unit_rows(everything), unit_rows(queries), 12)
    assert [(m["shard"], m["index"]) for m in here] == [labels[i] for i in found]
    np.testing.assert_allclose([m["similarity"] for m in here], score, rtol=1e-6)
    assert here[0]["similarity"] == pytest.approx(1.0, abs=1e-5)  # a reference matches itself


def test_the_run_folder_opens_as_one_collection_with_its_scores(reference_run, inputs):
    from galview.io import open_collection

    out_dir, _ = reference_run
    with open_collection(out_dir) as collection:
        assert len(collection) == sum(SIZES) + 21
        scores = collection.run_scores()
        rows = _catalogue(out_dir)
        np.testing.assert_allclose(scores.probs[:, 0], [float(r["prob"]) for r in rows], atol=1e-6)
        assert scores.class_names == ("artifact", "LSBG") and scores.positive_class == 1
        shard, local = collection.locate([40, 64, 65])
        assert shard.tolist() == [1, 1, 2] and local.tolist() == [0, 24, 0]
        part = np.load(inputs[1][3])
        np.testing.assert_array_equal(collection.get_batch([sum(SIZES) + 5]), part[[5]])
        assert collection.ids[40] == "s1-obj0"


@pytest.mark.filterwarnings("ignore:Even though the `tf.config.experimental_run:UserWarning")
def test_cutouts_relabelled_in_a_run_folder_fine_tune_a_model(
    reference_run, inputs, tmp_path, monkeypatch, capsys
):
    """Labels given on the run's collection (what the window stores) go straight into ``galview finetune``."""
    import tensorflow as tf

    from galview.io import open_collection
    from galview.io.label_store import open_label_store
    from galview.ml import architectures
    from tests.ml.tiny_models import TINY_SPEC

    monkeypatch.setitem(architectures.ARCHITECTURES, "tiny", TINY_SPEC)
    out_dir = tmp_path / "run"
    shutil.copytree(reference_run[0], out_dir)
    (tmp_path / "parent").mkdir()
    shutil.copy(inputs[0], tmp_path / "parent" / "model.keras")
    shutil.copy(inputs[0].with_suffix(".json"), tmp_path / "parent" / "model.json")
    with open_collection(out_dir) as collection, open_label_store(collection) as store:
        store.set(list(range(0, 60, 2)), 1, user="ana")
        store.set(list(range(1, 60, 2)), 0, user="ana")
    tf.config.run_functions_eagerly(True)
    try:
        args = ["finetune", str(out_dir), "--model", str(tmp_path / "parent"), "--mode", "probe"]
        assert main([*args, "--epochs", "1", "--folds", "2", "-o", str(tmp_path / "new")]) == 0
    finally:
        tf.config.run_functions_eagerly(False)
    out = capsys.readouterr().out
    assert "labels: 60 human labels" in out and (tmp_path / "new" / "model.keras").is_file()


def test_a_jax_worker_gives_the_same_scores_and_the_summary_names_its_backend(
    inputs, reference_run, tmp_path
):
    """The path a GPU worker takes (Keras' JAX backend chosen by the plugin), here on the CPU."""
    pytest.importorskip("jax")
    model, shards = inputs
    args = ["score", "--cluster", "local:1", "--backend", "jax", *map(str, shards[:2]), "--model", str(model)]
    assert main([*args, "-o", str(tmp_path / "out"), "--batch-size", "8"]) == 0
    summary = read_summary(tmp_path / "out")
    assert {unit["backend"] for unit in summary["units"]} == {"jax"}
    mine = {(r["shard"], r["index"]): float(r["prob"]) for r in _catalogue(tmp_path / "out")}
    reference = {(r["shard"], r["index"]): float(r["prob"]) for r in _catalogue(reference_run[0])}
    assert len(mine) == SIZES[0] + SIZES[1]
    np.testing.assert_allclose(list(mine.values()), [reference[key] for key in mine], atol=1e-5)
    assert {unit["backend"] for unit in reference_run[1]["units"]} == {"tensorflow"}

"""``--cluster`` values, the SLURM configuration and the refusals of ``galview score`` (no cluster started)."""

from __future__ import annotations

import pytest

pytest.importorskip("distributed")

from galview.cli import main  # noqa: E402
from galview.cluster.clusters import slurm_options  # noqa: E402
from galview.core.errors import UserFacingError  # noqa: E402

SLURM_YAML = """\
jobs: 4
queue: gpu
cores: 16
processes: 1
memory: 64GB
walltime: "12:00:00"
job_extra_directives: ["--gres=gpu:1"]
"""


def test_slurm_configuration_gives_the_options_and_the_job_count(tmp_path):
    config = tmp_path / "slurm.yaml"
    config.write_text(SLURM_YAML)
    options, jobs = slurm_options(config)
    assert jobs == 4 and options["queue"] == "gpu" and "jobs" not in options
    jobqueue = pytest.importorskip("dask_jobqueue")
    cluster = jobqueue.SLURMCluster(**options)  # a job script is written, nothing is submitted
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    assert "#SBATCH --gres=gpu:1" in script and "#SBATCH -p gpu" in script


@pytest.mark.parametrize("text", ["jobs: 0\n", "- a list\n", "jobs: [\n"])
def test_bad_slurm_configuration_names_the_file(tmp_path, text):
    config = tmp_path / "slurm.yaml"
    config.write_text(text)
    with pytest.raises(UserFacingError, match="slurm.yaml"):
        slurm_options(config)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--cluster", "local:none"], "expected local:N"),
        (["--cluster", "local:1", "--maps", "-1"], "--maps -1"),
        ([], "several collections given"),
    ],
)
def test_refusals_are_one_line_with_exit_status_2(tmp_path, capsys, args, message):
    shards = [tmp_path / "a.npy", tmp_path / "b.npy"]
    for shard in shards:
        shard.write_bytes(b"x")
    code = main(["score", *map(str, shards), "-o", str(tmp_path / "out"), *args])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_auto_backend_is_jax_only_on_a_worker_with_cuda(monkeypatch):
    from galview.cluster import worker

    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    monkeypatch.setattr(worker, "has_cuda", lambda: False)
    assert worker.choose_backend("auto") is None and worker.worker_environment("auto") == {}
    monkeypatch.setattr(worker, "has_cuda", lambda: True)
    assert worker.choose_backend("auto") == "jax" and worker.worker_environment() == {"KERAS_BACKEND": "jax"}
    monkeypatch.setenv("KERAS_BACKEND", "torch")  # the user's own choice wins over auto
    assert worker.choose_backend("auto") is None
    assert worker.choose_backend("tensorflow") == "tensorflow"


def test_the_dashboard_moves_to_a_free_port_when_8787_is_taken():
    import socket

    from galview.cluster import clusters

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        assert clusters.dashboard_address(taken) == ":0"
    assert clusters.dashboard_address(taken) == f":{taken}"


class _Future:
    """A Dask future as the run's loop sees it: its status, then what waiting on it gives."""

    def __init__(self, status, result=None, error=None):
        self.status, self._result, self._error = status, result, error

    def exception(self):
        return self._error

    def result(self):
        if self._error is not None:
            raise self._error
        return self._result


def test_a_lost_task_computed_again_is_done_and_only_a_raising_one_failed():
    """A worker killed after its task finished loses the result; Dask computes it again. Its status then
    reads "lost" or "pending", not "finished": the run waits for it instead of counting it as failed."""
    from galview.cluster.run import _result
    from galview.cluster.units import ShardUnit

    unit = ShardUnit(0, "a.h5", "/data/a.h5", 0, None, "/out/a.h5")
    done = {"unit": "a.h5", "output": "/out/a.h5", "status": "done"}
    assert _result(_Future("finished", done), unit) == done
    assert _result(_Future("lost", done), unit) == done
    failed = _result(_Future("error", error=ValueError("bad rows")), unit)
    assert failed["status"] == "failed" and failed["reason"] == "/data/a.h5: ValueError: bad rows"

    class Cancelled(_Future):
        def exception(self):
            raise RuntimeError("cancelled")

    assert _result(Cancelled("cancelled"), unit)["reason"] == "/data/a.h5: RuntimeError: cancelled"

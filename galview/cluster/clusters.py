"""Connect to a Dask cluster from a ``--cluster`` value: ``local:N``, ``slurm:CONFIG`` or an address."""

from __future__ import annotations

import contextlib
import importlib.util
from collections.abc import Iterator
from pathlib import Path

from galview.cluster.worker import worker_environment
from galview.core.errors import UserFacingError

CLUSTER_HELP = (
    "local:N (N worker processes on this machine), slurm:CONFIG (workers as SLURM jobs: a YAML file "
    "of dask_jobqueue.SLURMCluster options plus 'jobs: N') or the address of a running Dask scheduler "
    "(tcp://host:8786)"
)


def dashboard_available() -> bool:
    """Whether Dask's dashboard can be served here (it needs bokeh)."""
    return importlib.util.find_spec("bokeh") is not None


def dashboard_address(preferred: int = 8787) -> str:
    """Where a local cluster's scheduler serves HTTP (the dashboard with bokeh, its status pages
    without): Dask's usual port when it is free, else any free port (another Dask or Jupyter may hold
    8787; the link printed says which)."""
    import socket

    families = [socket.AF_INET] + ([socket.AF_INET6] if socket.has_ipv6 else [])
    for family in families:  # Dask listens on both when it can
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            if family == socket.AF_INET6:
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                probe.bind(("", preferred))
            except OSError:
                return ":0"
    return f":{preferred}"


@contextlib.contextmanager
def connect(spec: str, backend: str = "auto") -> Iterator:
    """A ``distributed.Client`` for ``spec``; a cluster started here is closed on exit.

    Raises
    ------
    UserFacingError
        For a malformed value, a missing or bad SLURM configuration, or dask-jobqueue missing.
    """
    from distributed import Client

    if spec.startswith("local:"):
        with _local(spec, backend) as cluster, Client(cluster) as client:
            yield client
    elif spec.startswith("slurm:"):
        with _slurm(spec, backend) as cluster, Client(cluster) as client:
            yield client
    else:
        with Client(spec, timeout="30s") as client:
            yield client


def _local(spec: str, backend: str):
    from distributed import LocalCluster

    text = spec.removeprefix("local:")
    if not text.isdigit() or int(text) < 1:
        raise UserFacingError(f"--cluster {spec}", "expected local:N with N a positive number of workers")
    return LocalCluster(
        n_workers=int(text),
        threads_per_worker=1,
        processes=True,
        env=worker_environment(backend),
        dashboard_address=dashboard_address(),
    )


def slurm_options(path: str | Path) -> tuple[dict, int]:
    """The ``SLURMCluster`` keyword options in a YAML file and its ``jobs`` count (default 1)."""
    import yaml

    path = Path(path)
    try:
        options = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise UserFacingError(path, f"cannot be read as a SLURM configuration (YAML): {exc}") from exc
    if not isinstance(options, dict):
        raise UserFacingError(path, "expected a YAML mapping of dask_jobqueue.SLURMCluster options")
    jobs = options.pop("jobs", 1)
    if not isinstance(jobs, int) or jobs < 1:
        raise UserFacingError(path, f"'jobs' must be a positive whole number, got {jobs!r}")
    return options, jobs


def _slurm(spec: str, backend: str):
    options, jobs = slurm_options(spec.removeprefix("slurm:"))
    try:
        from dask_jobqueue import SLURMCluster
    except ImportError as exc:
        raise UserFacingError(
            f"--cluster {spec}", "needs dask-jobqueue: pip install 'galview[cluster]'"
        ) from exc
    if backend != "auto":  # with auto, each worker chooses for itself (ModelPlugin.setup)
        prologue = list(options.get("job_script_prologue", []))
        options["job_script_prologue"] = [*prologue, f"export KERAS_BACKEND={backend}"]
    cluster = SLURMCluster(**options)
    cluster.scale(jobs=jobs)
    return cluster

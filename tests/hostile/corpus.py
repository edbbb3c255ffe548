"""Run the hostile-input corpus: every ``tests/hostile/cases_*.py`` case through GalView's commands.

Each case's input is written into a fresh temporary folder and each of its commands runs in a
subprocess of its own, under a time limit (:data:`TIME_LIMIT_S`) and a memory limit (:data:`MEMORY_LIMIT`:
``RLIMIT_DATA`` set with ``resource.setrlimit`` before GalView starts bounds what it allocates, and a
watchdog kills it when its resident size passes the limit), with ``GALVIEW_HOME``
and ``GALVIEW_LABEL_STORES`` pointed at the temporary folder, so nothing is written beside the input
or in the user's home. Each run is classified (:data:`KINDS`):

``clean-error``
    exit status 2, one line ``galview: error: PATH: …`` naming the input, last on stderr, no traceback;
``accepted``
    exit status 0 without a traceback;
``unclean-error``
    any other refusal: several error lines, a line that does not name the input, another exit status;
``traceback``
    a Python traceback on stderr (or exit status 1, GalView's "unexpected error");
``crash``
    killed by a signal (segmentation fault, abort);
``hang``
    still running after :data:`TIME_LIMIT_S`;
``memory``
    a ``MemoryError`` or failed allocation, or a peak resident size at the limit;
``code-from-data``
    a file or folder named with :data:`MARKER` appeared: a payload in the data (a pickle, a Lambda
    layer) ran. Payload-carrying cases create ``<their folder>/MARKER…`` when executed.

The CI test (``test_corpus.py``) runs the fast cases, ``benchmarks/bench_hostile.py`` all of them.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tests.hostile.case import Case
from tests.hostile.craft import MARKER  # a payload that runs creates a file or folder so named

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]

TIME_LIMIT_S = 60.0
MEMORY_LIMIT = 2 * 1024**3
COMMANDS = ("info", "view", "score", "labels")
#: Commands that read every cutout in other ways; the fuzzer can run them (``--commands``), the corpus does not.
MORE_COMMANDS = (
    "explain",
    "similar",
    "adapt",
    "finetune",
    "train-encoder",
    "mosaic",
    "find",
    "note",
    "pair",
    "measure",
)
KINDS = ("clean-error", "accepted", "unclean-error", "traceback", "crash", "hang", "memory", "code-from-data")
#: Worst first: an input's outcome is the worst of its runs.
SEVERITY = ("code-from-data", "crash", "hang", "memory", "traceback", "unclean-error")
_MEMORY_SIGNS = ("MemoryError", "std::bad_alloc", "memory allocation failed", "Cannot allocate memory")

# Runs GalView's command line under a memory limit: ``python -c LAUNCHER LIMIT ARGS…``. RLIMIT_DATA
# rather than RLIMIT_AS: memory-mapping a large valid file takes address space, not memory. (A launcher
# rather than ``preexec_fn``, which is unsafe when runs go in parallel threads.)
_LAUNCHER = (
    "import atexit, ctypes, os, resource, runpy, signal, sys\n"
    "ctypes.CDLL(None).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG: die with the runner\n"
    "limit, peak_file = int(sys.argv[1]), sys.argv[2]\n"
    "resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))\n"
    "resource.setrlimit(resource.RLIMIT_CORE, (0, 0))\n"
    "def peak():  # this program's own high-water mark (the rusage of a child starts at its parent's)\n"
    "    with open('/proc/self/status') as status, open(peak_file, 'w') as out:\n"
    "        out.write(next(line for line in status if line.startswith('VmHWM')).split()[1])\n"
    "atexit.register(peak)\n"
    "sys.argv = ['galview', *sys.argv[3:]]\n"
    "runpy.run_module('galview', run_name='__main__', alter_sys=True)\n"
)


@dataclass
class Run:
    """One command on one case's input, and how it ended."""

    case: str
    cause: str
    expect: str
    command: str
    kind: str
    returncode: int | None
    seconds: float
    peak_rss: int
    stderr: str

    @property
    def honoured(self) -> bool:
        """Whether the run did what the case expects: a clean error, or success."""
        return self.kind == ("clean-error" if self.expect == "error" else "accepted")

    def summary(self) -> str:
        """One line for reports: case, command, kind, exit status, time, memory, last stderr line."""
        last = next((line for line in reversed(self.stderr.splitlines()) if line.strip()), "")
        return (
            f"{self.case} [{self.command}] {self.kind} (rc={self.returncode}, {self.seconds:.1f} s, "
            f"{self.peak_rss / 2**20:.0f} MiB): {last[:300]}"
        )


def load_cases(folder: Path = HERE) -> list[Case]:
    """Every case of every ``cases_*.py`` module in ``folder``, in module then list order.

    Raises
    ------
    ValueError
        If two cases share a name.
    """
    cases: list[Case] = []
    for module_path in sorted(folder.glob("cases_*.py")):
        module = importlib.import_module(f"tests.hostile.{module_path.stem}")
        cases.extend(module.cases())
    names = [case.name for case in cases]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"case names used twice: {duplicates}")
    return cases


def command_line(command: str, path: Path, out: Path, args: Sequence[str]) -> list[str]:
    """GalView's arguments for ``command`` on ``path``, writing outputs into ``out``."""
    target = os.fspath(path)
    lines = {
        "info": ["info", target],
        "view": ["view", target, "--offscreen", "--screenshot", os.fspath(out / "OUT.png")],
        "score": ["score", target, "-o", os.fspath(out / "OUT.csv")],
        "labels": ["labels", "set", target, "0", "1"],
        "explain": ["explain", target, "--sheet", "--per-group", "1", "-o", os.fspath(out / "OUT.png")],
        "similar": ["similar", target, "--reference", "#0", "--space", "pixel", "-k", "5"],
        "adapt": ["adapt", target, "--sample", "64", "-o", os.fspath(out / "adapted")],
        "finetune": [
            "finetune",
            target,
            "--labels-from-file",
            "--mode",
            "probe",
            "--folds",
            "2",
            "-o",
            os.fspath(out / "finetuned"),
        ],
        "train-encoder": ["train-encoder", target, "--epochs", "1", "-o", os.fspath(out / "encoder")],
        "mosaic": ["mosaic", target, "--indices", "0", "1", "2", "-o", os.fspath(out / "OUT.png")],
        "find": ["find", target, "150.1 2.2"],  # a position: every cutout's RA and Dec are read
        "note": ["labels", "note", target, "0", "tidal tail?"],  # the store made, bound, a note committed
        "pair": ["pair", target, _other_survey(out), "--all", "-o", os.fspath(out / "OUT.csv")],
        "measure": [  # float inputs are fitted (every cutout) and drawn, the others refused as display colours
            "measure",
            target,
            "--zeropoint",
            "22.5",
            "--pixel-scale",
            "0.262",
            "-o",
            os.fspath(out / "OUT.csv"),
            "--figure",
            os.fspath(out / "fits.png"),
        ],
    }
    return [*lines[command], *args]


def _other_survey(out: Path) -> str:
    """A small valid collection for ``galview pair`` to pair the damaged one with: ids and positions
    near those of the simulated surveys, so ids, positions and order are all tried."""
    import numpy as np

    path = out / "other_survey.npz"
    if not path.exists():
        rng = np.random.default_rng(0)
        images = rng.integers(0, 255, (6, 16, 16, 3), dtype=np.uint8)
        np.savez(
            path,
            images=images,
            ids=np.array([f"sim{i}" for i in range(6)]),
            ra=150 + rng.uniform(0, 1, 6),
            dec=2 + rng.uniform(0, 1, 6),
        )
    return os.fspath(path)


def _environment(root: Path, galview_root: Path, model: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        GALVIEW_HOME=os.fspath(root / "home"),
        GALVIEW_LABEL_STORES=os.fspath(root / "stores"),
        QT_QPA_PLATFORM="offscreen",
        PYTHONPATH=os.fspath(galview_root),
        CUDA_VISIBLE_DEVICES="",
    )
    env.pop("GALVIEW_MODEL", None)
    if model is not None:
        env["GALVIEW_MODEL"] = model
    return env


def _resident(pid: int) -> int:
    """Resident size of ``pid`` in bytes (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _wait(pid: int, time_limit: float, memory_limit: int, peak_file: Path) -> tuple[int | None, int, bool]:
    """Wait for ``pid``, killing it past the limits: (exit status, peak RSS in bytes, timed out).

    The peak is the larger of the resident sizes seen while polling and the high-water mark the program
    wrote at exit (``peak_file``, kB). Not ``ru_maxrss``: a child's starts at its parent's resident
    size when it was forked, so a large test process would make every run look too large.
    """
    deadline = time.monotonic() + time_limit
    timed_out = killed = False
    seen = 0
    while True:
        done, status, _usage = os.wait4(pid, os.WNOHANG)
        if done:
            with contextlib.suppress(OSError, ValueError):
                seen = max(seen, int(peak_file.read_text()) * 1024)
            return os.waitstatus_to_exitcode(status), seen, timed_out
        seen = max(seen, _resident(pid))
        timed_out = timed_out or time.monotonic() > deadline
        if (timed_out or seen > memory_limit) and not killed:
            killed = True
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        time.sleep(0.02)


def run_command(
    argv: list[str], cwd: Path, env: dict[str, str], time_limit: float, memory_limit: int, log: Path
) -> tuple[int | None, float, int, bool, str]:
    """Run GalView with ``argv`` under the limits: (status, seconds, peak RSS, timed out, stderr)."""
    import subprocess

    started = time.monotonic()
    peak_file = log.with_name(log.name + ".peak")
    peak_file.unlink(missing_ok=True)
    with open(log, "wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-c", _LAUNCHER, str(memory_limit), os.fspath(peak_file), *argv],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
        )
        status, peak, timed_out = _wait(process.pid, time_limit, memory_limit, peak_file)
        process.returncode = status  # reaped by os.wait4 above
    seconds = time.monotonic() - started
    return status, seconds, peak, timed_out, log.read_bytes().decode("utf-8", "backslashreplace")


def _shown(path: Path) -> str:
    """``path`` as GalView prints it on stderr (undecodable bytes backslash-escaped)."""
    return os.fspath(path).encode("utf-8", "backslashreplace").decode("utf-8")


def classify(status, timed_out: bool, peak: int, stderr: str, path: Path, memory_limit: int) -> str:
    """The kind of one run (see the module docstring)."""
    if timed_out:
        return "hang"
    if any(sign in stderr for sign in _MEMORY_SIGNS) or peak > memory_limit:
        return "memory"
    if status is not None and status < 0:
        return "crash"
    if "Traceback (most recent call last)" in stderr or status == 1:
        return "traceback"
    if status == 0:
        return "accepted"
    lines = [line for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("galview: error: ")]
    names = _shown(path) in errors[0] or errors[0].startswith("galview: error: --") if errors else False
    clean = status == 2 and len(errors) == 1 and lines[-1] == errors[0] and names  # the input or the option
    return "clean-error" if clean else "unclean-error"


def _markers(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if MARKER in p.name]


def run_case(
    case: Case,
    commands: Iterable[str] | None = None,
    *,
    galview_root: Path = REPO,
    model: str | None = None,
    time_limit: float = TIME_LIMIT_S,
    memory_limit: int = MEMORY_LIMIT,
    keep: Path | None = None,
) -> list[Run]:
    """Write ``case``'s input into a temporary folder and run ``commands`` (default: the case's).

    Parameters
    ----------
    galview_root : Path
        Folder put on ``PYTHONPATH`` (another checkout measures another version of GalView).
    model : str, optional
        ``GALVIEW_MODEL`` for the commands; None uses the shipped model.
    keep : Path, optional
        Work inside this (empty) folder and leave it there, instead of a temporary one.
    """
    commands = [c for c in (case.commands if commands is None else commands) if c in case.commands]
    root = Path(keep) if keep is not None else Path(tempfile.mkdtemp(prefix="galview-hostile-"))
    try:
        return _run_in(case, commands, root, galview_root, model, time_limit, memory_limit)
    finally:
        if keep is None:
            _remove(root)


def _run_in(case, commands, root: Path, galview_root, model, time_limit, memory_limit) -> list[Run]:
    folder, out = root / "input", root / "out"
    for sub in (folder, out, root / "home", root / "stores"):
        sub.mkdir(parents=True, exist_ok=True)
    try:
        path = case.make(folder)
    except Exception as exc:
        raise RuntimeError(f"case {case.name}: writing its input failed ({exc!r})") from exc
    env = _environment(root, galview_root, model)
    runs = []
    for command in commands:
        args = [a.replace("{dir}", str(folder)) for a in case.args]  # cases naming a second input
        argv = command_line(command, path, out, args)
        status, seconds, peak, timed_out, stderr = run_command(
            argv, folder, env, time_limit, memory_limit, out / f"{command}.stderr"
        )
        named = folder if any("{dir}" in a for a in case.args) else path  # the error may name either input
        kind = classify(status, timed_out, peak, stderr, named, memory_limit)
        if _markers(root):
            kind = "code-from-data"
        runs.append(Run(case.name, case.cause, case.expect, command, kind, status, seconds, peak, stderr))
    return runs


def _remove(root: Path) -> None:
    """Remove a case folder, including FIFOs, read-only files and folders a payload made."""
    for dirpath, dirnames, _files in os.walk(root):
        for name in dirnames:
            os.chmod(os.path.join(dirpath, name), 0o700)
    shutil.rmtree(root, ignore_errors=True)


def run_cases(cases: Sequence[Case], commands_for=None, jobs: int = 1, on_done=None, **options) -> list[Run]:
    """Run many cases, ``jobs`` at a time; ``commands_for(case)`` picks the commands of each.

    ``on_done(case, runs)`` is called as each case finishes. Runs come back in case order.
    """

    def one(case):
        runs = run_case(case, None if commands_for is None else commands_for(case), **options)
        if on_done is not None:
            on_done(case, runs)
        return runs

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return [run for runs in pool.map(one, cases) for run in runs]


def input_kind(runs: Sequence[Run]) -> str:
    """One input's outcome: the worst kind among its runs; ``mixed`` if some refused and some accepted."""
    kinds = {run.kind for run in runs}
    for kind in SEVERITY:
        if kind in kinds:
            return kind
    if kinds == {"accepted"}:
        return "accepted"
    return "clean-error" if kinds == {"clean-error"} else "mixed"


def by_case(runs: Iterable[Run]) -> dict[str, list[Run]]:
    """Runs grouped by case name, in order."""
    grouped: dict[str, list[Run]] = {}
    for run in runs:
        grouped.setdefault(run.case, []).append(run)
    return grouped

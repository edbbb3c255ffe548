"""The fast part of the hostile-input corpus, run through GalView's commands in subprocesses (issue 11).

Every case of every ``tests/hostile/cases_*.py`` module marked ``fast`` runs ``galview info``; the
valid ones also ``galview labels set``; the first fast valid case and the first fast damaged case
of each format (the part of the name before ``/``) also open the window (``galview view
--offscreen --screenshot``, without a model so that TensorFlow is not loaded). No run may print a
traceback, crash, hang, pass 2 GB or run code from the data, and each does what its case expects.
``benchmarks/bench_hostile.py`` runs every case with every command.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hostile.corpus import MEMORY_LIMIT, by_case, classify, load_cases, run_cases

CASES = [case for case in load_cases() if case.fast]
NEVER = ("traceback", "crash", "hang", "memory", "code-from-data")
NO_MODEL = "/nonexistent/galview-no-model.keras"


def _viewed(cases) -> set[str]:
    """Per format, the first fast valid case and the first fast damaged one."""
    chosen: dict[tuple[str, str], str] = {}
    for case in cases:
        if "view" in case.commands:
            chosen.setdefault((case.name.split("/")[0], case.expect), case.name)
    return set(chosen.values())


VIEWED = _viewed(CASES)


def ci_commands(case) -> list[str]:
    """The commands CI runs on ``case``."""
    commands = ["info"]
    if case.expect == "ok":
        commands.append("labels")
    if case.name in VIEWED:
        commands.append("view")
    if not set(commands) & set(case.commands):  # a case only its own command reads (a store, a model)
        commands.append(case.commands[0])
    return commands


@pytest.fixture(scope="module")
def outcomes():
    """Every CI run, two at a time, grouped by case."""
    return by_case(run_cases(CASES, ci_commands, jobs=2, model=NO_MODEL))


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_case(case, outcomes):
    runs = outcomes.get(case.name, [])
    assert runs, f"CI ran nothing on {case.name}"
    failures = [run.summary() for run in runs if run.kind in NEVER]
    assert not failures, "\n".join(failures)
    short = [run.summary() for run in runs if not run.honoured]
    assert not short, "\n".join(short)


def test_the_subset_covers_every_cause_and_opens_the_window():
    assert {case.cause for case in CASES} >= {"crash", "hang", "memory", "traceback", "code-from-data"}
    assert any(case.expect == "ok" for case in CASES)
    assert len(VIEWED) >= 2


@pytest.mark.parametrize(
    ("status", "timed_out", "peak", "stderr", "kind"),
    [
        (2, False, 0, "noise\ngalview: error: /d/x.npz: is damaged\n", "clean-error"),
        (2, False, 0, "galview: error: /d/x.npz: is damaged\nsecond line\n", "unclean-error"),
        (2, False, 0, "galview: error: something else\n", "unclean-error"),
        (2, False, 0, "galview: error: --batch-size 0: expected a positive number\n", "clean-error"),
        (0, False, 0, "", "accepted"),
        (1, False, 0, "unexpected error", "traceback"),
        (0, False, 0, "Traceback (most recent call last):\n  ...", "traceback"),
        (-11, False, 0, "", "crash"),
        (None, True, 0, "", "hang"),
        (1, False, 0, "MemoryError", "memory"),
        (0, False, MEMORY_LIMIT + 1, "", "memory"),
    ],
)
def test_classify(status, timed_out, peak, stderr, kind):
    from pathlib import Path

    assert classify(status, timed_out, peak, stderr, Path("/d/x.npz"), MEMORY_LIMIT) == kind


def test_the_peak_is_the_programs_own_not_the_test_process_s(tmp_path):
    """A child's rusage starts at its parent's resident size when forked: with 600 MB held here, a
    `galview --version` must still measure as small (it measured 2.2 GB per run once the test process
    had grown, and every case failed as "memory")."""
    import numpy as np

    from tests.hostile.corpus import _environment, run_command

    held = np.ones(600 * 2**20, dtype=np.uint8)  # resident: every page written
    env = _environment(tmp_path, Path(__file__).resolve().parents[2], None)
    status, _seconds, peak, timed_out, _err = run_command(
        ["--version"], tmp_path, env, 60, MEMORY_LIMIT, tmp_path / "log"
    )
    assert status == 0 and not timed_out and held.sum() == held.size
    assert 0 < peak < 300 * 2**20, peak

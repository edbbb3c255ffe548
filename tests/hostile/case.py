"""One damaged or odd input for the hostile-input corpus (issue 11, section 6).

Each ``tests/hostile/cases_<area>.py`` module has a function ``cases() -> list[Case]``; the corpus
runner collects them all, writes each input into a temporary folder and runs the GalView commands
named in ``commands`` on it in a subprocess (with a time and memory limit), then classifies the
outcome: a clean one-line error, accepted, a traceback, a crash, a hang, too much memory, or code
executed from data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

#: The causes in issue 11's table, plus inputs that are odd but valid.
CAUSES = ("crash", "hang", "memory", "traceback", "wrong-answer", "code-from-data", "valid")


@dataclass(frozen=True)
class Case:
    """One input.

    Attributes
    ----------
    name : str
        Unique, ``"<format>/<what>"``, e.g. ``"npz/header-claims-1e12-elements"``.
    cause : str
        What it provoked before the fix (one of :data:`CAUSES`), for the report.
    make : callable(Path) -> Path
        Writes the input inside the given (empty, temporary) folder; returns the path to open.
    expect : str
        ``"error"``: every command must answer with a one-line ``galview: error: PATH: …`` (exit 2);
        ``"ok"``: every command must succeed (exit 0).
    commands : tuple of str
        Which of ``info``, ``view`` (offscreen screenshot), ``score``, ``labels`` (``labels set … 0 1``)
        to run on it.
    fast : bool
        Part of the subset CI runs (cheap to make and to run); the benchmark runs every case.
    args : tuple of str
        Extra arguments given to every command (``--dataset``, ``--layout``…); ``{dir}`` stands for
        the case's folder (for a second input: ``--store {dir}/s.sqlite``, ``--model {dir}/m.keras``).
    """

    name: str
    cause: str
    make: Callable[[Path], Path]
    expect: str = "error"
    commands: tuple[str, ...] = ("info", "view", "score", "labels")
    fast: bool = True
    args: tuple[str, ...] = ()

    def __post_init__(self):
        if self.cause not in CAUSES:
            raise ValueError(f"cause must be one of {CAUSES}, got {self.cause!r}")
        if self.expect not in ("error", "ok"):
            raise ValueError(f"expect must be 'error' or 'ok', got {self.expect!r}")

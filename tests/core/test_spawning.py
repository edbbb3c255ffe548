"""Whether a spawned process would run the main module's own code again, and one BLAS thread each."""

from __future__ import annotations

import os
import types
from importlib.machinery import ModuleSpec

from galview.core.spawning import THREAD_VARIABLES, one_thread_each, spawn_is_safe


def _main_from(path):
    module = types.ModuleType("__main__")
    module.__file__ = str(path)
    module.__spec__ = None  # a script run by its path
    return module


def test_a_script_without_a_main_guard_is_not_safe_to_spawn_from(tmp_path):
    bare = tmp_path / "bare.py"
    bare.write_text("from galview.qt.app import run\nrun()  # would open a window in every process\n")
    guarded = tmp_path / "guarded.py"
    guarded.write_text("import sys\n\nif __name__ == '__main__':  # the usual guard\n    sys.exit(0)\n")
    indented = tmp_path / "indented.py"
    indented.write_text("def f():\n    if __name__ == '__main__':\n        pass\nf()\n")
    assert not spawn_is_safe(_main_from(bare))
    assert spawn_is_safe(_main_from(guarded))
    assert not spawn_is_safe(_main_from(indented))  # only a guard at the top level keeps code from running
    assert not spawn_is_safe(_main_from(tmp_path / "gone.py"))  # unreadable: assume the worst


def test_modules_run_by_name_and_sessions_without_a_file(tmp_path):
    import galview.__main__ as galview_main

    named = types.ModuleType("__main__")
    named.__spec__ = galview_main.__spec__  # python -m galview
    assert spawn_is_safe(named)
    bare = tmp_path / "tool.py"
    bare.write_text("print('hello')\n")
    named.__spec__ = ModuleSpec("tool", None, origin=str(bare))
    assert not spawn_is_safe(named)
    interactive = types.ModuleType("__main__")  # a Python prompt or a notebook: nothing is imported again
    assert spawn_is_safe(interactive)


def test_the_galview_command_is_safe_to_spawn_from():
    import sys
    from pathlib import Path

    command = Path(sys.executable).parent / "galview"  # the script pip wrote
    assert command.exists()
    assert spawn_is_safe(_main_from(command))


def test_one_thread_each_only_where_the_user_set_no_count(monkeypatch):
    for name in THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    with one_thread_each():
        assert os.environ["OPENBLAS_NUM_THREADS"] == "1" and os.environ["OMP_NUM_THREADS"] == "3"
    assert "OPENBLAS_NUM_THREADS" not in os.environ and os.environ["OMP_NUM_THREADS"] == "3"

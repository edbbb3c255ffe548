"""What the imports made is set aside from the garbage collector once, before the first model is made."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def _run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_the_imports_are_set_aside_once():
    _run(
        """
        import gc
        from galview.core.heap import set_aside_imports

        made_before = [object() for _ in range(3)]
        set_aside = set_aside_imports()
        frozen = gc.get_freeze_count()
        assert set_aside > 1000 and abs(frozen - set_aside) < 10
        made_after = {"a": [1, 2]}
        assert set_aside_imports() == 0 and gc.get_freeze_count() == frozen  # once per process
        tracked = {id(o) for o in gc.get_objects()}
        assert id(made_after) in tracked and id(made_before) not in tracked
        """
    )


def test_the_window_s_model_is_made_after_keras_was_set_aside():
    """A full collection then walks the model's objects, not Keras's ~380,000 (and a model replaced later
    is collected)."""
    _run(
        """
        import gc
        from galview.assets import models_dir
        from galview.ml.jobs import open_model

        loaded = open_model(models_dir() / "deepshadows_des_sim.keras")
        assert gc.get_freeze_count() > 100_000, gc.get_freeze_count()
        tracked = {id(o) for o in gc.get_objects()}
        assert id(loaded.model) in tracked  # not frozen: collectable when another model replaces it
        """
    )

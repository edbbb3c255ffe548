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


def test_collections_wait_until_the_last_pausing_thread_is_done():
    import gc
    import threading

    from galview.core.heap import collections_paused

    assert gc.isenabled()
    inside, leave = threading.Event(), threading.Event()

    def other_thread() -> None:
        with collections_paused():
            inside.set()
            assert leave.wait(10)

    thread = threading.Thread(target=other_thread)
    with collections_paused():
        assert not gc.isenabled()
        thread.start()
        assert inside.wait(10)
    assert not gc.isenabled()  # the other thread still reads
    leave.set()
    thread.join()
    assert gc.isenabled()
    gc.disable()  # turned off by someone else: left off
    try:
        with collections_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_kept_photometry_is_read_with_collections_paused(monkeypatch):
    import gc

    from galview.io import photometry_files
    from galview.io.measuring import Calibration
    from galview.io.photometry_files import KeptPhotometry, load_photometry, save_photometry

    seen = []
    real = photometry_files._indexed_fit
    monkeypatch.setattr(
        photometry_files, "_indexed_fit", lambda record: seen.append(gc.isenabled()) or real(record)
    )
    save_photometry(
        "key", KeptPhotometry(Calibration(0, "g", 22.5, None, ("g",)), {1: "too faint", 2: "too faint"})
    )
    assert len(load_photometry("key", 3).fits) == 2
    assert seen == [False, False] and gc.isenabled()

"""TensorFlow's native notices are dropped from stderr at its first import; everything else is kept."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from galview.core.native_stderr import without_notices

# As TensorFlow 2.21 printed them on an AVX-512 machine, with TF_CPP_MIN_LOG_LEVEL=2 set.
NOTICES = (
    b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
    b"I0000 00:00:1796399313.454256    7815 port.cc:153] oneDNN custom operations are on. You may see "
    b"slightly different numerical results.\n"
    b"I0000 00:00:1796398147.242075    2804 cpu_feature_guard.cc:227] This TensorFlow binary is optimized.\n"
    b"To enable the following instructions: AVX2 AVX512F FMA, in other operations, rebuild TensorFlow.\n"
)
KEPT = b"E0000 00:00:1796399313.454256    7815 cuda_dnn.cc:8] could not load cuDNN\nan ordinary line\n"


def test_only_the_notices_are_dropped():
    assert without_notices(NOTICES) == b""
    lines = NOTICES.splitlines(keepends=True)
    assert without_notices(b"".join(lines[:2]) + KEPT + b"".join(lines[2:])) == KEPT
    assert without_notices(b"progress 3/10\rprogress 4/10") == b"progress 3/10\rprogress 4/10"


def _run(code: str, tmp_path) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter whose sys.path starts with ``tmp_path``."""
    script = f"import sys\nsys.path.insert(0, {str(tmp_path)!r})\n" + textwrap.dedent(code)
    return subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)


def _stand_in(tmp_path, body: str) -> None:
    """A stand-in package named tensorflow whose ``__init__`` runs ``body`` (it writes like the real one,
    straight to descriptor 2)."""
    package = tmp_path / "tensorflow"
    package.mkdir()
    (package / "__init__.py").write_text(body, encoding="utf-8")


def test_the_first_tensorflow_import_runs_with_its_notices_dropped(tmp_path):
    _stand_in(tmp_path, f"import os\nos.write(2, {NOTICES + KEPT!r})\nVALUE = 42\n")
    quiet = _run(
        """
        from galview.core.native_stderr import quiet_tensorflow_import
        quiet_tensorflow_import()
        import tensorflow
        print(tensorflow.VALUE, tensorflow.__spec__.name)
        import os; os.write(2, b"after the import\\n")
        """,
        tmp_path,
    )
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stdout.split() == [b"42", b"tensorflow"]
    assert quiet.stderr == KEPT + b"after the import\n"
    plain = _run("import tensorflow", tmp_path)  # without it (``--verbose``): everything shows
    assert plain.stderr == NOTICES + KEPT


def test_an_error_in_the_import_still_shows_and_restores_stderr(tmp_path):
    _stand_in(tmp_path, f"import os\nos.write(2, {NOTICES!r})\nraise ImportError('no libcudart')\n")
    result = _run(
        """
        from galview.core.native_stderr import quiet_tensorflow_import
        quiet_tensorflow_import()
        try:
            import tensorflow
        except ImportError as exc:
            sys.stderr.write(f"caught: {exc}\\n")
        """,
        tmp_path,
    )
    assert result.returncode == 0
    assert result.stderr == b"caught: no libcudart\n"


def test_what_is_printed_while_another_thread_imports_survives_an_early_exit(tmp_path):
    # The window imports TensorFlow in a worker thread; a failure in the main thread may exit meanwhile.
    _stand_in(tmp_path, f"import os, time\nos.write(2, {NOTICES!r})\ntime.sleep(30)\n")
    result = _run(
        """
        import threading, time
        from galview.core.native_stderr import quiet_tensorflow_import
        quiet_tensorflow_import()
        threading.Thread(target=lambda: __import__("tensorflow"), daemon=True).start()
        time.sleep(1)
        sys.stderr.write("galview: error: the file is damaged\\n")
        sys.exit(2)
        """,
        tmp_path,
    )
    assert result.returncode == 2
    assert result.stderr == b"galview: error: the file is damaged\n"

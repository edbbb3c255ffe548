"""Python's cyclic garbage collector and GalView's heap: what the imports made is set aside once, and
collections wait while a thread reads many long-lived objects back.

Importing Keras with TensorFlow makes about 380,000 objects that live as long as the process (modules,
functions, classes). Every full collection walked them all, with the window's own, holding the GIL for
200–350 ms on the 2-core VM, and any thread's allocations could start one: a stall of the window's thread
at unrelated moments (reading 10,000 kept fits in a thread started one; BENCHMARKS.md). :func:`set_aside_imports`
moves what exists after those imports into the collector's permanent generation (:func:`gc.freeze`):
a full collection then walks only what was made since. Those objects are still freed when their last
reference goes; only cycles among them are never collected, which is why it is done once, right after
the imports, before models or collections are made.
"""

from __future__ import annotations

import gc
import threading
from contextlib import contextmanager

_lock = threading.Lock()
_done = False
_pausing = 0  # how many threads are in collections_paused()
_was_enabled = False


def set_aside_imports() -> int:
    """Freeze every object the collector tracks now, once per process: the number set aside (0 after
    the first call)."""
    global _done
    with _lock:
        if _done:
            return 0
        _done = True
        gc.collect()  # what is garbage already is freed, not kept for ever (once: 0.1–0.3 s, in the model job)
        gc.freeze()
        return gc.get_freeze_count()


@contextmanager
def collections_paused():
    """Python's automatic collections off while the block runs (and while any other thread is in one).

    For a thread that makes hundreds of thousands of long-lived objects (100,000 kept Sérsic fits read
    back, about seven tracked objects each): each full collection it starts walks all it made so far,
    holding the GIL, and the window's thread waits (99th percentile of its lateness while they were read:
    104–250 ms, 10–27 ms with this; BENCHMARKS.md, Sérsic photometry §10). Collections resume as they were
    when the last such block ends; garbage made meanwhile is collected then.
    """
    global _pausing, _was_enabled
    with _lock:
        if _pausing == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pausing += 1
    try:
        yield
    finally:
        with _lock:
            _pausing -= 1
            if _pausing == 0 and _was_enabled:
                gc.enable()

"""Crash safety of the label store, measured: hundreds of SIGKILLs of a labelling process at random
moments lose no acknowledged label and never damage the store; two processes labelling the same store
at once lose nothing.

The labelling processes run ``python -c`` code that imports only :mod:`galview.io.label_store` (never
TensorFlow). To afford ~200 kills on two cores, one such process starts once and forks a fresh
labeller for every round (fork costs milliseconds, a Python start with numpy ~0.2 s); each labeller
opens the store itself, so kills also land while it opens. A labeller prints ``try INDICES LABEL``
before a change and ``ok INDICES LABEL ACTION`` once :meth:`LabelStore.set` has returned.
"""

from __future__ import annotations

import contextlib
import os
import queue
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from galview.io.label_store import LabelStore

N = 300
LABELS = ("0", "1", "-1", "none")

LABELLER = r"""
import os, random, sys, time
from galview.io.label_store import LabelStore

assert not any(m.split(".")[0] in ("tensorflow", "keras") for m in sys.modules), "TensorFlow imported"
path, n = sys.argv[1], int(sys.argv[2])


def say(text):
    os.write(1, (text + "\n").encode())  # one write per line: lines never interleave


def label(seed, lo, hi, count, tag, wait=False, pause=0.0):
    rng = random.Random(seed)
    store = LabelStore.open(path, n)
    say(f"ready {os.getpid()}")
    if wait:
        sys.stdin.readline()  # "go": both workers start together
    for _ in range(count):
        k = rng.randint(2, 6) if rng.random() < 0.25 else 1
        indices = sorted(rng.sample(range(lo, hi), k))
        value = rng.choice(["0", "1", "-1", "none"])
        text = ",".join(map(str, indices)) + " " + value
        say("try " + text)
        action = store.set(indices, None if value == "none" else int(value), model_id=tag)
        say(f"ok {text} {action}")
        time.sleep(rng.uniform(0, pause))  # a person pauses between labels: room for the other writer
    store.close()
"""

ZYGOTE = (
    LABELLER
    + r"""
say("zygote")
for line in sys.stdin:
    seed = int(line)
    go_r, go_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(go_w)
        os.read(go_r, 1)
        try:
            label(seed, 0, n, 100000, "crash")
        except BaseException:
            import traceback
            traceback.print_exc()
            os._exit(3)
        os._exit(0)
    os.close(go_r)
    say(f"pid {pid}")
    os.write(go_w, b"x")
    os.close(go_w)
    _, status = os.waitpid(pid, 0)
    say(f"dead {pid} {status}")
"""
)

WORKER = (
    LABELLER
    + r"""
lo, hi, count, seed = (int(v) for v in sys.argv[3:7])
tag = sys.argv[7]
label(seed, lo, hi, count, tag, wait=True, pause=0.004)
say("done")
"""
)


class Lines:
    """Lines of a child's stdout, read by a thread so the test can wait with a timeout."""

    def __init__(self, stream):
        self._queue: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._thread.start()

    def _pump(self, stream):
        for raw in stream:
            self._queue.put(raw.decode().rstrip("\n"))
        self._queue.put(None)

    def next(self, timeout: float = 20.0) -> str:
        line = self._queue.get(timeout=timeout)
        assert line is not None, "the child process ended unexpectedly"
        return line

    def join(self):
        self._thread.join(timeout=10)


def parse(line: str):
    """``try 3,5 1`` or ``ok 3,5 1 17`` -> (indices, label as float, action or None)."""
    parts = line.split()
    indices = [int(i) for i in parts[1].split(",")]
    value = np.nan if parts[2] == "none" else float(parts[2])
    return indices, value, int(parts[3]) if len(parts) > 3 else None


def same(a: float, b: float) -> bool:
    return (np.isnan(a) and np.isnan(b)) or a == b


def run_round(lines: Lines, stdin, rng: random.Random) -> tuple[list[str], int]:
    """Start one labeller, SIGKILL it at a random moment, return its lines and wait status."""
    stdin.write(f"{rng.randrange(2**31)}\n".encode())
    stdin.flush()
    got = [lines.next()]
    assert got[0].startswith("pid "), got
    pid = int(got[0].split()[1])
    try:
        if rng.random() < 0.5:
            time.sleep(rng.uniform(0.005, 0.080))  # random delay after start
        else:
            wanted = rng.randint(1, 25)  # after a random number of acknowledgements
            while sum(line.startswith("ok ") for line in got) < wanted:
                got.append(lines.next())
    finally:  # also when the test fails here: no labeller is left behind
        with contextlib.suppress(ProcessLookupError):  # died by itself: its status says why
            os.kill(pid, signal.SIGKILL)
    while not got[-1].startswith("dead "):
        got.append(lines.next())
    return got, int(got[-1].split()[2])


def check_after_kill(path: Path, got: list[str], expected: np.ndarray) -> tuple[list[tuple], str]:
    """Reopen the store: clean, every acknowledged label present.

    Returns this round's acks and where the kill landed: "opening", "between changes",
    "in a change, committed" or "in a change, not committed".
    """
    acks = [parse(line) for line in got if line.startswith("ok ")]
    for indices, value, _ in acks:
        expected[indices] = value
    pending = [parse(line) for line in got if line.startswith(("try ", "ok "))]
    pending = pending[-1] if pending and pending[-1][2] is None else None
    with LabelStore.open(path, N) as store:
        assert store.integrity() == "ok"
        current = store.current()
    if pending is not None:  # killed between try and ok: all of it committed, or none
        indices, value, _ = pending
        done = all(same(current[i], value) for i in indices)
        assert done or all(same(current[i], expected[i]) for i in indices), (pending, current[indices])
        if done:
            expected[indices] = value
    lost = [i for i in range(N) if not same(current[i], expected[i])]
    assert not lost, f"acknowledged labels lost at indices {lost[:10]}"
    if not any(line.startswith("ready ") for line in got):
        return acks, "opening"
    if pending is None:
        return acks, "between changes"
    return acks, f"in a change, {'committed' if done else 'not committed'}"


def history_rows(path: Path) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(
            "SELECT seq, action, idx, old, new, kind, model_id FROM history ORDER BY seq"
        ).fetchall()
    finally:
        conn.close()


def assert_acks_in_history(rows: list[tuple], acks: list[tuple]) -> None:
    by_action: dict[int, dict[int, float]] = {}
    for _, action, idx, _, new, _, _ in rows:
        by_action.setdefault(action, {})[idx] = np.nan if new is None else float(new)
    for indices, value, action in acks:
        written = by_action.get(action, {})
        assert sorted(written) == indices, (action, indices, written)
        assert all(same(written[i], value) for i in indices)


@pytest.mark.slow
def test_sigkill_while_labelling_loses_no_acknowledged_label(tmp_path):
    path = tmp_path / "crash.sqlite"
    LabelStore.open(path, N).close()
    rng = random.Random(20240601)
    expected = np.full(N, np.nan)
    all_acks: list[tuple] = []
    moments: dict[str, int] = {}
    started = time.perf_counter()
    with (
        open(tmp_path / "stderr.txt", "wb") as stderr,
        subprocess.Popen(
            [sys.executable, "-c", ZYGOTE, str(path), str(N)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
        ) as proc,
    ):
        lines = Lines(proc.stdout)
        try:
            assert lines.next(timeout=60) == "zygote"
            for _ in range(200):
                got, status = run_round(lines, proc.stdin, rng)
                assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, (
                    tmp_path / "stderr.txt"
                ).read_text()
                acks, moment = check_after_kill(path, got, expected)
                all_acks += acks
                moments[moment] = moments.get(moment, 0) + 1
        finally:
            proc.stdin.close()
            proc.wait(timeout=30)
            lines.join()
    assert_acks_in_history(history_rows(path), all_acks)
    elapsed = time.perf_counter() - started
    print(
        f"{sum(moments.values())} SIGKILLs {moments}: {len(all_acks)} acknowledged changes kept, {elapsed:.1f} s"
    )
    assert sum(moments.values()) == 200 and len(all_acks) > 500
    assert moments.get("in a change, not committed", 0) >= 3  # the kills really interrupted changes


def run_workers(path: Path, ranges: list[tuple[int, int]], count: int) -> dict[str, list[tuple]]:
    """Two processes label the same store at the same time; returns each one's acknowledgements."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(path), str(N), str(lo), str(hi), str(count), str(seed), tag],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        for seed, (tag, (lo, hi)) in enumerate(zip("AB", ranges, strict=True))
    ]
    outputs = {}
    try:
        readers = [Lines(p.stdout) for p in procs]
        for reader in readers:
            assert reader.next(timeout=60).startswith("ready ")
        for p in procs:
            p.stdin.write(b"go\n")
            p.stdin.flush()
        for tag, reader in zip("AB", readers, strict=True):
            got = []
            while not got or got[-1] != "done":
                got.append(reader.next(timeout=60))
            outputs[tag] = [parse(line) for line in got if line.startswith("ok ")]
    finally:
        for p in procs:
            p.stdin.close()
            assert p.wait(timeout=30) == 0
            p.stdout.close()
    return outputs


@pytest.mark.parametrize(
    "ranges",
    [[(0, 50), (50, 100)], [(0, 60), (40, 100)], [(0, 20), (0, 20)]],
    ids=["disjoint", "overlapping", "same"],
)
def test_two_processes_labelling_one_store_lose_nothing(tmp_path, ranges):
    path = tmp_path / "shared.sqlite"
    LabelStore.open(path, N).close()
    acks = run_workers(path, ranges, count=120)
    rows = history_rows(path)
    assert_acks_in_history(rows, acks["A"] + acks["B"])
    assert len(rows) == sum(len(indices) for indices, _, _ in acks["A"] + acks["B"])
    tags = [row[6] for row in rows]
    switches = sum(a != b for a, b in zip(tags, tags[1:], strict=False))
    print(f"{len(rows)} history rows, writer switched {switches} times")
    assert switches >= 3, "the writers never interleaved"
    last: dict[int, float] = {}
    for _, _, idx, old, new, _, _ in rows:  # no lost update: each change starts from the previous one
        assert same(np.nan if old is None else float(old), last.get(idx, np.nan)), (idx, old, last.get(idx))
        last[idx] = np.nan if new is None else float(new)
    with LabelStore.open(path, N) as store:
        current = store.current()
        assert store.integrity() == "ok"
    assert all(same(current[i], value) for i, value in last.items())
    assert np.isnan(np.delete(current, list(last))).all()

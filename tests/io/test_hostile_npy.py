"""Damaged and hostile .npy files and special files give one clean error, before anything is read (issue 11)."""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest

from galview.core.errors import CollectionError
from galview.io import open_collection
from tests.hostile.craft import npy_bytes, npy_header, sparse_file
from tests.io.refusals import refused

PIXELS = bytes(4 * 8 * 8 * 3)


@pytest.mark.parametrize(
    ("header", "fragment"),
    [
        ("{'descr': '|u1', 'fortran_order': False, 'shape': (4, 8, 8, 3), 'x': '''", "damaged header"),
        ("{'descr': '|u1', 'fortran_order': False, 'shape': (4, 8, 8, 3)", "damaged header"),
        (npy_header("|u1", (-4, 8, 8, 3)), "sizes >= 0"),
        (npy_header("|u1", (True, 8, 8, 3)), "sizes >= 0"),
        ("{'descr': '|u1', 'fortran_order': False, 'shape': 12, }", "not a tuple"),
        (npy_header("|u1", (1,) * 40), "at most 32"),
        ("{'descr': 5, 'fortran_order': False, 'shape': (4, 8, 8, 3), }", "damaged header"),
        ("{'descr': '|V0', 'fortran_order': False, 'shape': (4, 8, 8, 3), }", "zero bytes"),
        ("{'descr': '|u1', 'fortran_order': 'no', 'shape': (4, 8, 8, 3), }", "fortran_order"),
        ("{'descr': '|u1', 'fortran_order': False, 'shape': " + "(" * 1000 + ")" * 1000 + "}", "damaged"),
        ("[1, 2]", "not a dict"),
    ],
)
def test_damaged_header_is_one_line(tmp_path, header, fragment):
    path = tmp_path / "cutouts.npy"
    path.write_bytes(npy_bytes(header, PIXELS))
    refused(path, "is not a valid .npy file", fragment)


@pytest.mark.parametrize(
    ("shape", "fragment"),
    [
        ((0, 2**62, 2**62, 3), "holds zero cutouts"),
        ((4, 8, 8, 0), "no band (0 channels)"),
        ((4, 64, 0, 3), "too small"),
    ],
)
def test_empty_stacks_of_any_shape_are_refused(tmp_path, shape, fragment):
    path = tmp_path / "empty.npy"
    path.write_bytes(npy_bytes(npy_header("|u1", shape)))
    refused(path, fragment)


def test_header_length_beyond_the_file_is_not_allocated(tmp_path):
    path = tmp_path / "cutouts.npy"
    path.write_bytes(b"\x93NUMPY\x02\x00\xff\xff\xff\x7f{'descr'")
    refused(path, "is not a valid .npy file", "above 10000")


def test_unknown_format_version(tmp_path):
    path = tmp_path / "cutouts.npy"
    path.write_bytes(npy_bytes(npy_header("|u1", (4, 8, 8, 3)), PIXELS, version=(9, 0)))
    refused(path, "unknown format version 9.0")


def test_shape_claiming_more_than_the_file_holds(tmp_path):
    path = tmp_path / "cutouts.npy"
    path.write_bytes(npy_bytes(npy_header("|u1", (10**12, 8, 8, 3)), PIXELS))
    refused(path, "is truncated", "fewer bytes than its header announces")


@pytest.mark.parametrize("version", [(1, 0), (2, 0), (3, 0)])
def test_every_format_version_and_python2_headers_open(tmp_path, version):
    images = np.arange(4 * 8 * 8 * 3, dtype=np.uint8).reshape(4, 8, 8, 3)
    path = tmp_path / "cutouts.npy"
    text = "{'descr': '|u1', 'fortran_order': False, 'shape': (4L, 8L, 8L, 3L), }"
    if version == (3, 0):
        text = text.replace("L", "")
    path.write_bytes(npy_bytes(text, images.tobytes(), version))
    with open_collection(path) as c:
        np.testing.assert_array_equal(c.get_batch([3, 0]), images[[3, 0]])


def test_fortran_order_opens(tmp_path):
    images = np.asfortranarray(np.random.default_rng(0).integers(0, 255, (4, 8, 8, 3), dtype=np.uint8))
    path = tmp_path / "f.npy"
    np.save(path, images)
    with open_collection(path) as c:
        np.testing.assert_array_equal(c.get_batch([2, 1]), images[[2, 1]])


def test_huge_cutouts_are_refused_before_reading(tmp_path):
    from galview.core import budget  # new in issue 11: imported here so that older code fails each test

    path = sparse_file(tmp_path / "huge.npy", npy_bytes(npy_header("|u1", (2, 4096, 4096, 3))), 2**30)
    refused(path, "4096×4096×3", f"{budget.MAX_CUTOUT_VALUES:,} values per cutout")


def test_too_many_cutouts_are_refused(tmp_path):
    from galview.core import budget  # new in issue 11: imported here so that older code fails each test

    n = budget.MAX_CUTOUTS + 1
    path = sparse_file(tmp_path / "many.npy", npy_bytes(npy_header("|u1", (n, 2, 2, 1))), 200 + 4 * n)
    refused(path, f"{n:,} cutouts", f"limit of {budget.MAX_CUTOUTS:,}")


def test_a_read_beyond_the_budget_is_refused_and_smaller_reads_work(tmp_path, monkeypatch):
    from galview.core import budget  # new in issue 11: imported here so that older code fails each test

    monkeypatch.setattr(budget, "MAX_READ_BYTES", 64 * 64 * 3 * 10)
    path = tmp_path / "stack.npy"
    np.save(path, np.zeros((30, 64, 64, 3), np.uint8))
    with open_collection(path) as c:
        assert budget.cutouts_per_read(c.shape, c.dtype, 1024) == 10
        assert c.get_batch(np.arange(10)).shape == (10, 64, 64, 3)
        with pytest.raises(CollectionError, match="reading 11 cutouts at once needs .* read at most 10"):
            c.get_batch(np.arange(11))


def _unblock(path) -> None:
    """Open the write end of a FIFO (and close it) so that a reader blocked on it returns."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
    except OSError:
        pass


@pytest.mark.parametrize("name", ["pipe.npy", "pipe.npz", "pipe.h5"])
def test_named_pipe_is_refused_without_blocking(tmp_path, name):
    path = tmp_path / name
    os.mkfifo(path)
    outcome = {}

    def attempt():
        try:
            open_collection(path)
        except CollectionError as exc:
            outcome["error"] = str(exc)

    worker = threading.Thread(target=attempt, daemon=True)
    started = time.monotonic()
    worker.start()
    worker.join(10)
    blocked = worker.is_alive()
    if blocked:
        _unblock(path)
        worker.join(5)
    assert not blocked, "opening a named pipe blocked"
    assert time.monotonic() - started < 5
    assert (
        outcome["error"] == f"{path}: is a named pipe (FIFO), not a regular file; expected a file of cutouts"
    )


def test_character_device_is_refused(tmp_path):
    path = tmp_path / "zero.npy"
    os.symlink("/dev/zero", path)
    refused(path, "is a character device, not a regular file")


def test_object_arrays_are_refused_without_unpickling(tmp_path):
    from tests.hostile.craft import MARKER, payload_array

    path = tmp_path / "objects.npy"
    np.save(path, payload_array(tmp_path), allow_pickle=True)
    refused(path, "holds Python objects, which GalView never unpickles")
    assert not (tmp_path / MARKER).exists()

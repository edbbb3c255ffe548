"""Damaged and odd ``.npy`` files for the hostile-input corpus."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from tests.hostile.case import Case
from tests.hostile.craft import array_npy, fifo, npy_bytes, npy_header, payload_array, rgb, sparse_file

WINDOW = ("info", "view", "labels")  # valid input the shipped model cannot score as it is
LABELLED = ("info", "view", "labels")  # bad labels: scoring never reads them
DESCRIBED = ("info", "view")  # bad coordinates: only what describes the collection reads them


def written(name: str, data: Callable[[], bytes]) -> Callable[[Path], Path]:
    """A maker writing ``data()`` to ``folder/name``."""

    def make(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(data())
        return path

    return make


def saved(name: str, array: Callable[[], np.ndarray]) -> Callable[[Path], Path]:
    """A maker saving ``array()`` with numpy to ``folder/name``."""
    return written(name, lambda: array_npy(array()))


def headed(header: str, data: bytes = b"", version=(1, 0)) -> Callable[[Path], Path]:
    """A maker of ``cutouts.npy`` with the given header text and data bytes."""
    return written("cutouts.npy", lambda: npy_bytes(header, data, version))


def _pickled(folder: Path) -> Path:
    path = folder / "objects.npy"
    np.save(path, payload_array(folder), allow_pickle=True)
    return path


def _sparse(shape, descr="|u1"):
    def make(folder: Path) -> Path:
        head = npy_bytes(npy_header(descr, shape))
        size = len(head) + int(np.prod(shape, dtype=object)) * np.dtype(descr).itemsize
        return sparse_file(folder / "huge.npy", head, size)

    return make


def _device(folder: Path) -> Path:
    path = folder / "zero.npy"
    os.symlink("/dev/zero", path)
    return path


def _folder(folder: Path) -> Path:
    path = folder / "cutouts.npy"
    path.mkdir()
    return path


RGB = npy_header("|u1", (4, 64, 64, 3))
PIXELS = bytes(4 * 64 * 64 * 3)


def valid_cases() -> list[Case]:
    """Odd but valid files: every command must accept them."""
    return [
        Case("npy/valid-rgb", "valid", saved("rgb.npy", rgb), expect="ok"),
        Case(
            "npy/valid-fortran-order", "valid", saved("f.npy", lambda: np.asfortranarray(rgb())), expect="ok"
        ),
        Case(
            "npy/valid-nchw-float32",
            "valid",
            saved("nchw.npy", lambda: rgb().transpose(0, 3, 1, 2).astype(np.float32)),
            expect="ok",
            commands=WINDOW,
        ),
        Case(
            "npy/valid-big-endian-float",
            "valid",
            saved("be.npy", lambda: rgb()[..., 0].astype(">f8") + 0.5),
            expect="ok",
            commands=WINDOW,
        ),
        Case(
            "npy/valid-header-version-2",
            "valid",
            headed(RGB, PIXELS, version=(2, 0)),
            expect="ok",
        ),
        Case(
            "npy/valid-python2-header",
            "valid",
            headed("{'descr': '|u1', 'fortran_order': False, 'shape': (4L, 64L, 64L, 3L), }", PIXELS),
            expect="ok",
        ),
        Case(
            "npy/valid-header-version-3-utf8",
            "valid",
            headed(RGB, PIXELS, version=(3, 0)),
            expect="ok",
        ),
    ]


def header_cases() -> list[Case]:
    """Damaged headers: one clean error each."""
    bad_headers = {
        "tokenize-error": "{'descr': '|u1', 'fortran_order': False, 'shape': (4, 64, 64, 3), 'x': '''",
        "unclosed-brace": "{'descr': '|u1', 'fortran_order': False, 'shape': (4, 64, 64, 3)",
        "not-a-dict": "[1, 2, 3]",
        "missing-keys": "{'descr': '|u1'}",
        "negative-shape": npy_header("|u1", (-4, 64, 64, 3)),
        "float-shape": "{'descr': '|u1', 'fortran_order': False, 'shape': (4.0, 64, 64, 3), }",
        "bool-shape": npy_header("|u1", (True, 64, 64, 3)),
        "shape-not-tuple": "{'descr': '|u1', 'fortran_order': False, 'shape': 12, }",
        "huge-shape": npy_header("|u1", (10**12, 64, 64, 3)),
        "overflowing-shape": npy_header("|u1", (2**62, 2**62, 64, 3)),
        "sixty-four-axes": npy_header("|u1", (1,) * 64),
        "unknown-dtype": npy_header("zz9", (4, 64, 64, 3)),
        "dtype-not-text": "{'descr': 5, 'fortran_order': False, 'shape': (4, 64, 64, 3), }",
        "structured-dtype": "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (4, 64, 64), }",
        "nested-dtype": "{'descr': [('a', [('b', [('c', '<f4', (3, 3))])])], 'fortran_order': False, "
        "'shape': (4, 64, 64), }",
        "subarray-dtype": "{'descr': [('', '<f4', (64, 64, 3))], 'fortran_order': False, 'shape': (4,), }",
        "void-dtype": npy_header("|V0", (4, 64, 64, 3)),
        "huge-itemsize": npy_header("|V2147483647", (4, 64, 64)),
        "text-dtype": npy_header("<U8", (4, 64, 64)),
        "complex-dtype": npy_header("<c16", (4, 64, 64)),
        "fortran-not-bool": "{'descr': '|u1', 'fortran_order': 'yes', 'shape': (4, 64, 64, 3), }",
        "deep-nesting": "{'descr': '|u1', 'fortran_order': False, 'shape': " + "(" * 1000 + ")" * 1000 + "}",
        "latin1-junk": "{'descr': '\xff\xfe', 'fortran_order': False, 'shape': (4, 64, 64, 3), }",
        "empty": "",
    }
    cases = [
        Case(f"npy/header-{name}", "traceback", headed(text, PIXELS)) for name, text in bad_headers.items()
    ]
    cases += [
        Case("npy/header-version-9", "traceback", headed(RGB, PIXELS, version=(9, 0))),
        Case(
            "npy/header-invalid-utf8-v3",
            "traceback",
            written("cutouts.npy", lambda: npy_bytes(b"{'descr': '\xff', }", PIXELS, (3, 0))),
        ),
        Case(
            "npy/header-length-past-end",
            "traceback",
            written("cutouts.npy", lambda: b"\x93NUMPY\x02\x00\xff\xff\xff\x7f{'descr'"),
        ),
        Case("npy/magic-only", "traceback", written("cutouts.npy", lambda: b"\x93NUMPY")),
        Case("npy/truncated-data", "traceback", headed(RGB, PIXELS[:1000])),
        Case("npy/zero-cutouts", "traceback", saved("zero.npy", lambda: rgb()[:0])),
        Case("npy/one-pixel-cutouts", "traceback", saved("tiny.npy", lambda: rgb(4, 1, 1))),
        Case("npy/two-dimensional", "traceback", saved("flat.npy", lambda: rgb()[:, :, 0, 0])),
        Case("npy/five-dimensional", "traceback", saved("five.npy", lambda: rgb()[..., None])),
        Case("npy/no-band-axis", "traceback", saved("wide.npy", lambda: np.zeros((2, 64, 64, 64), "u1"))),
    ]
    return cases


def hostile_cases() -> list[Case]:
    """Payloads, special files and sizes beyond what can be shown."""
    return [
        Case("npy/pickled-objects", "code-from-data", _pickled),
        Case("npy/fifo", "hang", lambda folder: fifo(folder, "pipe.npy")),
        Case("npy/char-device", "hang", _device),
        Case("npy/folder-named-npy", "traceback", _folder),
        Case("npy/huge-cutouts-4096x4096x3-uint8", "memory", _sparse((8, 4096, 4096, 3)), fast=False),
        Case(
            "npy/huge-cutouts-4096x4096x3-float32", "memory", _sparse((4, 4096, 4096, 3), "<f4"), fast=False
        ),
        Case("npy/billion-cutouts", "memory", _sparse((10**9, 8, 8, 1)), fast=False),
    ]


#: The cases CI runs (``Case.fast``): one or two of each kind; the benchmark runs them all.
FAST = {
    "npy/valid-rgb",
    "npy/valid-nchw-float32",
    "npy/header-tokenize-error",
    "npy/header-negative-shape",
    "npy/header-huge-shape",
    "npy/header-structured-dtype",
    "npy/header-length-past-end",
    "npy/truncated-data",
    "npy/pickled-objects",
    "npy/fifo",
    "npy/char-device",
}


def cases() -> list[Case]:
    """Every .npy case; those in :data:`FAST` are fast."""
    return [replace(c, fast=c.name in FAST) for c in valid_cases() + header_cases() + hostile_cases()]

"""Damaged and odd ``.npz`` archives for the hostile-input corpus."""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from tests.hostile.arrays_npy import DESCRIBED, LABELLED, WINDOW
from tests.hostile.case import Case
from tests.hostile.craft import (
    array_npy,
    fifo,
    npy_bytes,
    npy_header,
    payload_array,
    rgb,
    set_zip_flags,
    stream_deflated_member,
    write_zip,
)

N = 4


def metadata() -> dict[str, np.ndarray]:
    """Labels, coordinates and ids for :data:`N` cutouts."""
    return {
        "labels": np.array([0, 1, 1, 0]),
        "ra": np.array([10.0, 11.0, np.nan, 12.5]),
        "dec": np.array([-1.0, -2.0, np.nan, 3.0]),
        "ids": np.array(["a0", "a1", "a2", "a3"]),
    }


def archive(name: str = "cutouts.npz", compression=zipfile.ZIP_DEFLATED, **arrays) -> Callable[[Path], Path]:
    """A maker of an npz holding ``images`` (4 RGB cutouts) and metadata, replaced or removed by ``arrays``.

    A value may be an array, raw member bytes, or None (leave that array out).
    """

    def make(folder: Path) -> Path:
        content: dict[str, object] = {"images": rgb(N), **metadata(), **arrays}
        members = {}
        for key, value in content.items():
            if value is None:
                continue
            members[f"{key}.npy"] = value if isinstance(value, bytes) else array_npy(np.asarray(value))
        return write_zip(folder / name, members, compression)

    return make


def _pickled(key: str) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / "objects.npz"
        content = {"images": rgb(N), **metadata()}
        content[key] = payload_array(folder)
        np.savez(path, **content)  # savez pickles object arrays
        return path

    return make


def _flagged(flag_bits: int = 0, method: int | None = None) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        return set_zip_flags(archive()(folder), flag_bits, method)

    return make


def _truncated_zip(folder: Path) -> Path:
    path = archive(compression=zipfile.ZIP_STORED)(folder)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _bomb(n_bytes: int) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        n = n_bytes // (64 * 64 * 3)
        head = npy_bytes(npy_header("|u1", (n, 64, 64, 3)))
        return stream_deflated_member(folder / "bomb.npz", "images.npy", head, n * 64 * 64 * 3)

    return make


def _huge_stored(folder: Path) -> Path:
    path = folder / "huge.npz"
    np.savez(path, images=np.zeros((2, 4096, 4096, 3), np.uint8))
    return path


def _non_utf8_name(folder: Path) -> Path:
    path = Path(os.fsdecode(os.fsencode(folder) + b"/cut\xffouts.npz"))
    archive()(folder).rename(path)
    return path


def claimed(shape, descr: str = "|u1") -> bytes:
    """A member whose header claims ``shape`` but which holds 16 bytes."""
    return npy_bytes(npy_header(descr, shape), bytes(16))


def valid_cases() -> list[Case]:
    """Odd but valid archives."""
    bad_bytes = np.array([b"\xff\xfeid", b"\xc3(", b"ok", b"\x80"])
    return [
        Case("npz/valid-compressed-with-metadata", "valid", archive(), expect="ok"),
        Case("npz/valid-stored", "valid", archive(compression=zipfile.ZIP_STORED), expect="ok"),
        Case("npz/valid-bzip2", "valid", archive(compression=zipfile.ZIP_BZIP2), expect="ok"),
        Case("npz/valid-lzma", "valid", archive(compression=zipfile.ZIP_LZMA), expect="ok"),
        Case(
            "npz/valid-images-only", "valid", archive(labels=None, ra=None, dec=None, ids=None), expect="ok"
        ),
        Case("npz/valid-integer-ids", "valid", archive(ids=np.arange(100, 104)), expect="ok"),
        Case("npz/ids-non-utf8-bytes", "crash", archive(ids=bad_bytes), expect="ok"),
        Case(
            "npz/bands-non-utf8-bytes",
            "traceback",
            archive(bands=np.array([b"\xffg", b"r", b"\xfe"])),
            expect="ok",
            commands=WINDOW,
        ),
        Case(
            "npz/bands-one-string", "traceback", archive(bands=np.array("grz")), expect="ok", commands=WINDOW
        ),
        Case("npz/bands-0d-number", "traceback", archive(bands=np.array(5)), expect="ok"),
        Case("npz/bands-2d", "traceback", archive(bands=np.array([["g", "r", "z"]])), expect="ok"),
        Case("npz/bands-too-many", "valid", archive(bands=np.array(list("ugrizy"))), expect="ok"),
        Case(
            "npz/member-name-traversal",
            "code-from-data",
            lambda folder: write_zip(folder / "slip.npz", {"../../images.npy": array_npy(rgb(N))}),
            expect="ok",
        ),
        Case("npz/file-name-non-utf8", "traceback", _non_utf8_name, expect="ok"),
    ]


def member_cases() -> list[Case]:
    """Damaged members and metadata of odd shape or type."""
    images_header = {
        "tokenize-error": "{'descr': '|u1', 'fortran_order': False, 'shape': (4, 64, 64, 3), 'x': '''",
        "negative-shape": npy_header("|u1", (-4, 64, 64, 3)),
        "not-a-dict": "(1, 2)",
        "unknown-dtype": npy_header("zz9", (4, 64, 64, 3)),
    }
    cases = [
        Case(f"npz/images-header-{name}", "traceback", archive(images=npy_bytes(text, bytes(49152))))
        for name, text in images_header.items()
    ]
    cases += [
        Case(
            "npz/images-header-claims-1e12-elements", "crash", archive(images=claimed((81380209, 64, 64, 3)))
        ),
        Case("npz/images-truncated-member", "traceback", archive(images=array_npy(rgb(N))[:5000])),
        Case("npz/images-not-npy-magic", "traceback", archive(images=b"hello, world" * 10)),
        Case(
            "npz/labels-header-claims-1e12-elements",
            "crash",
            archive(labels=claimed((10**12,), "<i8")),
            commands=LABELLED,
        ),
        Case("npz/labels-0d", "traceback", archive(labels=np.array(1)), commands=LABELLED),
        Case("npz/labels-2d", "traceback", archive(labels=np.zeros((N, 2))), commands=LABELLED),
        Case("npz/labels-wrong-length", "traceback", archive(labels=np.zeros(N + 3)), commands=LABELLED),
        Case(
            "npz/labels-text",
            "traceback",
            archive(labels=np.array(["LSBG", "x", "y", "z"])),
            commands=LABELLED,
        ),
        Case("npz/labels-1e19", "traceback", archive(labels=np.full(N, 1e19)), commands=LABELLED),
        Case("npz/labels-complex", "traceback", archive(labels=np.zeros(N, complex)), commands=LABELLED),
        Case("npz/ra-text", "traceback", archive(ra=np.array(["12h", "13h", "x", "y"])), commands=DESCRIBED),
        Case("npz/ra-0d", "traceback", archive(ra=np.array(1.5)), commands=DESCRIBED),
        Case("npz/dec-2d", "traceback", archive(dec=np.zeros((N, 2))), commands=DESCRIBED),
        Case("npz/ids-0d", "traceback", archive(ids=np.array("x"))),
        Case("npz/ids-2d", "traceback", archive(ids=np.zeros((N, 2)))),
        Case("npz/images-text", "traceback", archive(images=np.full((N, 8, 8, 3), "x"))),
        Case("npz/images-zero-cutouts", "traceback", archive(images=rgb(0))),
    ]
    return cases


def archive_cases() -> list[Case]:
    """Damaged or hostile archives as a whole."""
    return [
        Case("npz/dataset-nope", "wrong-answer", archive(), args=("--dataset", "nope")),
        Case("npz/dataset-names-labels", "wrong-answer", archive(), args=("--dataset", "labels")),
        Case("npz/encrypted-members", "traceback", _flagged(flag_bits=0x1)),
        Case("npz/unknown-compression", "traceback", _flagged(method=99)),
        Case("npz/truncated-zip", "traceback", _truncated_zip),
        Case("npz/empty-zip", "traceback", lambda folder: write_zip(folder / "empty.npz", {})),
        Case("npz/no-npy-members", "traceback", lambda folder: write_zip(folder / "t.npz", {"a.txt": b"x"})),
        Case("npz/no-images", "traceback", archive(images=None)),
        Case("npz/two-stacks-no-images", "traceback", archive(images=None, a=rgb(N), b=rgb(N))),
        Case("npz/pickled-images", "code-from-data", _pickled("images")),
        Case("npz/pickled-labels", "code-from-data", _pickled("labels")),
        Case("npz/pickled-ids", "code-from-data", _pickled("ids")),
        Case("npz/fifo", "hang", lambda folder: fifo(folder, "pipe.npz")),
        Case("npz/deflate-bomb-600MB", "memory", _bomb(600 * 2**20), fast=False),
        Case("npz/deflate-bomb-2.4GB", "memory", _bomb(2400 * 10**6), fast=False),
        Case("npz/huge-cutouts-4096x4096x3", "memory", _huge_stored, fast=False),
    ]


#: The cases CI runs (``Case.fast``); the benchmark runs them all.
FAST = {
    "npz/valid-compressed-with-metadata",
    "npz/valid-stored",
    "npz/ids-non-utf8-bytes",
    "npz/bands-non-utf8-bytes",
    "npz/bands-one-string",
    "npz/member-name-traversal",
    "npz/images-header-tokenize-error",
    "npz/images-header-claims-1e12-elements",
    "npz/labels-header-claims-1e12-elements",
    "npz/labels-0d",
    "npz/ra-text",
    "npz/dataset-nope",
    "npz/encrypted-members",
    "npz/unknown-compression",
    "npz/pickled-images",
    "npz/pickled-labels",
    "npz/fifo",
}


def cases() -> list[Case]:
    """Every .npz case; those in :data:`FAST` are fast."""
    return [replace(c, fast=c.name in FAST) for c in valid_cases() + member_cases() + archive_cases()]

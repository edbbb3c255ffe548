"""Damaged and hostile HDF5 files for the hostile-input corpus."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from tests.hostile.arrays_npy import DESCRIBED, LABELLED, WINDOW
from tests.hostile.case import Case
from tests.hostile.craft import corrupt, deflate_zeros, fifo, rgb

N = 4
#: Where :func:`_damaged` overwrites 64 bytes of a small file's metadata (each found to break it).
CORRUPT_AT = (48, 144, 624, 720, 864, 1056, 1152, 1392, 1680, 1776, 53248, 53536)
SHAPE = (N, 64, 64, 3)
ALLOW = ("--allow-external",)


def hdf5(name: str = "cutouts.h5", images=None, attrs=None, **extra) -> Callable[[Path], Path]:
    """A maker of an HDF5 file with ``images`` (4 RGB cutouts), labels, ra, dec, ids.

    ``extra`` replaces (array) or removes (None) the metadata datasets or adds others;
    ``attrs`` are set on the images dataset.
    """

    def make(folder: Path) -> Path:
        import h5py

        path = folder / name
        content = {
            "labels": np.array([0, 1, 1, 0]),
            "ra": np.array([10.0, 11.0, np.nan, 12.5]),
            "dec": np.array([-1.0, -2.0, np.nan, 3.0]),
            "ids": np.array([b"a0", b"a1", b"a2", b"a3"]),
            **extra,
        }
        with h5py.File(path, "w") as f:
            dataset = f.create_dataset("images", data=rgb(N) if images is None else images)
            for key, value in (attrs or {}).items():
                dataset.attrs[key] = value
            for key, value in content.items():
                if value is not None:
                    f.create_dataset(key, data=value)
        return path

    return make


def _with(build: Callable) -> Callable[[Path], Path]:
    """A maker of ``cutouts.h5`` filled by ``build(h5file, folder)``."""

    def make(folder: Path) -> Path:
        import h5py

        path = folder / "cutouts.h5"
        with h5py.File(path, "w") as f:
            build(f, folder)
        return path

    return make


def _virtual(f, sources: list[tuple[str, str]]) -> None:
    """An ``images`` virtual dataset stacking one cutout from each (file, dataset) source."""
    import h5py

    layout = h5py.VirtualLayout(shape=(len(sources), 64, 64, 3), dtype="u1")
    for k, (file_name, dataset) in enumerate(sources):
        layout[k] = h5py.VirtualSource(file_name, dataset, shape=(64, 64, 3))
    f.create_virtual_dataset("images", layout, fillvalue=0)


def _source_file(path: Path) -> str:
    import h5py

    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as f:
        f.create_dataset("cutout", data=rgb(1)[0])
    return str(path)


def _vds_self(f, _folder) -> None:
    _virtual(f, [(".", "images")] * N)


def _vds_cycle(f, _folder) -> None:
    import h5py

    layout = h5py.VirtualLayout(shape=SHAPE, dtype="u1")
    layout[:] = h5py.VirtualSource(".", "other", shape=SHAPE)
    f.create_virtual_dataset("images", layout, fillvalue=0)
    back = h5py.VirtualLayout(shape=SHAPE, dtype="u1")
    back[:] = h5py.VirtualSource(".", "images", shape=SHAPE)
    f.create_virtual_dataset("other", back, fillvalue=0)


def _vds_same_file(f, _folder) -> None:
    f.create_dataset("stack", data=rgb(N))
    import h5py

    layout = h5py.VirtualLayout(shape=SHAPE, dtype="u1")
    layout[:] = h5py.VirtualSource(".", "stack", shape=SHAPE)
    f.create_virtual_dataset("images", layout, fillvalue=0)


def _vds_inside(f, folder) -> None:
    _source_file(folder / "parts" / "p0.h5")
    _virtual(f, [("parts/p0.h5", "cutout")] * N)


def _vds_outside(f, folder) -> None:
    source = _source_file(folder.parent / "elsewhere" / "secret.h5")
    _virtual(f, [(source, "cutout")] * N)


def _vds_relative_up(f, folder) -> None:
    _source_file(folder.parent / "elsewhere" / "secret.h5")
    _virtual(f, [("../elsewhere/secret.h5", "cutout")] * N)


def _vds_missing(f, _folder) -> None:
    _virtual(f, [("nowhere.h5", "cutout")] * N)


def _vds_fifo(f, folder) -> None:
    fifo(folder, "pipe.h5")
    _virtual(f, [("pipe.h5", "cutout")] * N)


def _external(target: Callable[[Path], str]) -> Callable:
    def build(f, folder) -> None:
        f.create_dataset(
            "images", shape=SHAPE, dtype="u1", external=[(target(folder), 0, int(np.prod(SHAPE)))]
        )

    return build


def _raw(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    rgb(N).tofile(path)
    return str(path)


def _sparse_huge(f, _folder) -> None:
    f.create_dataset("images", shape=(10**6, 4096, 4096, 3), dtype="u1", chunks=(1, 4096, 4096, 3))


def _big_chunk(n: int) -> Callable:
    def build(f, _folder) -> None:
        dataset = f.create_dataset(
            "images", shape=(n, 64, 64, 3), dtype="u1", chunks=(n, 64, 64, 3), compression="gzip"
        )
        dataset.id.write_direct_chunk((0, 0, 0, 0), deflate_zeros(n * 64 * 64 * 3))

    return build


def _unknown_filter(f, _folder) -> None:
    dataset = f.create_dataset(
        "images", shape=SHAPE, dtype="u1", chunks=(1, 64, 64, 3), compression=32001, allow_unknown_filter=True
    )
    for k in range(N):
        dataset.id.write_direct_chunk((k, 0, 0, 0), b"\x00" * 100)


def _huge_labels(f, _folder) -> None:
    f.create_dataset("images", data=rgb(N))
    f.create_dataset("labels", shape=(10**12,), dtype="i8", chunks=(2**16,))


def _external_link(f, folder) -> None:
    import h5py

    other = folder / "other.h5"
    with h5py.File(other, "w") as g:
        g.create_dataset("images", data=rgb(N))
    f["images"] = h5py.ExternalLink(str(other), "images")


def _userblock(folder: Path) -> Path:
    import h5py

    path = folder / "ub.h5"
    with h5py.File(path, "w", userblock_size=512) as f:
        f.create_dataset("images", data=rgb(N))
    return path


def _damaged(offset: int, data: bytes) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        return corrupt(hdf5()(folder), offset, data)

    return make


def _truncated(folder: Path) -> Path:
    path = hdf5()(folder)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def valid_cases() -> list[Case]:
    """Odd but valid files."""
    bad = np.array([b"\xff\xfe", b"\xc3(", b"ok", b"\x80"])
    return [
        Case("h5/valid-with-metadata", "valid", hdf5(), expect="ok"),
        Case("h5/valid-vds-same-file", "valid", _with(_vds_same_file), expect="ok"),
        Case("h5/valid-vds-inside-folder", "valid", _with(_vds_inside), expect="ok"),
        Case("h5/valid-userblock", "wrong-answer", _userblock, expect="ok"),
        Case(
            "h5/valid-nchw-layout-attr",
            "valid",
            hdf5(images=rgb(N).transpose(0, 3, 1, 2).astype("f4"), attrs={"layout": "NCHW"}),
            expect="ok",
            commands=WINDOW,
        ),
        Case("h5/ids-non-utf8-bytes", "crash", hdf5(ids=bad), expect="ok"),
        Case(
            "h5/bands-attr-non-utf8",
            "traceback",
            hdf5(attrs={"bands": np.array([b"\xffg", b"r", b"z"])}),
            expect="ok",
            commands=WINDOW,
        ),
        Case("h5/bands-attr-0d-number", "traceback", hdf5(attrs={"bands": 5}), expect="ok"),
        Case(
            "h5/bands-attr-2d",
            "traceback",
            hdf5(attrs={"bands": np.array([[b"g", b"r", b"z"]])}),
            expect="ok",
        ),
        Case(
            "h5/external-inside-folder-allowed",
            "valid",
            _with(_external(lambda folder: _raw(folder / "raw.bin"))),
            expect="ok",
            args=ALLOW,
        ),
        Case("h5/vds-outside-folder-allowed", "valid", _with(_vds_outside), expect="ok", args=ALLOW),
    ]


def metadata_cases() -> list[Case]:
    """Odd metadata: layout attributes, labels, coordinates, ids, image types."""
    return [
        Case("h5/layout-attr-list", "traceback", hdf5(attrs={"layout": ["N", "H", "W", "C"]})),
        Case("h5/layout-attr-unknown", "traceback", hdf5(attrs={"layout": "XYZW"})),
        Case("h5/layout-attr-number", "traceback", hdf5(attrs={"layout": 3})),
        Case("h5/layout-attr-non-utf8", "traceback", hdf5(attrs={"layout": np.bytes_(b"\xffHWC")})),
        Case("h5/labels-0d", "traceback", hdf5(labels=np.array(1)), commands=LABELLED),
        Case("h5/labels-2d", "traceback", hdf5(labels=np.zeros((N, 2))), commands=LABELLED),
        Case("h5/labels-wrong-length", "traceback", hdf5(labels=np.zeros(N + 2)), commands=LABELLED),
        Case("h5/labels-1e12-sparse", "memory", _with(_huge_labels), commands=LABELLED),
        Case("h5/ra-text", "traceback", hdf5(ra=np.array([b"12h", b"x", b"y", b"z"])), commands=DESCRIBED),
        Case("h5/ra-0d", "traceback", hdf5(ra=np.array(2.0)), commands=DESCRIBED),
        Case("h5/ids-2d", "traceback", hdf5(ids=np.zeros((N, 2)))),
        Case(
            "h5/images-compound",
            "traceback",
            hdf5(images=np.zeros((N, 8, 8), dtype=[("a", "f4"), ("b", "i2")])),
        ),
        Case("h5/images-text", "traceback", hdf5(images=np.full((N, 8, 8), b"x"))),
        Case("h5/images-bool", "traceback", hdf5(images=np.zeros((N, 8, 8, 1), bool))),
        Case(
            "h5/images-zero-cutouts",
            "traceback",
            hdf5(images=rgb(0), labels=None, ra=None, dec=None, ids=None),
        ),
        Case("h5/no-datasets", "traceback", _with(lambda f, _folder: f.create_group("empty"))),
        Case("h5/only-1d-datasets", "traceback", hdf5(images=np.zeros(N))),
        Case("h5/dataset-nope", "wrong-answer", hdf5(), args=("--dataset", "nope")),
        Case("h5/external-link-images", "wrong-answer", _with(_external_link)),
    ]


def storage_cases() -> list[Case]:
    """Virtual and external storage, filters, chunks, sizes, damage."""
    return [
        Case("h5/vds-self-source", "crash", _with(_vds_self)),
        Case("h5/vds-cycle", "crash", _with(_vds_cycle)),
        Case("h5/vds-outside-folder", "wrong-answer", _with(_vds_outside)),
        Case("h5/vds-relative-outside-folder", "wrong-answer", _with(_vds_relative_up)),
        Case("h5/vds-missing-source", "wrong-answer", _with(_vds_missing)),
        Case("h5/vds-fifo-source-allowed", "hang", _with(_vds_fifo), args=ALLOW),
        Case(
            "h5/external-outside-folder",
            "wrong-answer",
            _with(_external(lambda d: _raw(d.parent / "x" / "s.bin"))),
        ),
        Case("h5/external-inside-folder", "wrong-answer", _with(_external(lambda d: _raw(d / "raw.bin")))),
        Case("h5/external-system-file", "wrong-answer", _with(_external(lambda _d: "/etc/passwd"))),
        Case(
            "h5/external-fifo-allowed", "hang", _with(_external(lambda d: str(fifo(d, "p.bin")))), args=ALLOW
        ),
        Case("h5/unknown-filter", "traceback", _with(_unknown_filter)),
        Case("h5/sparse-1e6x4096x4096x3", "memory", _with(_sparse_huge)),
        Case("h5/chunk-300MB", "memory", _with(_big_chunk(300 * 2**20 // 12288)), fast=False),
        Case("h5/chunk-1.8GB", "memory", _with(_big_chunk(150_000)), fast=False),
        Case("h5/fifo", "hang", lambda folder: fifo(folder, "pipe.h5")),
        Case("h5/truncated", "traceback", _truncated),
        Case("h5/corrupt-superblock", "traceback", _damaged(8, b"\xff" * 40)),
    ] + [
        Case(f"h5/corrupt-metadata-at-{offset}", "traceback", _damaged(offset, bytes(range(251, 187, -1))))
        for offset in CORRUPT_AT
    ]


#: The cases CI runs (``Case.fast``); the benchmark runs them all.
FAST = {
    "h5/valid-with-metadata",
    "h5/valid-vds-inside-folder",
    "h5/valid-userblock",
    "h5/ids-non-utf8-bytes",
    "h5/bands-attr-non-utf8",
    "h5/vds-outside-folder-allowed",
    "h5/layout-attr-list",
    "h5/labels-0d",
    "h5/labels-1e12-sparse",
    "h5/ra-text",
    "h5/dataset-nope",
    "h5/vds-self-source",
    "h5/vds-cycle",
    "h5/vds-outside-folder",
    "h5/external-outside-folder",
    "h5/external-system-file",
    "h5/external-fifo-allowed",
    "h5/unknown-filter",
    "h5/sparse-1e6x4096x4096x3",
    "h5/fifo",
    "h5/corrupt-metadata-at-144",
}


def cases() -> list[Case]:
    """Every HDF5 case; those in :data:`FAST` are fast."""
    return [replace(c, fast=c.name in FAST) for c in valid_cases() + metadata_cases() + storage_cases()]

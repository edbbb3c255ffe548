"""Damaged and hostile .npz archives and odd metadata: one clean error or a sensible reading (issue 11)."""

from __future__ import annotations

import tracemalloc
import zipfile

import numpy as np
import pytest

from galview.core.errors import CollectionError
from galview.io import open_collection
from tests.hostile.craft import array_npy, npy_bytes, npy_header, set_zip_flags, write_zip
from tests.io.refusals import one_line, refused

N = 4


def _images():
    return np.arange(N * 8 * 8 * 3, dtype=np.uint8).reshape(N, 8, 8, 3)


def _archive(tmp_path, compression=zipfile.ZIP_DEFLATED, **arrays):
    """An npz with 4 RGB cutouts as ``images`` and the given members (arrays or raw member bytes)."""
    content = {"images": _images(), **arrays}
    members = {
        f"{key}.npy": value if isinstance(value, bytes) else array_npy(np.asarray(value))
        for key, value in content.items()
        if value is not None
    }
    return write_zip(tmp_path / "cutouts.npz", members, compression)


def _claims(shape, descr="|u1") -> bytes:
    return npy_bytes(npy_header(descr, shape), bytes(16))


def test_images_header_claiming_1e12_elements_is_refused_when_opened(tmp_path):
    path = _archive(tmp_path, images=_claims((81380209, 64, 64, 3)))
    refused(path, "array 'images' is damaged: its header announces 1,000,000,008,192 bytes", "holds 16")


def test_labels_header_claiming_1e12_elements_is_refused_before_reading(tmp_path):
    path = _archive(tmp_path, labels=_claims((10**12,), "<i8"))
    refused(path, "array 'labels' is damaged")


def test_labels_longer_than_the_collection_are_refused_before_reading(tmp_path):
    path = _archive(tmp_path, compression=zipfile.ZIP_STORED, labels=np.zeros(10**6))
    c = open_collection(path)
    tracemalloc.start()
    try:
        with pytest.raises(CollectionError) as info:
            c.labels  # noqa: B018
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    one_line(info.value, path, ["has 1000000 labels for 4 cutouts"])
    assert peak < 1_000_000


@pytest.mark.parametrize(
    ("damage", "fragment"),
    [
        ({"flag_bits": 0x1}, "array 'images' is encrypted"),
        ({"method": 99}, "zip compression method 99, which GalView cannot read"),
    ],
)
def test_encrypted_or_unknown_compression(tmp_path, damage, fragment):
    path = set_zip_flags(_archive(tmp_path), **damage)
    refused(path, fragment)


@pytest.mark.parametrize(
    ("member", "fragment"),
    [
        (
            npy_bytes("{'descr': '|u1', 'fortran_order': False, 'shape': (4, 8), 'x': '''", bytes(32)),
            "damaged header",
        ),
        (npy_bytes(npy_header("|u1", (-4, 8, 8, 3)), bytes(32)), "sizes >= 0"),
        (b"hello, world" * 10, "no .npy magic string"),
        (array_npy(_images())[:500], "is damaged: its header announces 768 bytes"),
    ],
)
def test_damaged_member_is_one_line(tmp_path, member, fragment):
    path = _archive(tmp_path, images=member)
    refused(path, "array 'images'", fragment)


def test_compressed_images_beyond_the_budget_are_refused_before_decompressing(tmp_path, monkeypatch):
    from galview.core import budget  # new in issue 11: imported here so that older code fails each test

    monkeypatch.setattr(budget, "MAX_WHOLE_ARRAY_BYTES", 500)
    path = _archive(tmp_path)
    refused(path, "array 'images' (compressed) holds 768 bytes", "np.savez (uncompressed) or as HDF5")


def test_stored_archive_is_memory_mapped_not_loaded(tmp_path):
    images = np.zeros((1500, 64, 64, 3), np.uint8)  # 18 MB
    images[-1] = 7
    path = tmp_path / "stored.npz"
    np.savez(path, images=images, labels=np.arange(1500) % 2)
    tracemalloc.start()
    try:
        c = open_collection(path)
        first, last = c.get(0), c.get(1499)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2_000_000
    assert int(first.max()) == 0 and int(last.min()) == 7
    assert c.labels.tolist()[:4] == [0, 1, 0, 1]


@pytest.mark.parametrize("compression", [zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_compressed_archives_read_the_same(tmp_path, compression):
    path = _archive(tmp_path, compression, labels=np.array([0, 1, 1, 0]))
    c = open_collection(path)
    np.testing.assert_array_equal(c.get_batch([3, 1, 3]), _images()[[3, 1, 3]])
    assert c.labels.tolist() == [0, 1, 1, 0]


def test_a_named_dataset_that_is_not_there_is_refused(tmp_path):
    path = _archive(tmp_path, labels=np.zeros(N))
    refused(path, "has no array 'nope' (found images, labels)", dataset="nope")


@pytest.mark.parametrize(
    ("arrays", "read", "fragment"),
    [
        ({"labels": np.array(1)}, "labels", "labels have shape (); expected one per cutout, shape (4,)"),
        ({"labels": np.zeros((N, 2))}, "labels", "labels have shape (4, 2)"),
        ({"labels": np.full(N, 1e19)}, "labels", "a label is 1e+19; expected integer class indices"),
        ({"labels": np.array([0.5, 1, 0, 1])}, "labels", "a label is 0.5"),
        ({"labels": np.array(["a", "b", "c", "d"])}, "labels", "labels are of type <U1"),
        ({"labels": np.zeros(N, complex)}, "labels", "labels are of type complex128"),
        ({"ra": np.array(["12h"] * N), "dec": np.zeros(N)}, "coords", "RA values are of type <U3"),
        ({"ra": np.array(1.5), "dec": np.zeros(N)}, "coords", "RA values have shape ()"),
        ({"ra": np.zeros(N), "dec": np.zeros((N, 2))}, "coords", "Dec values have shape (4, 2)"),
        ({"ids": np.array("x")}, "ids", "ids have shape ()"),
        ({"ids": np.zeros((N, 2))}, "ids", "ids have shape (4, 2)"),
    ],
)
def test_metadata_of_odd_shape_or_type_is_one_line(tmp_path, arrays, read, fragment):
    path = _archive(tmp_path, **arrays)
    c = open_collection(path)
    with pytest.raises(CollectionError) as info:
        getattr(c, read)
    one_line(info.value, path, [fragment])
    with pytest.raises(CollectionError):
        c.describe()  # what info and the window call when they open a collection


def test_labels_with_nan_unsure_and_many_classes_are_fine(tmp_path):
    path = _archive(tmp_path, labels=np.array([np.nan, -1, 0, 7]))
    np.testing.assert_array_equal(open_collection(path).labels, [np.nan, -1, 0, 7])


def test_non_utf8_ids_and_band_names_are_shown_escaped(tmp_path):
    ids = np.array([b"\xff\xfeid", b"\xc3(", b"ok", b"caf\xc3\xa9"])
    path = _archive(tmp_path, ids=ids, bands=np.array([b"\xffg", b"r", b"z"]))
    c = open_collection(path)
    assert c.ids.tolist() == ["\\xff\\xfeid", "\\xc3(", "ok", "café"]
    assert c.id_of(0) == "\\xff\\xfeid"
    assert c.bands == ("\\xffg", "r", "z")
    assert c.describe()["n"] == N


@pytest.mark.parametrize(
    ("bands", "expected"),
    [
        (np.array("grz"), ("g", "r", "z")),
        (np.array("F1,F2,F3"), ("F1", "F2", "F3")),
        (np.array([["g", "r", "z"]]), ("g", "r", "z")),
        (np.array(5), ("R", "G", "B")),
        (np.array(list("ugrizy")), ("R", "G", "B")),
    ],
)
def test_band_names_of_any_shape(tmp_path, bands, expected):
    assert open_collection(_archive(tmp_path, bands=bands)).bands == expected

"""Hostile HDF5 storage and damaged metadata: refused before any pixel is read, in one line (issue 11)."""

from __future__ import annotations

import os

import h5py
import numpy as np
import pytest

from galview.cli import main
from galview.core.errors import CollectionError
from galview.io import open_collection
from tests.hostile.craft import corrupt, rgb
from tests.io.refusals import refused

N = 4
SHAPE = (N, 64, 64, 3)


def _source(path, data) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as f:
        f["cutouts"] = data
    return str(path)


def _virtual(path, sources, name="images"):
    """``path`` with a virtual ``images`` stacking the (file, dataset) sources, each (N, 64, 64, 3)."""
    with h5py.File(path, "a") as f:
        layout = h5py.VirtualLayout(shape=(N * len(sources), 64, 64, 3), dtype="u1")
        for k, (file_name, dataset) in enumerate(sources):
            layout[k * N : (k + 1) * N] = h5py.VirtualSource(file_name, dataset, shape=SHAPE)
        f.create_virtual_dataset(name, layout, fillvalue=0)
    return path


def test_virtual_dataset_whose_source_is_itself_is_refused(tmp_path):
    path = _virtual(tmp_path / "self.h5", [(".", "images")])
    refused(path, "virtual dataset 'images': source .:images is itself virtual")


def test_virtual_datasets_in_a_cycle_are_refused(tmp_path):
    path = _virtual(tmp_path / "cycle.h5", [(".", "other")])
    _virtual(path, [(".", "images")], name="other")
    refused(path, "is itself virtual")


def test_virtual_sources_in_the_folder_read_relative_to_the_file(tmp_path, monkeypatch):
    data = rgb(N)
    _source(tmp_path / "data" / "parts" / "p.h5", data)
    path = _virtual(tmp_path / "data" / "v.h5", [("parts/p.h5", "cutouts"), (".", "stack")])
    with h5py.File(path, "a") as f:
        f["stack"] = data[::-1]
    monkeypatch.chdir(tmp_path)
    with open_collection(path) as c:
        np.testing.assert_array_equal(c.get_batch([0, 7]), [data[0], data[0]])


@pytest.mark.parametrize("relative", [False, True])
def test_virtual_sources_outside_the_folder_are_refused_unless_allowed(tmp_path, relative):
    data = rgb(N)
    secret = _source(tmp_path / "elsewhere" / "secret.h5", data)
    (tmp_path / "data").mkdir()
    name = "../elsewhere/secret.h5" if relative else secret
    path = _virtual(tmp_path / "data" / "v.h5", [(name, "cutouts")])
    refused(path, "lies outside the file's folder", "--allow-external")
    with open_collection(path, allow_external=True) as c:
        np.testing.assert_array_equal(c.get(2), data[2])


def test_missing_virtual_source_is_refused(tmp_path):
    path = _virtual(tmp_path / "v.h5", [("nowhere.h5", "cutouts")])
    refused(path, "nowhere.h5 is missing")


def test_virtual_source_that_is_a_named_pipe_is_refused(tmp_path):
    os.mkfifo(tmp_path / "pipe.h5")
    path = _virtual(tmp_path / "v.h5", [("pipe.h5", "cutouts")])
    refused(path, "is not a regular file", allow_external=True)


def _external(path, target):
    with h5py.File(path, "w") as f:
        f.create_dataset("images", shape=SHAPE, dtype="u1", external=[(target, 0, int(np.prod(SHAPE)))])
    return path


def test_external_storage_is_refused_unless_allowed_and_read_beside_the_file(tmp_path, monkeypatch):
    data = rgb(N)
    data.tofile(tmp_path / "raw.bin")
    path = _external(tmp_path / "ext.h5", "raw.bin")
    refused(path, "keeps its pixels in other files (external storage:", "raw.bin", "--allow-external")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # HDF5 alone would look for raw.bin here
    with open_collection(path, allow_external=True) as c:
        np.testing.assert_array_equal(c.get(3), data[3])


def test_external_storage_naming_any_file_on_the_machine_is_refused(tmp_path):
    refused(_external(tmp_path / "ext.h5", "/etc/passwd"), "/etc/passwd", "--allow-external")


def test_external_storage_in_a_named_pipe_is_refused_even_when_allowed(tmp_path):
    os.mkfifo(tmp_path / "p.bin")
    refused(_external(tmp_path / "ext.h5", "p.bin"), "is not a regular file", allow_external=True)


def test_allow_external_on_the_command_line(tmp_path, capsys):
    rgb(N).tofile(tmp_path / "raw.bin")
    path = _external(tmp_path / "ext.h5", "raw.bin")
    assert main(["info", str(path)]) == 2
    assert "--allow-external" in capsys.readouterr().err
    assert main(["info", str(path), "--allow-external"]) == 0


def test_filter_this_installation_cannot_decode_is_refused(tmp_path):
    path = tmp_path / "blosc.h5"
    with h5py.File(path, "w") as f:
        ds = f.create_dataset(
            "images",
            shape=SHAPE,
            dtype="u1",
            chunks=(1, 64, 64, 3),
            compression=32001,
            allow_unknown_filter=True,
        )
        ds.id.write_direct_chunk((0, 0, 0, 0), b"\x00" * 100)
    refused(path, "compressed with HDF5 filter 32001", "cannot decode")


def test_chunks_beyond_the_budget_are_refused(tmp_path, monkeypatch):
    from galview.core import budget  # new in issue 11: imported here so that older code fails each test

    monkeypatch.setattr(budget, "MAX_CHUNK_BYTES", 2**15)
    path = tmp_path / "chunky.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("images", data=rgb(N), chunks=SHAPE, compression="gzip")
    refused(path, "stored in chunks of 49.2 kB", "limit is 32.8 kB per chunk")


def test_huge_sparse_dataset_is_refused_when_opened(tmp_path):
    path = tmp_path / "sparse.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("images", shape=(10**6, 4096, 4096, 3), dtype="u1", chunks=(1, 512, 512, 3))
    refused(path, "cutouts of 4096×4096×3 (50,331,648 values) are larger than GalView can show")


def test_huge_labels_are_refused_before_reading(tmp_path):
    path = tmp_path / "labels.h5"
    with h5py.File(path, "w") as f:
        f["images"] = rgb(N)
        f.create_dataset("labels", shape=(10**12,), dtype="i8", chunks=(2**16,))
    with (
        open_collection(path) as c,
        pytest.raises(CollectionError, match="has 1000000000000 labels for 4 cutouts"),
    ):
        c.labels  # noqa: B018


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (["N", "H", "W", "C"], "is ['N', 'H', 'W', 'C']; expected one of NHWC, NCHW, NHW"),
        ("XYZW", "is 'XYZW'"),
        (3, "is 3"),
        (np.bytes_(b"\xffHWC"), "expected one of NHWC"),
    ],
)
def test_odd_layout_attribute_is_one_line(tmp_path, value, fragment):
    path = tmp_path / "layout.h5"
    with h5py.File(path, "w") as f:
        f["images"] = rgb(N)
        f["images"].attrs["layout"] = value
    refused(path, "attribute 'layout' of '/images'", fragment)


def test_non_utf8_band_names_and_variable_length_ids(tmp_path):
    path = tmp_path / "names.h5"
    with h5py.File(path, "w") as f:
        f["images"] = rgb(N)
        f["images"].attrs["bands"] = np.array([b"\xffg", b"r", b"z"])
        f.create_dataset("ids", data=["a", "b", "c", "\u00e9"], dtype=h5py.string_dtype())
    with open_collection(path) as c:
        assert c.bands == ("\\xffg", "r", "z")
        assert c.ids.tolist() == ["a", "b", "c", "é"]


@pytest.mark.parametrize("offset", [48, 144, 624, 864, 1152, 1680])
def test_corrupt_metadata_is_one_line(tmp_path, offset):
    path = tmp_path / "damaged.h5"
    with h5py.File(path, "w") as f:
        f["images"] = rgb(N)
        for name, value in (("labels", [0, 1, 1, 0]), ("ra", np.zeros(N)), ("dec", np.zeros(N))):
            f[name] = value
        f["ids"] = np.array([b"a0", b"a1", b"a2", b"a3"])
    corrupt(path, offset, bytes(range(251, 187, -1)))
    message = refused(path)
    assert "HDF5" in message


def test_hdf5_after_a_user_block_is_recognised(tmp_path):
    path = tmp_path / "ub.h5"
    with h5py.File(path, "w", userblock_size=1024) as f:
        f["images"] = rgb(N)
    with open_collection(path) as c:
        np.testing.assert_array_equal(c.get(1), rgb(N)[1])


# -- damage that stops the HDF5 library itself (found by mutation fuzzing, seed 20261207) -----------


def _heap_damaged(path, offset: int, value: int):
    """A small HDF5 file whose ``layout`` attribute (a variable-length string) lives in the global
    heap, with the heap's byte ``offset`` (from its ``GCOL`` signature) set to ``value``."""
    with h5py.File(path, "w") as f:
        f.create_dataset("images", data=np.zeros((4, 8, 8, 3), np.uint8)).attrs["layout"] = "NHWC"
    data = bytearray(path.read_bytes())
    data[data.index(b"GCOL") + offset] = value
    path.write_bytes(bytes(data))
    return path


def test_a_file_on_which_the_hdf5_library_loops_is_refused_in_time(tmp_path, monkeypatch):
    from galview.io import hdf5_probe

    monkeypatch.setattr(hdf5_probe, "TIMEOUT_S", 5.0)
    path = _heap_damaged(tmp_path / "loops.h5", 24, 0xFB)  # the heap object's size: HDF5 never returns
    message = refused(path, "is a damaged HDF5 file", "did not end within 5 s")
    assert "expected a valid HDF5 file" in message
    # a child left alone (GalView killed while it looked) ends by itself too
    import signal
    import subprocess
    import sys

    alone = [sys.executable, "-c", hdf5_probe._CHILD, str(path), "{}", "2"]
    ended = subprocess.run(alone, env={**os.environ, hdf5_probe.CHILD_ENV: "1"}, timeout=60, check=False)
    assert ended.returncode == -signal.SIGALRM


def test_a_file_that_crashes_the_hdf5_library_is_refused_and_galview_goes_on(tmp_path, monkeypatch):
    """The crash itself (a segmentation fault) cannot be made the same way on every HDF5 build, so a
    child that dies of SIGSEGV stands in for it; the real one, a damaged simulated file, is refused too
    (without the first look in a child it ended this test process)."""
    from galview.io import hdf5_probe
    from galview.sim.generate import write_simulation
    from galview.sim.surveys import SURVEYS

    with monkeypatch.context() as patched:
        patched.setattr(hdf5_probe, "_CHILD", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)")
        path = _heap_damaged(tmp_path / "crashes.h5", 0, ord("G"))  # undamaged: the stand-in crashes
        refused(path, "is a damaged HDF5 file: reading it crashed the HDF5 library (SIGSEGV)")
    sim = write_simulation(tmp_path / "sim.h5", SURVEYS["des"], 12, seed=3, workers=1)
    data = bytearray(sim.read_bytes())
    # the 'layout' attribute's datatype message follows its name: its class bits (a variable-length
    # string) set to a type that does not exist, the byte the fuzzer changed
    data[data.index(b"layout\x00\x00") + 9] = 6
    sim.write_bytes(bytes(data))
    with pytest.raises(CollectionError):
        open_collection(sim)


def test_only_files_with_virtual_or_external_datasets_are_garbage_collected_on_close(tmp_path, monkeypatch):
    """The collection before a virtual file closes keeps HDF5 from releasing a property list after its
    file (a crash at exit once); it holds the GIL for 0.3 s with TensorFlow loaded, so plain files skip it."""
    import galview.io.hdf5_files as hdf5_files
    from tests.hostile.arrays_hdf5 import _vds_same_file

    collected = []
    monkeypatch.setattr(hdf5_files.gc, "collect", lambda *a: collected.append(1) or 0)
    plain = tmp_path / "plain.h5"
    with h5py.File(plain, "w") as handle:
        handle["images"] = np.zeros((3, 8, 8, 3), np.float32)
    open_collection(plain).close()
    assert collected == []
    virtual = tmp_path / "virtual.h5"
    with h5py.File(virtual, "w") as handle:
        _vds_same_file(handle, tmp_path)
    collection = open_collection(virtual)
    assert collection.get(0).shape == collection.shape  # readable through its virtual prefix
    collection.close()
    assert collected == [1]

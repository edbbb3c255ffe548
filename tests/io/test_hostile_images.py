"""Damaged, odd and hostile PNG/JPEG folders and label tables (issue 11, section 6)."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PIL import Image

from galview.core import budget as limits
from galview.core.errors import CollectionError
from galview.io import image_folders, image_headers, open_collection
from tests.hostile import cases_files
from tests.io.refusals import one_line


def _open_fails(path, culprit, *fragments):
    with pytest.raises(CollectionError) as info:
        with open_collection(path) as c:
            c.get_batch(range(len(c)))
    return one_line(info.value, culprit, fragments)


# -- sizes checked from headers ----------------------------------------------------------------------


def test_one_png_of_another_size_is_refused_on_opening_without_decoding_it(tmp_path, monkeypatch):
    folder = cases_files._png_one_other_size(tmp_path)
    decoded = []
    original = image_folders.read_image
    monkeypatch.setattr(
        image_folders, "read_image", lambda path, *a: decoded.append(path.name) or original(path, *a)
    )
    with pytest.raises(CollectionError) as info:
        open_collection(folder)
    assert str(info.value) == (
        f"{folder / 'obj03.png'}: is 64×48×3 uint8; expected 64×64×3 uint8 like the first image"
    )
    assert decoded == ["obj00.png"]  # only the first image was decoded


def test_reading_checks_the_header_before_decoding(tmp_path):
    folder = cases_files._png_folder(tmp_path, 3)
    with open_collection(folder) as c:
        cases_files._png(folder / "obj01.png", size=(32, 64))  # replaced after opening
        with pytest.raises(CollectionError, match="obj01.png: is 64×32×3 uint8; expected 64×64×3"):
            c.get(1)
        assert c.get(2).shape == (64, 64, 3)


def test_reads_from_several_threads_agree(tmp_path):
    folder = cases_files._png_folder(tmp_path, 8)
    with open_collection(folder) as c:
        expected = c.get_batch(range(8))
        results, errors = [], []

        def read():
            try:
                for _ in range(20):
                    results.append(np.array_equal(c.get_batch(range(8)), expected))
            except Exception as exc:  # noqa: BLE001 - any failure is the test's answer
                errors.append(exc)

        threads = [threading.Thread(target=read) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert not errors and all(results) and len(results) == 80


# -- decompression bombs and huge images -------------------------------------------------------------


def test_decompression_bomb_in_a_folder_is_refused_naming_it(tmp_path):
    folder = cases_files._png_bomb_in_folder(tmp_path)
    _open_fails(folder, folder / "obj02.png", "400,000,000 pixels", "decompression bomb")


def test_single_decompression_bomb_is_a_clean_error(tmp_path):
    path = cases_files._png_bomb_single(tmp_path)
    _open_fails(path, path, "decompression bomb", f"at most {image_headers.MAX_IMAGE_PIXELS:,} pixels")


def test_pillow_limit_is_galviews(tmp_path):
    path = cases_files._png(tmp_path / "small.png")
    with open_collection(path) as c:
        c.get(0)
    assert Image.MAX_IMAGE_PIXELS == image_headers.MAX_IMAGE_PIXELS == limits.MAX_IMAGE_PIXELS


@pytest.mark.parametrize("factor", [1.5, 3])  # Pillow warns above the limit, raises above twice it
def test_image_over_the_pixel_limit_is_refused(tmp_path, monkeypatch, factor):
    monkeypatch.setattr(image_headers, "MAX_IMAGE_PIXELS", 100 * 100)
    path = cases_files._png(tmp_path / "big.png", size=(100, int(100 * factor)))
    _open_fails(
        path, path, "decompression bomb or an image far larger than a cutout", "at most 10,000 pixels"
    )


def test_image_over_the_byte_budget_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(image_headers, "MAX_CUTOUT_BYTES", 64 * 64 * 3 - 1)
    path = cases_files._png(tmp_path / "big.png")
    _open_fails(path, path, "is 64×64×3 uint8", "at most")


# -- names and ids that are not UTF-8 ----------------------------------------------------------------


def test_non_utf8_file_name_gives_a_valid_id(tmp_path):
    folder = cases_files._png_non_utf8_name(tmp_path)
    with open_collection(folder) as c:
        assert len(c) == 3
        assert c.ids.tolist()[0] == "ngc\ufffd\ufffd-obj"
        for i in range(3):
            c.id_of(i).encode("utf-8")
        assert c.get_batch([0, 1, 2]).shape == (3, 64, 64, 3)


def test_latin1_labels_csv_gives_valid_ids_and_labels(tmp_path):
    folder = cases_files._png_labels_non_utf8_ids(tmp_path)
    with open_collection(folder) as c:
        assert c.ids.tolist() == ["ngc\xe9\xff-obj", "b", "c"]
        assert c.labels.tolist() == [1, 0, 1]


def test_latin1_labels_csv_matches_a_non_utf8_file_name(tmp_path):
    folder = cases_files._png_folder(tmp_path, 1)
    cases_files._png(cases_files._raw_path(folder, b"caf\xe9.png"))
    (folder / "labels.csv").write_bytes(b"filename,label\ncaf\xe9.png,1\nobj00.png,0\n")
    with open_collection(folder) as c:
        assert c.labels.tolist() == [1, 0]
        assert c.ids.tolist() == ["caf\ufffd", "obj00"]


# -- label tables ------------------------------------------------------------------------------------


def test_short_rows_in_labels_csv_leave_cells_empty(tmp_path):
    folder = cases_files._png_labels_short_row(tmp_path)
    with open_collection(folder) as c:
        assert c.labels.tolist() == [1, -1, 1]  # obj01 is not named by any complete row


def test_row_without_the_file_cell_is_skipped(tmp_path):
    folder = cases_files._png_folder(tmp_path, 2)
    (folder / "labels.csv").write_text("label,filename,id\n1,obj00.png,first\n0\n,\n")
    with open_collection(folder) as c:
        assert c.labels.tolist() == [1, -1]
        assert c.ids.tolist() == ["first", "obj01"]


@pytest.mark.parametrize("label", ["1e19", "-3e12", "99999999999"])
def test_label_too_large_for_a_class_index_is_refused_naming_the_row(tmp_path, label):
    folder = cases_files._png_folder(tmp_path, 2)
    (folder / "labels.csv").write_text(f"filename,label\nobj00.png,0\nobj01.png,{label}\n")
    _open_fails(folder, folder / "labels.csv", f"row 3 has the label '{label}'", "expected a class index")


# -- headers read from the first bytes agree with Pillow ---------------------------------------------


@pytest.mark.parametrize(
    ("mode", "suffix", "options"),
    [
        ("1", ".png", {}),
        ("L", ".png", {}),
        ("I;16", ".png", {}),
        ("RGB", ".png", {}),
        ("P", ".png", {}),
        ("P", ".png", {"bits": 4}),
        ("LA", ".png", {}),
        ("RGBA", ".png", {}),
        ("L", ".jpg", {}),
        ("RGB", ".jpg", {}),
        ("RGB", ".jpg", {"progressive": True}),
        ("RGB", ".jpg", {"exif": b"Exif\x00\x00" + b"\x00" * 5000}),
        ("CMYK", ".jpg", {}),
    ],
)
def test_raw_header_agrees_with_pillow(tmp_path, mode, suffix, options):
    path = tmp_path / f"image{suffix}"
    Image.new(mode, (37, 21)).save(path, **options)
    raw = image_headers.raw_header(path)
    assert raw is not None
    assert raw == image_folders.image_header(path)
    assert raw.shape[:2] == (21, 37) == image_folders.read_image(path).shape[:2]


def test_raw_header_leaves_other_files_to_pillow(tmp_path):
    assert image_headers.raw_header(tmp_path / "absent.png") is None
    (tmp_path / "short.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    assert image_headers.raw_header(tmp_path / "short.png") is None
    (tmp_path / "odd.jpg").write_bytes(b"\xff\xd8\x00garbage")
    assert image_headers.raw_header(tmp_path / "odd.jpg") is None

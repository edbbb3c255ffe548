"""Hostile-input cases for FITS, folders of PNG/JPEG (with ``labels.csv``), label stores, model files and
cards, and ``galview score`` arguments (issue 11, section 6).

Collected by the corpus runner through :func:`cases`. Cases about a label store or a model need a
second path: their ``args`` hold ``{dir}``, which the runner replaces with the case's folder (the one
given to ``make``), e.g. ``("--store", "{dir}/damaged.sqlite")``; they run only the command that
takes that option (``labels`` or ``score``).
"""

from __future__ import annotations

import gzip
import io
import os
import shutil
import sqlite3
import zipfile
from pathlib import Path

import numpy as np

from tests.hostile.case import Case

STORE = ("--store", "{dir}/damaged.sqlite")
#: Valid inputs the shipped model cannot take (not 64×64×3 uint8): ``score`` rightly refuses them.
NOT_SCORED = ("info", "view", "labels")
MODEL = ("--model", "{dir}/model.keras")
_NON_UTF8 = b"ngc\xe9\xff-obj"  # Latin-1 é and a byte no encoding maps: not UTF-8


# -- writers --------------------------------------------------------------------------------------


def _rng():
    return np.random.default_rng(11)


def _fits_bytes(header_cards: list[tuple[str, object]], data: bytes = b"") -> bytes:
    """A FITS file written card by card (so headers astropy would refuse to write can be made)."""
    from astropy.io import fits

    header = fits.Header()
    for key, value in header_cards:
        header.append((key, value), useblanks=False, bottom=True)
    raw = header.tostring().encode("ascii")
    pad = (-len(data)) % 2880
    return raw + data + b"\0" * pad


def _fits(path: Path, data, **keywords) -> Path:
    from astropy.io import fits

    hdu = fits.PrimaryHDU(data)
    for key, value in keywords.items():
        hdu.header[key] = value
    hdu.writeto(path)
    return path


def _rice(path: Path) -> Path:
    from astropy.io import fits

    data = _rng().normal(100, 10, size=(64, 64)).astype(np.float32)
    fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(data, compression_type="RICE_1")]).writeto(path)
    return path


def _raw_path(folder: Path, name: bytes) -> Path:
    """``folder / name`` for a file name given as bytes (not necessarily UTF-8)."""
    return Path(os.fsdecode(os.fsencode(folder) + b"/" + name))


def _png(path: Path, size=(64, 64), mode="RGB") -> Path:
    from PIL import Image

    h, w = size
    channels = {"RGB": 3, "L": 1}[mode]
    pixels = _rng().integers(0, 256, size=(h, w, channels), dtype=np.uint8)
    Image.fromarray(pixels[..., 0] if channels == 1 else pixels, mode).save(path)
    return path


def _png_folder(folder: Path, n: int = 4, name="cutouts") -> Path:
    target = folder / name
    target.mkdir()
    for i in range(n):
        _png(target / f"obj{i:02d}.png")
    return target


def _bomb_png(path: Path, side: int) -> Path:
    """A one-bit PNG of ``side``² pixels: a few kB on disk, ``side``² bytes once decoded."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    row = b"\0" + b"\0" * ((side + 7) // 8)
    compressor = zlib.compressobj(9)
    parts = [compressor.compress(row * 4096) for _ in range(side // 4096)]
    parts.append(compressor.compress(row * (side % 4096)))
    parts.append(compressor.flush())
    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    body = chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"".join(parts)) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)
    return path


def _gzip_members(header: bytes, zeros: int, block: int = 1 << 24) -> bytes:
    """``header`` then ``zeros`` zero bytes, gzipped as repeated members (cheap to make, huge to read)."""
    member = gzip.compress(b"\0" * block, compresslevel=9)
    out = io.BytesIO()
    out.write(gzip.compress(header))
    for _ in range(zeros // block):
        out.write(member)
    out.write(gzip.compress(b"\0" * (zeros % block)))
    return out.getvalue()


def _labels_csv(folder: Path, text: bytes) -> None:
    (folder / "labels.csv").write_bytes(text)


# -- FITS -----------------------------------------------------------------------------------------


def _fits_missing_naxis2(folder: Path) -> Path:
    path = folder / "no_naxis2.fits"
    cards = [("SIMPLE", True), ("BITPIX", -32), ("NAXIS", 2), ("NAXIS1", 64)]
    path.write_bytes(_fits_bytes(cards, b"\0" * 64 * 64 * 4))
    return path


def _fits_negative_naxis(folder: Path) -> Path:
    path = folder / "negative.fits"
    cards = [("SIMPLE", True), ("BITPIX", -32), ("NAXIS", 2), ("NAXIS1", 64), ("NAXIS2", -64)]
    path.write_bytes(_fits_bytes(cards, b"\0" * 64 * 64 * 4))
    return path


def _fits_garbled_card(folder: Path, keyword: str = "NAXIS2") -> Path:
    """A header whose ``keyword`` card holds a value astropy cannot parse (found by mutation fuzzing)."""
    path = folder / f"garbled-{keyword.lower()}.fits"
    cards = [("SIMPLE", True), ("BITPIX", -32), ("NAXIS", 2), ("NAXIS1", 64), ("NAXIS2", 64)]
    raw = bytearray(_fits_bytes(cards, b"\0" * 64 * 64 * 4))
    at = next(i for i in range(0, 2880, 80) if raw[i : i + 8].decode().strip() == keyword)
    raw[at + 8 : at + 30] = b"= 1.2.3x".ljust(22)
    path.write_bytes(bytes(raw))
    return path


def _fits_bad_bitpix(folder: Path) -> Path:
    path = folder / "bitpix7.fits"
    cards = [("SIMPLE", True), ("BITPIX", 7), ("NAXIS", 2), ("NAXIS1", 64), ("NAXIS2", 64)]
    path.write_bytes(_fits_bytes(cards, b"\0" * 64 * 64))
    return path


def _fits_damaged_rice(folder: Path) -> Path:
    from astropy.io import fits

    path = _rice(folder / "damaged_rice.fits")
    with fits.open(path) as hdul:
        start = hdul[1].fileinfo()["datLoc"]
    raw = bytearray(path.read_bytes())
    for i in range(start + 64 * 8, len(raw) - 64):  # keep the tile table, scramble the tiles
        raw[i] = (raw[i] * 73 + 41) & 0xFF
    path.write_bytes(bytes(raw))
    return path


def _fits_gzip_bomb(folder: Path) -> Path:
    """A gzip FITS of 3.6 GB once decompressed (20000 × 20000 float64 zeros, ~4 MB on disk)."""
    path = folder / "bomb.fits.gz"
    side = 20000
    cards = [("SIMPLE", True), ("BITPIX", -64), ("NAXIS", 2), ("NAXIS1", side), ("NAXIS2", side)]
    path.write_bytes(_gzip_members(_fits_bytes(cards), side * side * 8))
    return path


def _fits_gzip_header_without_end(folder: Path) -> Path:
    """A gzip FITS whose header runs on for 200 MB of blank cards without END (a header bomb)."""
    path = folder / "endless.fits.gz"
    start = _fits_bytes([("SIMPLE", True), ("BITPIX", 8), ("NAXIS", 0)])[:240]  # cut before END
    member = gzip.compress(b" " * (1 << 20), compresslevel=9)
    path.write_bytes(gzip.compress(start) + member * 200)
    return path


def _fits_huge_sparse(folder: Path) -> Path:
    """A valid 24000² float32 image (2.3 GB, sparse on disk): more than one cutout may take."""
    path = folder / "huge.fits"
    side = 24000
    cards = [("SIMPLE", True), ("BITPIX", -32), ("NAXIS", 2), ("NAXIS1", side), ("NAXIS2", side)]
    header = _fits_bytes(cards)
    with open(path, "wb") as handle:
        handle.write(header)
        handle.truncate(len(header) + side * side * 4 + (-(side * side * 4)) % 2880)
    return path


def _fits_uint16(folder: Path) -> Path:
    data = _rng().integers(0, 65535, size=(3, 64, 64)).astype(np.uint16)  # BZERO = 32768
    return _fits(folder / "uint16.fits", data)


def _fits_scaled_int16(folder: Path) -> Path:
    data = _rng().integers(-3000, 3000, size=(64, 64)).astype(np.int16)
    return _fits(folder / "scaled.fits", data, BSCALE=0.01, BZERO=100.0)


def _fits_rice_named_fits(folder: Path) -> Path:
    return _rice(folder / "rice.fits")


def _fits_gzip_named_fits(folder: Path) -> Path:
    plain = _fits(folder / "plain.tmp", _rng().normal(size=(64, 64)).astype(np.float32))
    path = folder / "gzipped.fits"
    path.write_bytes(gzip.compress(plain.read_bytes()))
    plain.unlink()
    return path


def _fits_ra_dec_keywords(folder: Path) -> Path:
    data = _rng().normal(size=(64, 64)).astype(np.float32)
    return _fits(folder / "radec.fits", data, RA=150.1, DEC=2.2)


def _fits_folder_non_utf8_name(folder: Path) -> Path:
    target = folder / "fits_cutouts"
    target.mkdir()
    data = _rng().normal(size=(3, 32, 32)).astype(np.float32)
    _fits(target / "plain.fits", data)
    _fits(_raw_path(target, _NON_UTF8 + b".fits"), data)
    return target


def _fits_folder_nan_coords(folder: Path) -> Path:
    target = folder / "fits_coords"
    target.mkdir()
    data = _rng().normal(size=(32, 32)).astype(np.float32)
    for i in range(4):
        _fits(target / f"obj{i}.fits", data + i)
    _labels_csv(target, b"filename,ra,dec\nobj0.fits,150.0,2.0\nobj1.fits,nan,nan\nobj2.fits,,\n")
    return target


# -- PNG / JPEG folders ---------------------------------------------------------------------------


def _png_one_other_size(folder: Path) -> Path:
    target = _png_folder(folder, 6)
    _png(target / "obj03.png", size=(48, 64))
    return target


def _png_bomb_in_folder(folder: Path) -> Path:
    target = _png_folder(folder, 3)
    _bomb_png(target / "obj02.png", 20000)
    return target


def _png_bomb_single(folder: Path) -> Path:
    return _bomb_png(folder / "bomb.png", 20000)


def _png_huge(folder: Path) -> Path:
    """A valid 12000² RGB PNG: 432 MB once decoded."""
    from PIL import Image

    path = folder / "huge.png"
    Image.new("RGB", (12000, 12000), (10, 20, 30)).save(path, compress_level=1)
    return path


def _png_non_utf8_name(folder: Path) -> Path:
    target = _png_folder(folder, 2)
    _png(_raw_path(target, _NON_UTF8 + b".png"))
    return target


def _png_labels_non_utf8_ids(folder: Path) -> Path:
    target = _png_folder(folder, 3)
    _labels_csv(target, b"filename,id,label\nobj00.png," + _NON_UTF8 + b",1\nobj01.png,b,0\nobj02.png,c,1\n")
    return target


def _png_labels_short_row(folder: Path) -> Path:
    target = _png_folder(folder, 3)
    _labels_csv(target, b"label,filename,ra\n1,obj00.png,10.0\n0\n1,obj02.png\n")
    return target


def _png_labels_huge_label(folder: Path) -> Path:
    target = _png_folder(folder, 3)
    _labels_csv(target, b"filename,label\nobj00.png,1e19\nobj01.png,0\nobj02.png,1\n")
    return target


def _png_long_name(folder: Path) -> Path:
    path = folder / ("g" * 250 + ".png")  # 254 characters: the store beside it cannot be named
    return _png(path)


def _png_16bit_grey(folder: Path) -> Path:
    from PIL import Image

    path = folder / "grey16.png"
    pixels = _rng().integers(0, 65535, size=(64, 64)).astype(np.uint16)
    Image.fromarray(pixels).save(path)
    return path


def _jpeg_cmyk(folder: Path) -> Path:
    from PIL import Image

    path = folder / "cmyk.jpg"
    Image.new("CMYK", (64, 64), (10, 20, 30, 40)).save(path)
    return path


# -- label stores ---------------------------------------------------------------------------------


def _damaged_store(folder: Path, *statements: str) -> Path:
    """A folder of four PNGs and, beside it, its label store damaged by ``statements``."""
    from galview.io.label_store import LabelStore

    target = _png_folder(folder, 4)
    store_path = folder / "damaged.sqlite"
    with LabelStore.open(store_path, 4, ids=[f"obj{i:02d}" for i in range(4)]) as store:
        store.set(1, 1)
    conn = sqlite3.connect(store_path)
    try:
        for statement in statements:
            conn.execute(statement)
        conn.commit()
    finally:
        conn.close()
    return target


def _store_case(name: str, *statements: str) -> Case:
    return Case(
        name,
        "traceback",
        lambda folder: _damaged_store(folder, *statements),
        commands=("labels",),
        args=STORE,
    )


# -- models and scoring arguments -----------------------------------------------------------------


def _shipped_model() -> Path:
    return Path(__file__).resolve().parents[2] / "models" / "deepshadows_des_sim.keras"


def _model_with_card(folder: Path, edit) -> Path:
    import json

    shipped = _shipped_model()
    shutil.copy(shipped, folder / "model.keras")
    card = json.loads(shipped.with_suffix(".json").read_text())
    text = edit(card)
    (folder / "model.json").write_text(text if isinstance(text, str) else json.dumps(card))
    return _png_folder(folder, 2)


def _set(path: list[str], value):
    def edit(card):
        target = card
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return edit


def _card_long_number(card) -> str:
    import json

    return json.dumps(card).replace('"positive_class": 1', '"positive_class": ' + "7" * 4301)


def _model_nan_weights(folder: Path) -> Path:
    import h5py

    shipped = _shipped_model()
    with zipfile.ZipFile(shipped) as source:
        weights = folder / "model.weights.h5"
        weights.write_bytes(source.read("model.weights.h5"))
        with h5py.File(weights, "r+") as handle:
            handle.visititems(lambda _, obj: _fill_nan(obj))
        with zipfile.ZipFile(folder / "model.keras", "w") as target:
            for info in source.infolist():
                data = weights.read_bytes() if info.filename == "model.weights.h5" else source.read(info)
                target.writestr(info.filename, data)
    weights.unlink()
    shutil.copy(shipped.with_suffix(".json"), folder / "model.json")
    return _png_folder(folder, 2)


def _fill_nan(obj) -> None:
    import h5py

    if isinstance(obj, h5py.Dataset) and obj.dtype.kind == "f" and obj.size:
        obj[...] = np.nan


def _model_huge_config(folder: Path) -> Path:
    """A .keras whose config.json is 1.5 GB (spaces then the real config): 1.5 MB zipped."""
    shipped = _shipped_model()
    with (
        zipfile.ZipFile(shipped) as source,
        zipfile.ZipFile(folder / "model.keras", "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            if info.filename != "config.json":
                target.writestr(info, source.read(info))
                continue
            with target.open("config.json", "w", force_zip64=True) as member:
                block = b" " * (1 << 24)
                for _ in range(1536 // 16):
                    member.write(block)
                member.write(source.read(info))
    shutil.copy(shipped.with_suffix(".json"), folder / "model.json")
    return _png_folder(folder, 2)


def _model_case(name: str, cause: str, make, fast: bool = True) -> Case:
    return Case(name, cause, make, commands=("score",), args=MODEL, fast=fast)


def _score_args(name: str, *args: str) -> Case:
    return Case(name, "traceback", lambda folder: _png_folder(folder, 2), commands=("score",), args=args)


# -- the list -------------------------------------------------------------------------------------


def cases() -> list[Case]:
    """Every FITS, image-folder, label-store, model and scoring-argument case."""
    fits_cases = [
        Case("fits/header-missing-naxis2", "traceback", _fits_missing_naxis2),
        Case("fits/header-negative-naxis2", "wrong-answer", _fits_negative_naxis),  # was "Invalid argument"
        Case("fits/header-bitpix-7", "traceback", _fits_bad_bitpix),
        Case("fits/header-naxis2-unparsable", "traceback", _fits_garbled_card),
        Case("fits/damaged-rice-tiles", "wrong-answer", _fits_damaged_rice),  # was "is truncated"
        Case("fits/gzip-bomb-3GB", "memory", _fits_gzip_bomb),
        Case("fits/huge-image-24000x24000", "memory", _fits_huge_sparse),
        Case("fits/gzip-header-without-end", "hang", _fits_gzip_header_without_end),
        Case("fits/uint16-bzero", "wrong-answer", _fits_uint16, expect="ok", commands=NOT_SCORED),
        Case(
            "fits/scaled-int16-bscale", "wrong-answer", _fits_scaled_int16, expect="ok", commands=NOT_SCORED
        ),
        Case("fits/rice-named-fits", "wrong-answer", _fits_rice_named_fits, expect="ok", commands=NOT_SCORED),
        Case("fits/gzip-named-fits", "wrong-answer", _fits_gzip_named_fits, expect="ok", commands=NOT_SCORED),
        Case("fits/ra-dec-keywords", "wrong-answer", _fits_ra_dec_keywords, expect="ok", commands=NOT_SCORED),
        Case(
            "fits/folder-non-utf8-file-name",
            "crash",
            _fits_folder_non_utf8_name,
            expect="ok",
            commands=NOT_SCORED,
        ),
        Case(
            "fits/folder-mostly-nan-coords",
            "valid",
            _fits_folder_nan_coords,
            expect="ok",
            commands=NOT_SCORED,
        ),
    ]
    image_cases = [
        Case("png/folder-one-of-another-size", "crash", _png_one_other_size),
        Case("png/folder-decompression-bomb", "hang", _png_bomb_in_folder),
        Case("png/decompression-bomb", "traceback", _png_bomb_single),
        Case("png/huge-12000x12000", "memory", _png_huge, fast=False),
        Case("png/folder-non-utf8-file-name", "crash", _png_non_utf8_name, expect="ok"),
        Case("png/labels-csv-non-utf8-ids", "crash", _png_labels_non_utf8_ids, expect="ok"),
        Case("png/labels-csv-short-row", "traceback", _png_labels_short_row, expect="ok"),
        Case("png/labels-csv-label-1e19", "traceback", _png_labels_huge_label),
        Case("png/file-name-254-characters", "traceback", _png_long_name, expect="ok"),
        Case("png/16-bit-greyscale", "valid", _png_16bit_grey, expect="ok", commands=NOT_SCORED),
        Case("jpeg/cmyk", "valid", _jpeg_cmyk, expect="ok"),
    ]
    store_cases = [
        _store_case("store/text-in-label-column", "UPDATE labels SET label = 'LSBG' WHERE idx = 1"),
        _store_case("store/index-out-of-range", "UPDATE labels SET idx = 99 WHERE idx = 3"),
        _store_case("store/deleted-row", "DELETE FROM labels WHERE idx = 0"),
        _store_case("store/blob-ids", "UPDATE labels SET cutout_id = x'ff00fe' WHERE idx = 0"),
        _store_case("store/text-count-in-meta", "UPDATE meta SET value = 'four' WHERE key = 'n'"),
        _store_case("store/label-1e19", "UPDATE labels SET label = 1e19 WHERE idx = 1"),
    ]
    model_cases = [
        _model_case(
            "model/card-bands-a-number",
            "traceback",
            lambda f: _model_with_card(f, _set(["input", "bands"], 3)),
        ),
        _model_case(
            "model/card-class-names-a-string",
            "wrong-answer",
            lambda f: _model_with_card(f, _set(["class_names"], "ab")),
        ),
        _model_case(
            "model/card-positive-class-float",
            "traceback",
            lambda f: _model_with_card(f, _set(["positive_class"], 1.0)),
        ),
        _model_case(
            "model/card-4301-digit-number", "traceback", lambda f: _model_with_card(f, _card_long_number)
        ),
        _model_case("model/nan-weights", "wrong-answer", _model_nan_weights),
        _model_case("model/config-json-1.5GB", "memory", _model_huge_config, fast=False),
    ]
    score_cases = [
        _score_args("score/bands-foo", "--bands", "foo"),
        _score_args("score/bands-index-out-of-range", "--bands", "0,1,7"),
        _score_args("score/bands-empty", "--bands", ","),
        _score_args("score/batch-size-0", "--batch-size", "0"),
        _score_args("score/batch-size-negative", "--batch-size", "-5"),
    ]
    return fits_cases + image_cases + store_cases + model_cases + score_cases

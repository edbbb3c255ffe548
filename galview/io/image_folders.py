"""Reader for folders of PNG/JPEG cutouts (and single image files), read on demand with Pillow.

Every image's size and colour mode are read from its first bytes when the folder is opened
(:func:`galview.io.image_headers.raw_header`), without decoding pixels: an image of another size or
mode is refused then, naming it, and never decoded; each read checks the header again before
decoding. Pillow's decompression-bomb limit is set explicitly to
:data:`galview.core.budget.MAX_IMAGE_PIXELS` and its warning is an error, so a bomb (or an image far
larger than any cutout) is refused before it is decoded, as is an image that would take more than
:data:`~galview.core.budget.MAX_CUTOUT_BYTES`.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np

from galview.core.collection import Collection
from galview.core.errors import CollectionError
from galview.io import image_headers
from galview.io.folder_files import first_readable
from galview.io.image_headers import TO_RGB, ImageHeader, bomb_error, header_for_mode, raw_header
from galview.io.registry import IMAGE_SUFFIXES
from galview.io.tables import read_label_table
from galview.io.text import one_line, stem_text

_UNREADABLE = "is not a readable PNG/JPEG image, truncated or corrupt"


def _pillow():
    """PIL.Image with GalView's decompression-bomb policy in force."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = image_headers.MAX_IMAGE_PIXELS
    warnings.filterwarnings("error", category=Image.DecompressionBombWarning)
    return Image


def _open(path: Path):
    """``Image.open`` (header only); unreadable files and bombs become a CollectionError."""
    Image = _pillow()
    try:
        return Image.open(path)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        found = re.search(r"\((\d+) pixels\)", str(exc))
        raise bomb_error(path, int(found.group(1)) if found else None) from exc
    except MemoryError:
        raise
    except Exception as exc:  # Pillow raises UnidentifiedImageError, OSError, SyntaxError, struct.error...
        raise CollectionError(path, f"{_UNREADABLE} ({one_line(exc)})") from exc


def _header(path: Path, image) -> ImageHeader:
    width, height = image.size
    return header_for_mode(path, image.mode, int(width), int(height))


def image_header(path: Path) -> ImageHeader:
    """Shape and dtype an image file decodes to, read from its header (no pixels decoded).

    Raises
    ------
    CollectionError
        If the file is not a readable image, a decompression bomb, or too large for a cutout.
    """
    with _open(path) as image:
        return _header(path, image)


def read_image(path: Path, expected: ImageHeader | None = None) -> np.ndarray:
    """One image file as (H, W, C): RGB stays uint8 RGB, greyscale becomes one channel.

    Parameters
    ----------
    path : Path
        A PNG or JPEG file.
    expected : ImageHeader, optional
        Refuse the image, before decoding it, unless its header matches.
    """
    with _open(path) as image:
        header = _header(path, image)
        if expected is not None and header != expected:
            raise CollectionError(path, _mismatch(header, expected))
        try:
            if image.mode in TO_RGB or image.mode == "LA":
                image = image.convert("RGB" if image.mode != "LA" else "L")
            array = np.asarray(image)
        except MemoryError:
            raise
        except Exception as exc:  # decoders raise OSError, SyntaxError, struct.error, zlib.error...
            raise CollectionError(path, f"{_UNREADABLE} ({one_line(exc)})") from exc
    if array.ndim == 2:
        array = array[..., np.newaxis]
    return array


def _mismatch(found: ImageHeader, expected: ImageHeader) -> str:
    return f"is {found.describe()}; expected {expected.describe()} like the first image"


def _check_headers(files: list[Path], expected: ImageHeader) -> None:
    """Refuse the first file whose header announces another size or mode; unreadable ones are left to
    fail when read, so one damaged file does not hide the others."""
    for path in files:
        try:
            found = raw_header(path) or image_header(path)
        except CollectionError as exc:
            if _UNREADABLE in exc.problem:
                continue
            raise
        if found != expected:
            raise CollectionError(path, _mismatch(found, expected))


def _first_image(path: Path) -> tuple[np.ndarray, ImageHeader]:
    header = image_header(path)
    return read_image(path, header), header


class ImageFolderCollection(Collection):
    """PNG/JPEG files of one size, sorted by name; labels from an optional ``labels.csv``.

    The images may sit in the folder itself or in its ``images/`` subfolder (the table
    then sits beside that subfolder).
    """

    def __init__(self, source: Path, files: list[Path], table_folder: Path | None):
        self._files = files
        # the first image that reads; a bomb or an image too large is said at once
        first, self._header = first_readable(files, _first_image, lambda exc: _UNREADABLE in exc.problem)
        _check_headers(files, self._header)
        super().__init__(source, len(files), first.shape, first.dtype)
        self._table = read_label_table(table_folder, [f.name for f in files]) if table_folder else None

    @property
    def files(self) -> list[Path]:
        return list(self._files)

    def _read(self, indices: np.ndarray) -> np.ndarray:
        out = np.empty((len(indices), *self.shape), dtype=self.dtype)
        for row, i in enumerate(indices):
            out[row] = read_image(self._files[i], self._header)
        return out

    def _load_labels(self):
        return None if self._table is None else self._table.labels

    def _load_class_names(self):
        return None if self._table is None else self._table.class_names

    def _load_ids(self):
        if self._table is not None and self._table.ids is not None:
            return self._table.ids
        return np.array([stem_text(f) for f in self._files])

    def _load_coords(self):
        if self._table is None or self._table.ra is None or self._table.dec is None:
            return None
        return self._table.ra, self._table.dec


def _image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def open_image_folder(folder: Path, **_ignored) -> ImageFolderCollection:
    """Open a folder of PNG/JPEG cutouts (directly inside it, or in ``folder/images``)."""
    files = _image_files(folder)
    if not files and (folder / "images").is_dir():
        files = _image_files(folder / "images")
    if not files:
        raise CollectionError(folder, "holds no PNG or JPEG files; expected a folder of image cutouts")
    return ImageFolderCollection(folder, files, folder)


def open_single_image(path: Path, **_ignored) -> ImageFolderCollection:
    """Open one PNG/JPEG file as a collection of one cutout."""
    return ImageFolderCollection(path, [path], None)

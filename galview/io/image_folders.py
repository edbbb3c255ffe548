"""Reader for folders of PNG/JPEG cutouts (and single image files), read on demand with Pillow."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from galview.core.collection import Collection
from galview.core.errors import CollectionError
from galview.io.registry import IMAGE_SUFFIXES
from galview.io.tables import read_label_table


def read_image(path: Path) -> np.ndarray:
    """One image file as (H, W, C): RGB stays uint8 RGB, greyscale becomes one channel."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            if image.mode in ("RGBA", "P", "CMYK", "YCbCr", "LA", "PA", "RGBX", "1"):
                image = image.convert("RGB" if image.mode != "LA" else "L")
            array = np.asarray(image)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise CollectionError(
            path, f"is not a readable PNG/JPEG image, truncated or corrupt ({exc})"
        ) from exc
    if array.ndim == 2:
        array = array[..., np.newaxis]
    return array


class ImageFolderCollection(Collection):
    """PNG/JPEG files of one size, sorted by name; labels from an optional ``labels.csv``.

    The images may sit in the folder itself or in its ``images/`` subfolder (the table
    then sits beside that subfolder).
    """

    def __init__(self, source: Path, files: list[Path], table_folder: Path | None):
        self._files = files
        first = read_image(files[0])
        super().__init__(source, len(files), first.shape, first.dtype)
        self._table = read_label_table(table_folder, [f.name for f in files]) if table_folder else None

    @property
    def files(self) -> list[Path]:
        return list(self._files)

    def _read(self, indices: np.ndarray) -> np.ndarray:
        out = np.empty((len(indices), *self.shape), dtype=self.dtype)
        for row, i in enumerate(indices):
            image = read_image(self._files[i])
            if image.shape != self.shape or image.dtype != self.dtype:
                raise CollectionError(
                    self._files[i],
                    f"is {image.shape[1]}×{image.shape[0]}×{image.shape[2]} {image.dtype}; "
                    f"expected {self.shape[1]}×{self.shape[0]}×{self.shape[2]} {self.dtype} like the first image",
                )
            out[row] = image
        return out

    def _load_labels(self):
        return None if self._table is None else self._table.labels

    def _load_ids(self):
        if self._table is not None and self._table.ids is not None:
            return self._table.ids
        return np.array([f.stem for f in self._files])

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

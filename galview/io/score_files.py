"""Write per-cutout model scores, streaming, to HDF5 or CSV."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from galview.core.errors import UserFacingError

#: What each suffix writes (the suffix decides the format).
SCORE_FORMATS = {".csv": "csv", ".h5": "hdf5", ".hdf5": "hdf5"}


def prob_columns(class_names) -> list[str]:
    """CSV column names of the model outputs: ``prob`` for one output, ``p_<class>`` for several."""
    names = [str(c) for c in class_names]
    return ["prob"] if len(names) == 1 else [f"p_{c}" for c in names]


def prob_texts(row) -> list[str]:
    """One row of model outputs as GalView writes them in CSV (6 significant digits)."""
    return [f"{p:.6g}" for p in row]


class ScoreWriter:
    """Append scores batch by batch; the file appears under its name only when :meth:`close` succeeds.

    Parameters
    ----------
    path : Path
        ``.csv`` (columns ``index, id, prob`` for binary models or ``p_<class>`` per class,
        then ``predicted``; LF line endings) or HDF5 (``.h5``/``.hdf5``: ``index``, ``ids``,
        ``probs``, ``predicted``, ``embeddings``). Any other suffix is refused.
    n : int
        Number of cutouts that will be written.
    class_names : sequence of str
        One per model output column (binary models: one name, the positive class).
    attrs : dict
        Provenance stored as HDF5 attributes (model path, card, collection).
    index : array-like of int, optional
        The ``index`` column: the cutouts' indices in their collection (default 0 … n - 1).
    """

    def __init__(self, path, n: int, class_names, attrs: dict | None = None, index=None):
        self.path = Path(path)
        self.index = np.arange(n, dtype=np.int64) if index is None else np.asarray(index, dtype=np.int64)
        self.partial = self.path.with_name(self.path.name + ".partial")
        self.n = n
        self.class_names = [str(c) for c in class_names]
        self.attrs = attrs or {}
        fmt = SCORE_FORMATS.get(self.path.suffix.lower())
        if fmt is None:
            raise UserFacingError(
                self.path, f"cannot write scores there; expected {', '.join(SCORE_FORMATS)}"
            )
        self.is_csv = fmt == "csv"
        self._handle = None
        self._h5 = None

    def _open_csv(self):
        self._handle = open(self.partial, "w", newline="", encoding="utf-8")
        self._csv = csv.writer(self._handle, lineterminator="\n")
        self._csv.writerow(["index", "id", *prob_columns(self.class_names), "predicted"])

    def _open_h5(self, n_outputs: int, dim: int):
        import h5py

        self._h5 = h5py.File(self.partial, "w")
        self._h5.create_dataset("index", data=self.index)
        self._h5.create_dataset("ids", (self.n,), dtype=h5py.string_dtype())
        self._h5.create_dataset("probs", (self.n, n_outputs), dtype=np.float32)
        self._h5.create_dataset("predicted", (self.n,), dtype=np.int64)
        self._h5.create_dataset(
            "embeddings", (self.n, dim), dtype=np.float32, chunks=(min(self.n, 1024), dim)
        )
        self._h5.attrs["class_names"] = self.class_names
        for key, value in self.attrs.items():
            self._h5.attrs[key] = value

    def write(
        self, start: int, ids, probs: np.ndarray, predicted: np.ndarray, embeddings: np.ndarray
    ) -> None:
        """Write rows ``start`` … ``start + len(probs) - 1``."""
        stop = start + len(probs)
        if self.is_csv:
            if self._handle is None:
                self._open_csv()
            for row, i in enumerate(range(start, stop)):
                self._csv.writerow([self.index[i], ids[row], *prob_texts(probs[row]), int(predicted[row])])
            return
        if self._h5 is None:
            self._open_h5(probs.shape[1], embeddings.shape[1])
        self._h5["ids"][start:stop] = [str(i) for i in ids]
        self._h5["probs"][start:stop] = probs
        self._h5["predicted"][start:stop] = predicted
        self._h5["embeddings"][start:stop] = embeddings

    def column(self, name: str) -> np.ndarray:
        """A column written so far to the HDF5 file (``probs``, ``predicted``…), read back whole."""
        return self._h5[name][...]

    def add_dataset(self, name: str, data: np.ndarray) -> None:
        """Store one more array in the HDF5 file before it is closed (Grad-CAM maps, say)."""
        self._h5.create_dataset(name, data=data)

    def close(self) -> Path:
        """Finish the file and give it its name."""
        if self._handle is not None:
            self._handle.close()
        if self._h5 is not None:
            self._h5.close()
        self.partial.replace(self.path)
        return self.path

    def abort(self) -> None:
        """Drop the partial file (after an error or a cancel)."""
        for handle in (self._handle, self._h5):
            if handle is not None:
                handle.close()
        self.partial.unlink(missing_ok=True)

"""Photometry kept for each collection: a file in GalView's data folder, so that what was measured is
still there when the collection is opened again (in the window or after ``galview measure``).

Named after the collection's fingerprint (the same cutouts find their photometry wherever the file
lies), written atomically; a damaged or foreign file is reported, never trusted; measurements of another
method version (:data:`galview.core.photometry.METHOD_VERSION`) are left out, to be measured again.

The file is JSON Lines: a header (fingerprint, method version, calibration, how many fits follow and how
many bytes their lines take), then one fit per line. Read and written a line at a time, so that the window's
thread, which shares the GIL with the thread reading or writing it, is never held for long (one JSON
document of 10,000 fits held it 0.15 s to decode and 0.22 s to encode; BENCHMARKS.md). Files of the
earlier one-document form are read too.

New measurements with the same calibration are appended (:func:`add_to_kept`), a later line of a cutout
replacing an earlier one: measuring one cutout costs one line, not a rewrite of every fit kept (100,000 fits:
about 4 s to read and 4 s to write). A last line cut short by a crash is left out when read and cut off
before the next append. The file is rewritten whole (atomically) when the calibration changes, when it is
damaged, and once the appended lines outgrow what the last rewrite wrote. Writers take turns on a lock file
(where the system has ``fcntl``), so the window and ``galview measure`` can add to it at the same time.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from galview.core.errors import UserFacingError
from galview.core.heap import collections_paused
from galview.core.jobs import rows_letting_others_run
from galview.core.paths import data_dir
from galview.core.photometry_values import PhotometryValues, photometry_values
from galview.io.measuring import Calibration

logger = logging.getLogger(__name__)

FOLDER = "photometry"
#: Fits read or written between two hand-overs of the GIL (about 0.4 ms): a thread waiting for it, the
#: window's, gets it at once, not after the interpreter's 5 ms switch interval each time it lets go of it
#: for a moment (10,000 fits read in a thread kept the window waiting 0.8–1.3 s; every 32 fits, up to
#: 94–146 ms; every 8, 63–76 ms for a fifth more time; BENCHMARKS.md, Sérsic photometry §10).
FITS_BETWEEN_YIELDS = 8
#: Appended lines may grow the file to twice what its last rewrite wrote, plus this many bytes (about 900
#: fits), before the next addition rewrites it without the fits measured again since.
APPEND_ALLOWANCE_BYTES = 1_000_000


@dataclass
class KeptPhotometry:
    """What was measured of one collection with one calibration: cutout index → SersicFit or why not."""

    calibration: Calibration
    fits: dict = field(default_factory=dict)

    def merged(self, calibration: Calibration, results) -> KeptPhotometry:
        """These measurements with ``results`` added — or only ``results`` if they were made with
        another calibration (numbers of two zero points do not belong in one ranking)."""
        if calibration != self.calibration:
            return KeptPhotometry(calibration, dict(results))
        return KeptPhotometry(calibration, {**self.fits, **dict(results)})


def photometry_path(fingerprint: str) -> Path:
    """Where the photometry of the collection with this fingerprint is kept."""
    name = hashlib.sha1(fingerprint.encode()).hexdigest()[:20]
    return data_dir() / FOLDER / f"{name}.json"


def load_photometry(fingerprint: str, n: int) -> KeptPhotometry | None:
    """The collection's kept photometry (None when none was kept, or by another method version).

    Raises
    ------
    UserFacingError
        Naming the file, when it is damaged or describes other cutouts.
    """
    from galview.core.photometry import METHOD_VERSION

    path = photometry_path(fingerprint)
    if not path.is_file():
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            header = json.loads(handle.readline())
            if header.get("method_version") != METHOD_VERSION:
                logger.info(
                    "%s: photometry of method version %s is not shown", path, header.get("method_version")
                )
                return None
            calibration = _calibration_of(header, fingerprint)
            if "fits" in header:  # the one-document form written until 2026-12-07
                fits = {int(index): _fit_from(value) for index, value in header["fits"].items()}
            else:
                fits = _fits_of_lines(handle, path, header["count"])
        if any(not 0 <= index < n for index in fits):
            raise ValueError("cutouts past the end")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise UserFacingError(
            path, f"is not photometry of this collection ({n} cutouts); it was ignored"
        ) from None
    return KeptPhotometry(calibration, fits)


def save_photometry(fingerprint: str, kept: KeptPhotometry) -> Path:
    """Write ``kept``; atomically, so a crash leaves the file as it was."""
    from galview.core.photometry import METHOD_VERSION

    path = photometry_path(fingerprint)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [_line(_record(int(index), fit)).encode() for index, fit in _yielding(kept.fits.items())]
    header = {
        "fingerprint": fingerprint,
        "method_version": METHOD_VERSION,
        "calibration": asdict(kept.calibration),
        "count": len(kept.fits),
        "bytes": sum(map(len, lines)),  # what appended lines are measured against
    }
    partial = path.with_name(path.name + ".partial")
    with open(partial, "wb") as handle:
        handle.write(_line(header).encode())
        for line in _yielding(lines):
            handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())
    partial.replace(path)
    return path


def add_to_kept(fingerprint: str, n: int, found: Calibration, results) -> str | None:
    """Keep ``results`` (measured with ``found``) with the collection's photometry: appended to its file
    when that holds fits of the same calibration, else written anew (see the module's description).

    Returns
    -------
    str or None
        Why the kept file was damaged and is replaced by these results (None when it was not).

    Raises
    ------
    OSError
        When the file cannot be written.
    """
    return _kept_with(fingerprint, n, found, results)[0]


def _kept_with(fingerprint: str, n: int, found: Calibration, results) -> tuple[str | None, int | None, int]:
    """:func:`add_to_kept`, and the file's size just before the append (None when it was written anew)
    and after it: the Measure job tells by the first whether anyone wrote to it since the window read it."""
    path = photometry_path(fingerprint)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _writers_one_at_a_time(path):
        if _appendable(path, fingerprint, found):
            before = path.stat().st_size
            _append(path, results)
            return None, before, path.stat().st_size
        kept, replaced = _merged_with_kept(fingerprint, n, found, results)
        save_photometry(fingerprint, kept)
        return replaced, None, path.stat().st_size


def _merged_with_kept(
    fingerprint: str, n: int, found: Calibration, results
) -> tuple[KeptPhotometry, str | None]:
    """The collection's kept photometry with ``results`` (measured with ``found``) added; nothing written.

    Returns
    -------
    kept : KeptPhotometry
        What to keep now (:func:`save_photometry`).
    replaced : str or None
        Why the kept file is damaged and will be replaced by these results (None when it is not).
    """
    try:
        kept = load_photometry(fingerprint, n) or KeptPhotometry(found)
    except UserFacingError as exc:
        return KeptPhotometry(found).merged(found, results), str(exc)
    return kept.merged(found, results), None


@dataclass
class MeasuredAndKept:
    """What the window's Measure job hands back: each cutout's result, what is kept now (with the
    calibration they were measured with), what went wrong keeping it (None when nothing did) and what the
    rankings sort by."""

    results: list
    kept: KeptPhotometry
    not_kept: str | None = None
    values: PhotometryValues | None = None
    size: int | None = None  # the kept file's size once written (None: not written)


def load_for_window(fingerprint: str, n: int) -> tuple[KeptPhotometry, PhotometryValues, int] | None:
    """:func:`load_photometry` with what its rankings sort by, both made in the calling thread, and the
    file's size when reading began (for :func:`measure_and_keep`'s ``known_size``); None when nothing is
    kept."""
    try:
        size = photometry_path(fingerprint).stat().st_size
    except OSError:
        return None
    kept = load_photometry(fingerprint, n)
    if kept is None:
        return None
    return kept, photometry_values(kept.fits, kept.calibration.bands, n), size


def measure_and_keep(
    collection, indices, band=None, zeropoint=None, pixel_scale=None, psf_fwhm=0.0, *, fingerprint: str,
    known: KeptPhotometry | None = None, known_size: int | None = None, on_progress=None, cancel=None,
) -> MeasuredAndKept:  # fmt: skip
    """The window's Measure job: :func:`~galview.io.measuring.measure_job`, then the results added to the
    collection's kept photometry (:func:`add_to_kept`), in this thread.

    ``known`` is what the window has read of the kept photometry and ``known_size`` the file's size then:
    when the file still has that size just before the results are appended (no one else, such as
    ``galview measure``, wrote to it since), what is kept now is ``known`` with the results added, without
    reading the file again (100,000 fits: about 4 s). Otherwise the file is read after the append."""
    from galview.io.measuring import measure_job

    found, results = measure_job(
        collection, indices, band, zeropoint, pixel_scale, psf_fwhm, on_progress=on_progress, cancel=cancel
    )
    n, replaced, before, size, not_kept = len(collection), None, None, None, None
    try:
        replaced, before, size = _kept_with(fingerprint, n, found, results)
    except OSError as exc:
        not_kept = f"The photometry was measured but NOT kept on disk: {exc}"
    if replaced is not None:
        logger.warning("%s; replaced", replaced)
    unchanged_since_read = known is not None and known_size is not None and before == known_size
    base = known if unchanged_since_read else _readable(fingerprint, n)
    kept = (base or KeptPhotometry(found)).merged(found, results)
    values = photometry_values(kept.fits, found.bands, n)
    return MeasuredAndKept(results, kept, not_kept, values, size)


def _readable(fingerprint: str, n: int) -> KeptPhotometry | None:
    """The kept photometry, or None when there is none or it cannot be read."""
    try:
        return load_photometry(fingerprint, n)
    except UserFacingError as exc:
        logger.warning("%s", exc)
        return None


def _calibration_of(header: dict, fingerprint: str) -> Calibration:
    """The calibration a file's header states; ValueError when it is another collection's."""
    if header.get("fingerprint") != fingerprint:
        raise ValueError("another collection's")
    return Calibration(**{**header["calibration"], "bands": tuple(header["calibration"]["bands"])})


def _fits_of_lines(handle, path: Path, count: int) -> dict:
    """Cutout index → fit from the lines after the header: the ``count`` written with it (one per cutout),
    then those appended, a later line of a cutout replacing an earlier one; a last line cut short (an
    append a crash interrupted) is left out. ValueError when the first ``count`` are not all there."""
    fits, lines = {}, 0
    with collections_paused():  # each full collection would walk the fits read so far
        for line in rows_letting_others_run(handle, FITS_BETWEEN_YIELDS):
            if not line.endswith("\n"):
                logger.warning("%s: its last line was cut short (a crash while adding to it); left out", path)
                break
            index, fit = _indexed_fit(json.loads(line))
            fits[index] = fit
            lines += 1
            if lines == count and len(fits) != count:
                raise ValueError("a cutout twice among the fits written together")
    if lines < count:
        raise ValueError("fits missing")
    return fits


def _appendable(path: Path, fingerprint: str, found: Calibration) -> bool:
    """Whether fits measured with ``found`` can be appended to the file at ``path``: it holds fits of this
    collection, method version and calibration, and has room (:data:`APPEND_ALLOWANCE_BYTES`). A last line
    cut short is cut off here, ready for the append."""
    from galview.core.photometry import METHOD_VERSION

    try:
        with open(path, "rb+") as handle:
            header = json.loads(handle.readline())
            if header.get("method_version") != METHOD_VERSION or "fits" in header:
                return False
            if _calibration_of(header, fingerprint) != found:
                return False
            size = handle.seek(0, os.SEEK_END)
            if size > 2 * int(header.get("bytes", 0)) + APPEND_ALLOWANCE_BYTES:
                return False
            return _cut_torn_line(handle, size)
    except FileNotFoundError:
        return False
    except (ValueError, KeyError, TypeError, AttributeError):  # damaged: rewritten by the caller
        return False


def _cut_torn_line(handle, size: int) -> bool:
    """End the file at its last complete line (a crash may have cut the last one short); False when it
    has none."""
    end = size
    while end > 0:
        start = max(0, end - 65536)
        handle.seek(start)
        block = handle.read(end - start)
        newline = block.rfind(b"\n")
        if newline >= 0:
            complete = start + newline + 1
            if complete < size:
                logger.warning("%s: a line cut short by a crash was removed", handle.name)
                handle.truncate(complete)
            return True
        end = start
    return False


def _append(path: Path, results) -> None:
    """Add one line per result at the end of the file, on the disk before this returns."""
    lines = b"".join(_line(_record(int(index), fit)).encode() for index, fit in _yielding(results))
    with open(path, "ab") as handle:
        handle.write(lines)
        handle.flush()
        os.fsync(handle.fileno())


@contextmanager
def _writers_one_at_a_time(path: Path):
    """Hold the lock of ``path``'s writers (a ``.lock`` file beside it) while the block runs; a system
    without ``fcntl`` has no such lock."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _yielding(rows):
    return rows_letting_others_run(rows, FITS_BETWEEN_YIELDS)


def _line(record: dict) -> str:
    return json.dumps(record, default=_plain, ensure_ascii=False) + "\n"


def _record(index: int, fit) -> dict:
    """One line of the file: the cutout's index with its fit's fields, or with why it was not fitted."""
    return {"index": index, "why": fit} if isinstance(fit, str) else {"index": index, **_plain_fit(fit)}


def _indexed_fit(record: dict) -> tuple[int, object]:
    """(cutout index, SersicFit or why not) from one line of the file."""
    index = record.pop("index")
    if not isinstance(index, int) or isinstance(index, bool):
        raise TypeError("an index is not a whole number")
    if set(record) == {"why"}:
        if not isinstance(record["why"], str):
            raise TypeError("a reason is not text")
        return index, record["why"]
    return index, _fit_from(record)


def _plain_fit(fit) -> dict:
    """A SersicFit as a dict of its fields, nested records as dicts (``asdict`` without its deep copies)."""
    plain = {name: getattr(fit, name) for name in fit.__dataclass_fields__}
    plain["magnitudes"] = [_fields(m) for m in fit.magnitudes]
    plain["errors"] = _fields(fit.errors)
    return plain


def _fields(record) -> dict:
    return {name: getattr(record, name) for name in record.__dataclass_fields__}


def _plain(value):
    """numpy numbers (and booleans) as Python's, for JSON."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not kept in photometry files")


def _fit_from(value):
    """A SersicFit (or the reason a cutout could not be fitted) from its stored form."""
    from galview.core.forced_photometry import BandMagnitude
    from galview.core.photometry import FitErrors, SersicFit

    if isinstance(value, str):
        return value
    magnitudes = tuple(BandMagnitude(**m) for m in value.pop("magnitudes"))
    errors = FitErrors(**value.pop("errors"))
    gradient = tuple(value.pop("sky_gradient"))
    fit = SersicFit(**value, magnitudes=magnitudes, errors=errors, sky_gradient=gradient)
    numbers = [getattr(fit, name) for name in ("mag", "mean_mu_eff", "r_eff", "n", "x", "y", "pixel_scale")]
    numbers += [*gradient, *_fields(errors).values()]
    numbers += [value for m in magnitudes for value in (m.mag, m.mag_err, m.snr)]
    if any(not isinstance(m.band, str) for m in magnitudes):
        raise TypeError("a band's name is not text")
    if len(gradient) != 2 or not all(
        isinstance(x, (int, float)) and not isinstance(x, bool) for x in numbers
    ):
        raise TypeError("a fit's numbers are not numbers")
    return fit

"""Reading a catalogue of sky positions (CSV or a FITS table) to cross-match a collection with.

A catalogue is any table with an RA and a Dec column: a published list of LSBGs, a target list, the
``candidates.csv`` of a survey paper. The columns are found by their names (``ra``/``dec``,
``RAJ2000``/``DEJ2000``, ``RA (deg)``…), their values read in degrees or sexagesimally (RA in hours,
``10:00:24.5``); a row without a readable position is left out and counted. The name of each source
comes from a name or id column when there is one, else its row number. Every other column is kept as
text, to show and export beside the cutouts it matches.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from galview.core.errors import UserFacingError
from galview.core.finding import parse_angle
from galview.core.jobs import rows_letting_others_run
from galview.io.text import one_line

#: Column names (lower case, letters and digits only) read as RA and as Dec, in order of preference.
RA_NAMES = ("ra", "radeg", "raj2000", "raicrs", "rightascension", "alpha", "alphaj2000")
DEC_NAMES = (
    "dec",
    "decdeg",
    "dej2000",
    "decj2000",
    "deicrs",
    "decicrs",
    "declination",
    "delta",
    "deltaj2000",
)
NAME_NAMES = ("name", "objname", "object", "id", "objid", "sourceid", "designation", "galaxy", "id1")
SUFFIXES = (".csv", ".txt", ".fits", ".fit", ".fits.gz")
#: Largest catalogue file read: 128 MB. It is read whole and kept as text, about 15 bytes of memory per
#: byte of CSV (a 38 MB CSV of a million rows took 644 MB), so this keeps a read within about 2 GB.
MAX_CATALOGUE_BYTES = 128 * 2**20


class CatalogueError(UserFacingError):
    """A catalogue that cannot be used; the message names the file and what was expected."""


@dataclass
class Catalogue:
    """A table of sources with positions.

    Attributes
    ----------
    path : Path
    columns : dict of str to ndarray (M,) of str
        Every column, as text (``""`` where empty).
    ra, dec : ndarray (M,) float64
        Degrees; NaN for the rows left out (see ``unreadable``).
    names : ndarray (M,) of str
        Each source's name (its name or id column, else ``row N``).
    ra_column, dec_column, name_column : str
        The columns read (``name_column`` is ``""`` when the names are row numbers).
    unreadable : list of int
        Rows (0-based) whose position could not be read.
    """

    path: Path
    columns: dict[str, np.ndarray]
    ra: np.ndarray
    dec: np.ndarray
    names: np.ndarray
    ra_column: str
    dec_column: str
    name_column: str = ""
    unreadable: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ra)

    @property
    def name(self) -> str:
        """The file's name, for messages and titles."""
        return self.path.name

    def row_text(self, row: int, limit: int = 12) -> str:
        """One source as ``name · col=value · …`` (up to ``limit`` other columns), for a tooltip."""
        shown = [
            f"{column}={values[row]}"
            for column, values in self.columns.items()
            if column not in (self.name_column, self.ra_column, self.dec_column) and values[row] != ""
        ]
        more = f" · … ({len(shown) - limit} more)" if len(shown) > limit else ""
        return " · ".join([str(self.names[row]), *shown[:limit]]) + more


def read_catalogue(path) -> Catalogue:
    """Read a catalogue from CSV (``.csv``, ``.txt``) or a FITS table (``.fits``, ``.fit``, ``.fits.gz``).

    Raises
    ------
    CatalogueError
        Naming the file: missing, too large, not a table, no RA/Dec columns found, no readable row.
    """
    path = Path(path)
    if not path.is_file():
        raise CatalogueError(
            path, "does not exist or is not a file; expected a catalogue (CSV or FITS table)"
        )
    if not path.name.lower().endswith(SUFFIXES):
        raise CatalogueError(path, f"is not a catalogue GalView reads; expected {', '.join(SUFFIXES)}")
    size = path.stat().st_size
    if path.name.lower().endswith(".gz"):
        size = max(size, _gzip_size(path))  # what it unpacks to: a small file may unpack to gigabytes
    if size > MAX_CATALOGUE_BYTES:
        raise CatalogueError(
            path,
            f"is {size / 2**20:,.0f} MB; GalView reads catalogues of at most {MAX_CATALOGUE_BYTES // 2**20} MB",
        )
    is_fits = path.name.lower().endswith((".fits", ".fit", ".fits.gz"))
    columns = _fits_columns(path) if is_fits else _csv_columns(path)
    if not columns or not len(next(iter(columns.values()))):
        raise CatalogueError(path, "has no rows; expected a table of sources with RA and Dec columns")
    ra_column, dec_column = _position_columns(path, list(columns))
    ra, dec, unreadable = _positions(columns[ra_column], columns[dec_column])
    if len(unreadable) == len(ra):
        raise CatalogueError(
            path,
            f"has no row with a readable position in its columns {ra_column!r} and {dec_column!r}; expected "
            "degrees (150.1, -2.2) or sexagesimal values (10:00:24.5, -02:12:00)",
        )
    name_column = _name_column(list(columns), {ra_column, dec_column})
    names = (
        columns[name_column] if name_column else np.array([f"row {i}" for i in range(len(ra))], dtype=object)
    )
    return Catalogue(path, columns, ra, dec, names, ra_column, dec_column, name_column, unreadable)


def _gzip_size(path: Path) -> int:
    """The unpacked size a gzip file records in its last four bytes (modulo 4 GB; 0 if unreadable)."""
    try:
        with open(path, "rb") as handle:
            handle.seek(-4, 2)
            return int.from_bytes(handle.read(4), "little")
    except OSError:
        return 0


def _csv_columns(path: Path) -> dict[str, np.ndarray]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CatalogueError(path, f"cannot be read ({exc.strerror or exc})") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    if "\x00" in text:
        raise CatalogueError(path, "holds NUL bytes: it is not a CSV table")
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        header = next(reader, None)
        rows = list(rows_letting_others_run(reader))  # read in a job, the window answers meanwhile
    except csv.Error as exc:
        raise CatalogueError(path, f"cannot be read as CSV ({one_line(exc)})") from exc
    if not header:
        raise CatalogueError(path, "has no header row; expected column names, RA and Dec among them")
    header = [name.strip() for name in header]
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    width = len(header)
    out = {}
    for k, name in enumerate(header):
        if name and name not in out:
            out[name] = np.array([row[k].strip() if k < len(row) else "" for row in rows], dtype=object)
    if not out or width == 0:
        raise CatalogueError(path, "has no named columns")
    return out


def _fits_columns(path: Path) -> dict[str, np.ndarray]:
    try:
        from astropy.table import Table

        with warnings.catch_warnings():  # a damaged header's warnings: the refusal below says it in one line
            warnings.simplefilter("ignore")
            table = Table.read(path, format="fits")
    except Exception as exc:  # noqa: BLE001 - astropy raises many kinds for a file that is not a table
        raise CatalogueError(path, f"cannot be read as a FITS table ({one_line(exc)})") from exc
    out = {}
    for name in table.colnames:
        column = table[name]
        if getattr(column, "ndim", 1) != 1:
            continue  # a vector column: nothing to show as one cell
        values = np.asarray(column.filled("") if hasattr(column, "filled") else column)
        if values.dtype.kind == "S":
            values = np.char.decode(values, "ascii", "replace")
        out[str(name)] = np.array([str(v).strip() for v in values], dtype=object)
    return out


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _position_columns(path: Path, names: list[str]) -> tuple[str, str]:
    keys = {}
    for name in names:
        keys.setdefault(_key(name), name)
    ra = next((keys[k] for k in RA_NAMES if k in keys), None)
    dec = next((keys[k] for k in DEC_NAMES if k in keys), None)
    if ra is None or dec is None:
        shown = ", ".join(names[:8]) + (", …" if len(names) > 8 else "")
        raise CatalogueError(
            path,
            f"has no RA and Dec columns (found: {shown}); expected columns named ra and dec (or RAJ2000, DEJ2000)",
        )
    return ra, dec


def _name_column(names: list[str], used: set[str]) -> str:
    keys = {_key(name): name for name in names if name not in used}
    return next((keys[k] for k in NAME_NAMES if k in keys), "")


def _positions(ra_text: np.ndarray, dec_text: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Degrees from text cells: numbers, else sexagesimal (RA in hours); NaN and listed where unreadable."""
    ra, dec = _numbers(ra_text), _numbers(dec_text)
    for k in np.flatnonzero(~np.isfinite(ra) | ~np.isfinite(dec)):
        value, hours = parse_angle(str(ra_text[k])) if ra_text[k] else (None, False)
        ra[k] = np.nan if value is None else value * (15.0 if hours else 1.0)
        value, _ = parse_angle(str(dec_text[k])) if dec_text[k] else (None, False)
        dec[k] = np.nan if value is None else value
    with np.errstate(invalid="ignore"):
        bad = ~(np.isfinite(ra) & np.isfinite(dec) & (ra >= 0) & (ra < 360) & (np.abs(dec) <= 90))
    ra[bad], dec[bad] = np.nan, np.nan
    return ra, dec, np.flatnonzero(bad).tolist()


def _numbers(cells: np.ndarray) -> np.ndarray:
    """Floats from text cells (NaN where a cell is not a number); one conversion when all are numbers."""
    try:
        return np.array([float(cell) for cell in cells], dtype=np.float64)
    except (TypeError, ValueError):
        pass
    out = np.full(len(cells), np.nan)
    for k, cell in enumerate(cells):
        try:
            out[k] = float(cell)
        except (TypeError, ValueError):
            pass
    return out


def match_collection(collection, catalogue_path, radius_arcsec: float, *, on_progress=None, cancel=None):
    """The cross-match job: read the catalogue, match the collection's positions to it.

    Returns
    -------
    (Catalogue, Match)

    Raises
    ------
    CatalogueError
        For a catalogue that cannot be used.
    UserFacingError
        For a collection without sky positions.
    """
    from galview.core.crossmatch import match_positions
    from galview.core.jobs import Progress

    coords = collection.readable_coords()
    if coords is None or not np.isfinite(np.asarray(coords[0], np.float64)).any():
        raise UserFacingError(collection.source, "has no sky positions (RA, Dec) to match a catalogue with")
    if on_progress is not None:
        on_progress(Progress(0, 2, "reading the catalogue", unit="steps"))
    catalogue = read_catalogue(catalogue_path)
    if cancel is not None:
        cancel.raise_if_cancelled()
    if on_progress is not None:
        on_progress(Progress(1, 2, f"matching {len(collection):,} cutouts", unit="steps"))
    try:
        match = match_positions(coords[0], coords[1], catalogue.ra, catalogue.dec, radius_arcsec)
    except ValueError as exc:
        raise CatalogueError(catalogue.path, str(exc)) from None
    return catalogue, match

"""Reading catalogues to cross-match with: column names, degrees or sexagesimal, FITS tables, bad files."""

from __future__ import annotations

import numpy as np
import pytest

from galview.io import catalogues
from galview.io.catalogues import CatalogueError, read_catalogue


def test_the_real_candidates_catalogue(shared_data):
    catalogue = read_catalogue(shared_data / "legacy_dwarfs" / "candidates.csv")
    assert len(catalogue) == 24 and catalogue.unreadable == []
    assert (catalogue.ra_column, catalogue.dec_column, catalogue.name_column) == ("ra", "dec", "id_1")
    assert catalogue.ra[0] == 151.70481 and catalogue.dec[0] == -8.35146
    assert catalogue.row_text(0).startswith("1 · m_g_imfit=22.041 · ")


def test_names_units_and_unreadable_rows(tmp_path):
    path = tmp_path / "known.csv"
    path.write_text(
        "\ufeffObjName,RA (deg),DEJ2000,note\n"
        "KDG 61,149.26,68.59,dwarf\n"
        "sexagesimal,09:57:02.4,+68:35:24,\n"
        "hms,9h57m2.4s,68d35m24s,x\n"
        "no position,,,\n"
        "out of range,400,10,\n"
        "\n"
    )
    catalogue = read_catalogue(path)
    assert (catalogue.ra_column, catalogue.dec_column, catalogue.name_column) == (
        "RA (deg)",
        "DEJ2000",
        "ObjName",
    )
    np.testing.assert_allclose(catalogue.ra[:3], [149.26, 149.26, 149.26])
    np.testing.assert_allclose(catalogue.dec[:3], [68.59, 68.59, 68.59])
    assert catalogue.unreadable == [3, 4] and np.isnan(catalogue.ra[3:]).all()
    assert catalogue.names.tolist()[:2] == ["KDG 61", "sexagesimal"] and len(catalogue) == 5


def test_a_fits_table(tmp_path):
    from astropy.table import Table

    path = tmp_path / "table.fits"
    Table({"RA": [10.0, 20.0], "DEC": [-5.0, 5.0], "NAME": ["a", "b"], "MU": [25.1, 26.2]}).write(path)
    catalogue = read_catalogue(path)
    assert catalogue.names.tolist() == ["a", "b"] and catalogue.ra.tolist() == [10.0, 20.0]
    assert catalogue.columns["MU"].tolist() == ["25.1", "26.2"]


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("missing.csv", None, "does not exist"),
        ("table.xlsx", b"PK\x03\x04", "is not a catalogue GalView reads"),
        ("empty.csv", b"", "has no header row"),
        ("header.csv", b"ra,dec\n", "has no rows"),
        ("nocoords.csv", b"name,x\na,1\n", "has no RA and Dec columns (found: name, x)"),
        ("text.csv", b"ra,dec\nabc,def\n", "has no row with a readable position"),
        ("binary.csv", b"\x00\x01\x02ra,dec\n", "NUL bytes"),
        ("broken.fits", b"SIMPLE  =                    T" + b" " * 50, "cannot be read as a FITS table"),
    ],
)
def test_files_that_cannot_be_used_are_refused_naming_them(tmp_path, name, content, words):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(CatalogueError, match=words.replace("(", r"\(").replace(")", r"\)")) as info:
        read_catalogue(path)
    assert name in str(info.value)


def test_a_catalogue_too_large_is_refused_before_it_is_read(tmp_path, monkeypatch):
    path = tmp_path / "big.csv"
    path.write_text("ra,dec\n" + "1.0,2.0\n" * 1000)
    monkeypatch.setattr(catalogues, "MAX_CATALOGUE_BYTES", 1000)
    monkeypatch.setattr(catalogues.Path, "read_bytes", lambda self: pytest.fail("read"))
    with pytest.raises(CatalogueError, match="GalView reads catalogues of at most"):
        read_catalogue(path)


def test_a_gzipped_fits_table_is_judged_by_what_it_unpacks_to(tmp_path, monkeypatch):
    import gzip

    from astropy.table import Table

    plain = tmp_path / "table.fits"
    Table({"ra": np.linspace(0, 1, 5000), "dec": np.zeros(5000)}).write(plain)
    packed = tmp_path / "table.fits.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    assert len(read_catalogue(packed)) == 5000
    monkeypatch.setattr(catalogues, "MAX_CATALOGUE_BYTES", packed.stat().st_size + 1000)
    with pytest.raises(CatalogueError, match="GalView reads catalogues of at most"):
        read_catalogue(packed)  # small packed, larger unpacked

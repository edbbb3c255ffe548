"""Readers hand out valid text: ids and names from files that are not UTF-8 are decoded with replacement.

A file name that is not valid UTF-8 reaches Python with surrogate escapes (``"ngc\\udce9.png"``), and
bytes read from a file may be in any encoding. Neither can be written to SQLite, a UTF-8 CSV or a Qt
string; so every id a reader produces goes through :func:`valid_text`, which keeps valid text as is
and replaces undecodable bytes with U+FFFD (``"ngc\ufffd.png"``). The file itself is still opened
by its real name.
"""

from __future__ import annotations

import os
from pathlib import Path


def valid_text(value) -> str:
    """``value`` as a ``str`` that encodes to UTF-8.

    Parameters
    ----------
    value : str, bytes or object
        Bytes are decoded as UTF-8 with replacement; a ``str`` holding surrogate escapes (a
        non-UTF-8 file name) is re-decoded the same way; anything else goes through ``str``.
    """
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "replace")
    text = value if isinstance(value, str) else str(value)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(text).decode("utf-8", "replace") if _fs_encodable(text) else _replace(text)
    return text


def valid_texts(values) -> list[str]:
    """:func:`valid_text` of each of ``values``: a million ids that are already valid UTF-8 text (the
    usual case: a numpy array or a list of str) are checked in one encode: 0.08 s against 0.57 s one by
    one."""
    kind = getattr(getattr(values, "dtype", None), "kind", "")  # "U": a numpy array of str
    texts = values.tolist() if kind == "U" else values if isinstance(values, list) else None
    if texts is not None:
        try:
            "\n".join(texts).encode("utf-8")
        except (UnicodeEncodeError, TypeError):  # TypeError: not all of the list is str
            pass
        else:
            return texts
    return [valid_text(value) for value in values]


def one_line(exc: BaseException, limit: int = 200) -> str:
    """An exception's message on one line (whitespace collapsed, at most ``limit`` characters), for
    the reason in parentheses of a one-line error; its type name when it has no message."""
    text = " ".join(valid_text(exc).split())
    if not text:
        return type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def name_text(path: str | Path) -> str:
    """A file's name as valid text (see :func:`valid_text`)."""
    return valid_text(Path(path).name)


def stem_text(path: str | Path) -> str:
    """A file's name without its last suffix, as valid text."""
    return valid_text(Path(path).stem)


def _fs_encodable(text: str) -> bool:
    try:
        os.fsencode(text)
    except UnicodeEncodeError:
        return False
    return True


def _replace(text: str) -> str:
    return text.encode("utf-8", "replace").decode("utf-8")

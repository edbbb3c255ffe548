"""What every refusal of a damaged input must look like: one line, naming the file, saying what was wrong."""

from __future__ import annotations

import pytest

from galview.core.errors import CollectionError
from galview.io import open_collection


def one_line(error: BaseException, path, fragments) -> str:
    """Check ``error`` is a plain CollectionError of one line starting with ``path``; return its text."""
    message = str(error)
    assert type(error) is CollectionError
    assert message.startswith(f"{path}: ") and "\n" not in message, message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    return message


def refused(path, *fragments, **options) -> str:
    """Open ``path`` (with ``options``), expect a one-line refusal holding every fragment; return it."""
    with pytest.raises(CollectionError) as info:
        open_collection(path, **options)
    return one_line(info.value, path, fragments)

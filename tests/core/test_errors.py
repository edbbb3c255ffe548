"""A user-facing error is one line whatever it quotes (issue 11: some errors spanned two lines)."""

from galview.core.errors import CollectionError


def test_message_is_one_line_even_when_the_problem_or_path_holds_line_breaks():
    error = CollectionError("odd\nname.npz", "is damaged (HDF5 says:\n  bad object header\n)")
    assert str(error) == "odd\\nname.npz: is damaged (HDF5 says: bad object header )"
    assert error.path == "odd\nname.npz"
    assert error.problem == "is damaged (HDF5 says: bad object header )"

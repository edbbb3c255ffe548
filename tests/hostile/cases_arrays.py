"""The array formats' part of the hostile-input corpus: .npy, .npz and HDF5 (issue 11, section 6).

The cases live in :mod:`tests.hostile.arrays_npy`, :mod:`~tests.hostile.arrays_npz` and
:mod:`~tests.hostile.arrays_hdf5`; the runner (:mod:`tests.hostile.corpus`) collects this module.
"""

from __future__ import annotations

from tests.hostile import arrays_hdf5, arrays_npy, arrays_npz
from tests.hostile.case import Case


def cases() -> list[Case]:
    """Every .npy, .npz and HDF5 case."""
    return arrays_npy.cases() + arrays_npz.cases() + arrays_hdf5.cases()

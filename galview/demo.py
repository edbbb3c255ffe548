"""The demo collection: generated on first use and cached in the user's data folder."""

from __future__ import annotations

from pathlib import Path

from galview.core.paths import data_dir

DEMO_SIZE = 400
DEMO_NAME = "toy_survey_v1.h5"


def demo_path() -> Path:
    return data_dir() / DEMO_NAME


def ensure_demo_collection(progress=print) -> Path:
    """Path of the demo collection, generating it (a few seconds) if it is not cached yet."""
    path = demo_path()
    if path.exists():
        return path
    from galview.core.toy_survey import BANDS, toy_survey
    from galview.io.writers import write_hdf5

    progress(f"Generating the demo collection ({DEMO_SIZE} toy cutouts) in {path} …")
    images, labels = toy_survey(DEMO_SIZE, seed=2021)
    ids = [f"toy-{i:04d}" for i in range(DEMO_SIZE)]
    return write_hdf5(path, images, labels=labels, ids=ids, bands=BANDS)

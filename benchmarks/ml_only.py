"""Make a benchmark run as if only numpy, h5py, scikit-learn and Keras were installed (as on the GPU machines).

Importing this module, before Keras, marks astropy, Qt, GalSim and — unless the Keras backend is
TensorFlow — TensorFlow as absent, so the script also proves ``galview.ml`` needs none of them. A None
entry in ``sys.modules`` makes ``import X`` fail (ModuleNotFoundError) and ``importlib.util.find_spec``
answer None, as for a package that is not installed; a finder that raised instead broke PyTorch, whose
start-up probes for TensorFlow with find_spec.
"""

from __future__ import annotations

import os
import sys

BLOCKED = {"astropy", "PyQt6", "pyqtgraph", "superqt", "galsim"}
if os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow":
    BLOCKED.add("tensorflow")
for _name in BLOCKED:
    sys.modules.setdefault(_name, None)

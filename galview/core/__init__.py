"""Pure numpy/astropy layer: collections, display scaling, session state. No Qt, no Keras."""

"""The only package that imports Keras: architectures, model cards, inference, Grad-CAM, training.

Importable with numpy, h5py and keras alone (no astropy, no Qt), so GPU checks run on a bare machine.
"""

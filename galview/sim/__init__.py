"""Simulated DES-like and HSC-like LSBG and artifact cutouts with known truth (GalSim).

Needs numpy, GalSim and Pillow; no Qt, no Keras.
"""

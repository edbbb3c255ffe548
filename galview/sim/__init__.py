"""Simulated DES-like and HSC-like LSBG and artifact cutouts with known truth (GalSim).

Needs numpy, GalSim and Pillow; no Qt, no Keras.
"""

#: What the simulator draws, as a number: raised whenever a change alters the cutouts it makes (BENCHMARKS.md
#: calls the current simulations v7). Simulated files record it; the demo collection is regenerated when it
#: changes, so an upgrade never shows the previous simulator's cutouts.
SIMULATOR_VERSION = 7

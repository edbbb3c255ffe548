"""Readers for cutout collections (npy/npz, HDF5, FITS, image folders), chosen by content."""

from galview.io.registry import open_collection, supported_formats

__all__ = ["open_collection", "supported_formats"]

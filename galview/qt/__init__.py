"""The window: every widget, the thumbnail renderer thread. The only package that imports Qt."""

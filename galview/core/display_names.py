"""Names of the display choices and the size limit of a figure, without numpy: the command line offers
them before anything loads."""

STRETCHES = ("linear", "sqrt", "log", "asinh")
INTERVALS = ("none", "minmax", "percentile", "zscale")
COLOUR_METHODS = ("lupton", "legacy", "per-band")

#: Most cutouts in one figure (File ▸ Save the grid as an image…, ``galview mosaic``): a 20 × 20 grid;
#: more would not be readable on a page.
MAX_FIGURE_TILES = 400

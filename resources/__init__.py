"""Icons, the desktop entry and stylesheets, installed as the data package ``galview.resources``
(see :mod:`galview.assets`)."""

"""The shipped models, installed as the data package ``galview.models`` (see :mod:`galview.assets`).

Each ``.keras`` file has its JSON model card beside it.
"""

"""The catalogue: dataset entries in the UK cross-government metadata exchange model, searchable in the database.

``ws.catalogue`` is a ``Catalogue`` (service.py); records are checked by model.py and exchanged as DCAT JSON-LD by
dcat.py.
"""

"""The workbench's version, written into the packages and results.json files it makes (one place, low enough
for every layer to import)."""

__version__ = "0.1.0"

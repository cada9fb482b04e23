"""Notebook widgets (ipywidgets, imported only when a widget is made)."""

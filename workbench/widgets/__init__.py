"""Notebook views over the services: ipywidgets tools and plotly figures.

These are interfaces, like the kernel API and the CLI: they call the services (which ask the policy and write the
audit log) and never touch storage themselves. ipywidgets and plotly are imported only when a view is made.
"""

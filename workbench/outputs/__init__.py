"""Outputs recorded in a project: disclosure-checked tables and models waiting for output checking."""

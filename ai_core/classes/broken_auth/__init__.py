"""Broken authentication: one class package; spec.py is its user documentation."""

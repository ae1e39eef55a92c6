"""Sensitive data exposure: one class package; spec.py is its user documentation."""

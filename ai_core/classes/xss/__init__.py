"""Cross-site scripting: one class package; spec.py is its user documentation."""

"""XML external entities: one class package; spec.py is its user documentation."""

"""Code injection and template injection: one class package; spec.py is its user documentation."""

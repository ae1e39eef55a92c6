"""Open redirect: one class package; spec.py is its user documentation."""

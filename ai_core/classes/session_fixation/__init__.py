"""Session fixation and missing session expiry: one class package; spec.py is its user documentation."""

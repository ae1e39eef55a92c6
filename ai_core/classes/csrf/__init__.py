"""Cross-site request forgery: one class package; spec.py is its user documentation."""

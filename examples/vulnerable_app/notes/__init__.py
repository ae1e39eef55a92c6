"""A notes service with deliberate vulnerabilities (see the README)."""

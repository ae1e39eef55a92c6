"""A small online shop built with Flask."""

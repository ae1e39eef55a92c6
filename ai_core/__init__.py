"""coderev's analysis engine: parsing, taint analysis, retrieval, the model and fixes (no LSP here)."""

__version__ = "0.1.0"

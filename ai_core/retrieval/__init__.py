"""Retrieval: chunking, MiniLM embeddings, the LanceDB workspace index and the knowledge base."""

import importlib
import os
from typing import Any

os.environ.setdefault("LANCEDB_LOG", "error")  # before lancedb loads: it warns on stderr for every new table

# Names load on first use (PEP 562): importing a submodule such as `provider` must not pull in lancedb,
# pyarrow and torch for a server that never indexes.
_EXPORTS = {
    "KINDS": "chunker", "Chunk": "chunker", "chunk_source": "chunker",
    "Embedder": "embeddings", "default_embedder": "embeddings",
    "CodeIndex": "indexer", "Definition": "indexer", "SyncStats": "indexer",
    "IndexStore": "store", "SearchResult": "store", "StoreError": "store",
}


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)


__all__ = sorted(_EXPORTS)

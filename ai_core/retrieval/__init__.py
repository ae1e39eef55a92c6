"""Retrieval: chunking, MiniLM embeddings, the LanceDB workspace index and the knowledge base."""

import os

os.environ.setdefault("LANCEDB_LOG", "error")  # before lancedb loads: it warns on stderr for every new table

from ai_core.retrieval.chunker import KINDS, Chunk, chunk_source
from ai_core.retrieval.embeddings import Embedder, default_embedder
from ai_core.retrieval.indexer import CodeIndex, Definition, SyncStats
from ai_core.retrieval.store import IndexStore, SearchResult, StoreError

__all__ = ["KINDS", "Chunk", "CodeIndex", "Definition", "Embedder", "IndexStore", "SearchResult", "StoreError",
           "SyncStats", "chunk_source", "default_embedder"]

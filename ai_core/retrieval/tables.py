"""The LanceDB tables of a workspace index: their schemas, a chunk as a row, and SQL filter helpers."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from ai_core.retrieval.chunks import Chunk
from ai_core.retrieval.embeddings import DIMENSION

BATCH = 500
"""Ids per `IN (...)` filter."""

_VECTOR = pa.list_(pa.float32(), DIMENSION)
_STRINGS = pa.list_(pa.string())

SCHEMAS: dict[str, pa.Schema] = {
    "meta": pa.schema([("key", pa.string()), ("value", pa.string())]),
    "files": pa.schema([("path", pa.string()), ("file_hash", pa.string()), ("size", pa.int64()),
                        ("mtime_ns", pa.int64()), ("chunks", pa.int32()), ("skipped", pa.string())]),
    "chunks": pa.schema([
        ("id", pa.string()), ("path", pa.string()), ("kind", pa.string()), ("name", pa.string()),
        ("start_line", pa.int32()), ("end_line", pa.int32()), ("scope_start", pa.int32()),
        ("scope_end", pa.int32()), ("part", pa.int32()), ("text", pa.string()), ("symbols", _STRINGS),
        ("imports", _STRINGS), ("calls", _STRINGS), ("content_hash", pa.string()), ("vector", _VECTOR),
    ]),
    "embeddings": pa.schema([("content_hash", pa.string()), ("vector", _VECTOR)]),
}
RESULT_COLUMNS = ["id", "path", "kind", "name", "start_line", "end_line", "scope_start", "scope_end", "part",
                   "text", "symbols", "imports", "calls"]


def quote(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def in_list(column: str, values: Iterable[str]) -> str:
    """`column IN ('a', 'b')`."""
    return f"{column} IN ({', '.join(quote(v) for v in values)})"


def batched(values: Sequence[str], size: int = BATCH) -> Iterator[Sequence[str]]:
    """Consecutive slices of at most `size` values."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def fts_query(text: str) -> str:
    """The words of a query, without the characters the full-text parser gives meaning to."""
    return " ".join(re.findall(r"\w+", text))


def chunk_row(chunk: Chunk, vector: np.ndarray) -> dict[str, Any]:
    """The `chunks` row of a chunk and its vector."""
    return {"id": chunk.id, "path": chunk.path, "kind": chunk.kind, "name": chunk.name,
            "start_line": chunk.start_line, "end_line": chunk.end_line, "scope_start": chunk.scope_start,
            "scope_end": chunk.scope_end, "part": chunk.part, "text": chunk.text, "symbols": list(chunk.symbols),
            "imports": list(chunk.imports), "calls": list(chunk.calls), "content_hash": chunk.content_hash,
            "vector": vector.tolist()}

"""The LanceDB store of a workspace index: chunks, file states, an embedding cache and a schema version.

Tables (in one LanceDB database at a URI: a local folder or object storage):
- `meta`: key/value pairs, among them the schema version and the embedding model;
- `files`: one row per indexed (or skipped) file with its hash, size and mtime;
- `chunks`: one row per chunk, keyed by path + position + content hash, with its vector;
- `embeddings`: vectors by content hash, so the same content is never embedded twice.
A schema or model mismatch, or a table that cannot be read, makes `open` rebuild the store empty.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import lancedb
import numpy as np
import pyarrow as pa
from lancedb.index import FTS, IvfPq
from lancedb.rerankers import RRFReranker

from ai_core.retrieval.chunks import Chunk
from ai_core.retrieval.embeddings import DIMENSION, MODEL_NAME
from ai_core.retrieval.tables import RESULT_COLUMNS, SCHEMAS, batched, chunk_row, fts_query, in_list, quote

log = logging.getLogger(__name__)

SCHEMA_VERSION = "1"
"""Bump when a table's layout or the chunking changes: an index of another version is rebuilt."""
NEW = "new index"
KEEP_VERSIONS_FOR = timedelta(minutes=5)
"""Table versions older than this are deleted when the index is optimized (readers may still use newer ones)."""
MAX_FRAGMENTS = 24
"""More data fragments than this in a table (one per write) and `maintain` compacts the tables."""
VECTOR_INDEX_MIN_ROWS = 100_000
"""Below this many chunks vector search stays exact (flat); above, an IVF_PQ index is built.

Measured on 40k Django chunks: flat hybrid ~40 ms a query; with IVF_PQ ~12 ms, after a 38 s build.
Workspace search is not on the diagnostics path (definitions are found by scalar filters), so exact
search is kept for typical projects."""

class StoreError(Exception):
    """The index cannot be used (and could not be rebuilt)."""


@dataclass(frozen=True, slots=True)
class FileState:
    """What the index knows about one file."""

    path: str
    file_hash: str
    size: int
    mtime_ns: int
    chunks: int = 0
    skipped: str = ""


@dataclass(frozen=True, slots=True)
class SearchResult:
    """One search hit; lines are 1-based and inclusive."""

    path: str
    start_line: int
    end_line: int
    kind: str
    name: str
    score: float
    text: str
    symbols: tuple[str, ...] = ()
    calls: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The record `coderev search --json` prints."""
        return {"path": self.path, "start_line": self.start_line, "end_line": self.end_line, "kind": self.kind,
                "name": self.name, "score": round(self.score, 6)}


def resolve_uri(uri: str, root: Path | None) -> str:
    """A URI with a scheme stays as it is; a path is made absolute against the workspace root.

    Symlinks are not resolved: an index folder inside the workspace that is (or holds) a symlink is refused
    when the index is opened, never followed out of the workspace.
    """
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]+://", uri):
        return uri
    path = Path(uri).expanduser()
    if not path.is_absolute() and root is not None:
        path = Path(root).resolve() / path
    return os.path.abspath(path)


def is_local(uri: str) -> bool:
    """True for a folder on this machine."""
    return "://" not in uri or uri.startswith("file://")


class IndexStore:
    """The LanceDB tables of one index, created, validated and rebuilt as needed."""

    def __init__(self, uri: str, model: str = MODEL_NAME, storage_options: dict[str, str] | None = None) -> None:
        self.uri = uri
        self.model = model
        self.storage_options = storage_options
        """Object-store settings (e.g. aws_endpoint, aws_region, allow_http); AWS_* environment variables
        are read too."""
        self.rebuilt = False
        """True when `open` found an unusable index (version mismatch, corrupt table) and started afresh."""
        self._lock = threading.RLock()
        self._tables: dict[str, Any] = {}
        self._db: Any = None

    # -- opening, validating, rebuilding -------------------------------------------------------------
    def open(self) -> IndexStore:
        """Connect, then validate every table; rebuild when anything is off. Raises StoreError only when
        even a fresh store cannot be created (e.g. an unwritable location)."""
        with self._lock:
            try:
                if is_local(self.uri):
                    Path(self.uri.removeprefix("file://")).mkdir(parents=True, exist_ok=True)
                self._db = lancedb.connect(self.uri, storage_options=self.storage_options)
            except Exception as exc:
                raise StoreError(f"cannot open the index at {self.uri}: {exc}") from exc
            problem = self._validate()
            if problem == NEW:
                log.info("creating the index at %s", self.uri)
                self.rebuild()
                self.rebuilt = False
            elif problem is not None:
                log.warning("index at %s is unusable (%s); rebuilding it", self.uri, problem)
                self.rebuild()
            return self

    def _existing(self) -> list[str]:
        tables: list[str] = []
        token = None
        while True:
            response = self._db.list_tables(page_token=token) if token else self._db.list_tables()
            tables.extend(response.tables)
            token = getattr(response, "page_token", None)
            if not token:
                return tables

    def _validate(self) -> str | None:
        """None when the index is usable, else what is wrong with it."""
        try:
            existing = set(self._existing())
        except Exception as exc:
            return f"cannot list tables: {exc}"
        if not existing:
            return NEW
        try:
            meta = self._open_table("meta")
            values = {row["key"]: row["value"] for row in meta.search().limit(None).to_list()}
        except Exception as exc:
            return f"meta table unreadable: {exc}"
        if values.get("schema_version") != SCHEMA_VERSION:
            return f"schema version {values.get('schema_version')!r}, expected {SCHEMA_VERSION!r}"
        if values.get("model") != self.model:
            return f"embedded with {values.get('model')!r}, now {self.model!r}"
        for name, schema in SCHEMAS.items():
            if name == "meta":
                continue
            try:
                table = self._open_table(name)
                if not table.schema.equals(schema):
                    return f"table {name} has another layout"
                # read every fragment's small columns: corrupt data files fail here
                table.search().select([schema.names[0]]).limit(None).to_arrow()
            except Exception as exc:
                return f"table {name} unreadable: {exc}"
        return None

    def rebuild(self) -> None:
        """Drop the index's tables (other tables in the same database stay) and create them empty."""
        with self._lock:
            self._tables.clear()
            for name in SCHEMAS:
                self._drop(name)
            try:
                for name, schema in SCHEMAS.items():
                    self._tables[name] = self._db.create_table(name, schema=schema, mode="overwrite")
                self._tables["meta"].add([{"key": "schema_version", "value": SCHEMA_VERSION},
                                          {"key": "model", "value": self.model},
                                          {"key": "dimension", "value": str(DIMENSION)}])
            except Exception as exc:
                raise StoreError(f"cannot create the index at {self.uri}: {exc}") from exc
            self.rebuilt = True

    def _drop(self, name: str) -> None:
        try:
            self._db.drop_table(name)
        except Exception as exc:
            folder = Path(self.uri.removeprefix("file://")) / f"{name}.lance"
            if is_local(self.uri) and folder.exists():
                shutil.rmtree(folder, ignore_errors=True)
            elif "not found" not in str(exc).lower() and "does not exist" not in str(exc).lower():
                log.warning("cannot drop table %s: %s", name, exc)

    def _open_table(self, name: str) -> Any:
        table = self._tables.get(name)
        if table is None:
            table = self._tables[name] = self._db.open_table(name)
        return table

    def table(self, name: str) -> Any:
        """An open table (after `open`)."""
        if self._db is None:
            raise StoreError("the index is not open")
        return self._open_table(name)

    # -- reading ---------------------------------------------------------------------------------------
    def file_states(self, paths: Sequence[str] | None = None) -> dict[str, FileState]:
        """The files the index knows (all, or those of `paths`), by relative path."""
        if paths is None:
            rows = self.table("files").search().limit(None).to_list()
        else:
            rows = [row for group in batched(list(paths))
                    for row in self.table("files").search().where(in_list("path", group)).limit(None).to_list()]
        return {row["path"]: FileState(row["path"], row["file_hash"], row["size"], row["mtime_ns"], row["chunks"],
                                       row["skipped"]) for row in rows}

    def chunk_ids(self, paths: Sequence[str]) -> dict[str, set[str]]:
        """The chunk ids stored for each of `paths`."""
        out: dict[str, set[str]] = {path: set() for path in paths}
        table = self.table("chunks")
        for group in batched(list(paths)):
            rows = table.search().where(in_list("path", group)).select(["id", "path"]).limit(None).to_arrow()
            for chunk_id, path in zip(rows["id"].to_pylist(), rows["path"].to_pylist(), strict=True):
                out.setdefault(path, set()).add(chunk_id)
        return out

    def cached_vectors(self, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        """Vectors already computed for these content hashes."""
        out: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(hashes))
        table = self.table("embeddings")
        for group in batched(unique):
            rows = table.search().where(in_list("content_hash", group)).select(["content_hash", "vector"]) \
                .limit(None).to_arrow()
            if rows.num_rows:
                vectors = np.asarray(rows["vector"].combine_chunks().flatten(), dtype=np.float32) \
                    .reshape(rows.num_rows, DIMENSION)
                for index, key in enumerate(rows["content_hash"].to_pylist()):
                    out[key] = vectors[index]
        return out

    def count(self, table: str = "chunks", where: str | None = None) -> int:
        """Rows in a table (matching `where`)."""
        return int(self.table(table).count_rows(where) if where else self.table(table).count_rows())

    def rows(self, where: str | None = None, columns: Sequence[str] = tuple(RESULT_COLUMNS),
             limit: int | None = None) -> list[dict[str, Any]]:
        """Chunk rows matching a filter."""
        query = self.table("chunks").search()
        if where:
            query = query.where(where)
        return list(query.select(list(columns)).limit(limit).to_list())

    def search(self, vector: Sequence[float] | None, text: str, limit: int = 10, where: str | None = None,
               mode: str = "hybrid") -> list[SearchResult]:
        """Hybrid (vector + full text, fused by reciprocal rank), `vector` or `text` search."""
        table = self.table("chunks")
        words = fts_query(text)
        if mode == "hybrid" and (not words or not self.has_fts()):
            mode = "vector"
        if mode == "text" and not words:
            return []
        if mode == "hybrid":
            query = table.search(query_type="hybrid").vector(list(vector or [])).text(words)
        elif mode == "vector":
            if vector is None:
                raise ValueError("vector search needs a vector")
            query = table.search(list(vector), query_type="vector").distance_type("cosine")
        elif mode == "text":
            query = table.search(words, query_type="fts")
        else:
            raise ValueError(f"unknown search mode {mode!r}")
        if where:
            query = query.where(where, prefilter=True)
        query = query.select(RESULT_COLUMNS)
        if mode == "hybrid":
            query = query.rerank(RRFReranker())
        rows = query.limit(limit).to_list()
        results = []
        for row in rows:
            if mode == "hybrid":
                score = float(row.get("_relevance_score", 0.0))
            elif mode == "vector":
                score = 1.0 - float(row.get("_distance", 1.0))
            else:
                score = float(row.get("_score", 0.0))
            results.append(SearchResult(row["path"], row["start_line"], row["end_line"], row["kind"], row["name"],
                                        score, row["text"], tuple(row["symbols"] or ()), tuple(row["calls"] or ())))
        return results

    def has_fts(self) -> bool:
        """True when the chunks' text has a full-text index."""
        try:
            return any(index.index_type == "FTS" for index in self.table("chunks").list_indices())
        except Exception:
            return False

    # -- writing ---------------------------------------------------------------------------------------
    def write(self, files: Sequence[FileState], add: Sequence[Chunk], vectors: dict[str, np.ndarray],
              delete_ids: Sequence[str], new_embeddings: dict[str, np.ndarray]) -> None:
        """Apply one batch of changes: delete stale chunks, add new ones, record file states and vectors."""
        with self._lock:
            chunks = self.table("chunks")
            for group in batched(list(delete_ids)):
                chunks.delete(in_list("id", group))
            if add:
                chunks.add(pa.Table.from_pylist([chunk_row(chunk, vectors[chunk.content_hash]) for chunk in add],
                                                schema=SCHEMAS["chunks"]))
            if new_embeddings:
                keys = list(new_embeddings)
                self.table("embeddings").add(pa.Table.from_pydict(
                    {"content_hash": keys, "vector": [new_embeddings[k].tolist() for k in keys]},
                    schema=SCHEMAS["embeddings"]))
            if files:
                table = self.table("files")
                for group in batched([f.path for f in files]):
                    table.delete(in_list("path", group))
                table.add(pa.Table.from_pylist(
                    [{"path": f.path, "file_hash": f.file_hash, "size": f.size, "mtime_ns": f.mtime_ns,
                      "chunks": f.chunks, "skipped": f.skipped} for f in files], schema=SCHEMAS["files"]))

    def remove_files(self, paths: Sequence[str]) -> int:
        """Delete the chunks and file rows of `paths`; returns how many chunks went."""
        removed = 0
        with self._lock:
            for group in batched(list(paths)):
                where = in_list("path", group)
                removed += self.count("chunks", where)
                self.table("chunks").delete(where)
                self.table("files").delete(where)
        return removed

    def optimize(self, rebuild_fts: bool = False, keep_versions: timedelta = KEEP_VERSIONS_FOR) -> None:
        """Compact small fragments, bring the indices up to date, drop versions older than `keep_versions`."""
        with self._lock:
            chunks = self.table("chunks")
            rows = chunks.count_rows()
            if rows and (rebuild_fts or not self.has_fts()):
                chunks.create_index("text", config=FTS(), replace=True)
            if rows >= VECTOR_INDEX_MIN_ROWS and not any(i.index_type.startswith("IVF")
                                                         for i in chunks.list_indices()):
                chunks.create_index("vector", config=IvfPq(distance_type="cosine"))
            for name in ("chunks", "files", "embeddings"):
                try:
                    with warnings.catch_warnings():  # lance warns when asked to keep no old version
                        warnings.simplefilter("ignore", UserWarning)
                        self.table(name).optimize(cleanup_older_than=keep_versions)
                except Exception as exc:  # another process may hold an old version: try again next time
                    log.debug("optimizing %s failed: %s", name, exc)

    def maintain(self) -> bool:
        """After writes: create a missing full-text index; optimize once small fragments pile up.

        Returns True when it optimized. Compaction rewrites the table's data, so a save that adds one
        fragment does not trigger it; MAX_FRAGMENTS does.
        """
        with self._lock:
            chunks = self.table("chunks")
            if chunks.count_rows() and not self.has_fts():
                chunks.create_index("text", config=FTS(), replace=True)
            fragments = max(int(self.table(name).stats()["fragment_stats"]["num_fragments"])
                            for name in ("chunks", "files", "embeddings"))
            if fragments <= MAX_FRAGMENTS:
                return False
        self.optimize()
        return True

    def prune_embeddings(self, keep_factor: float = 2.0) -> int:
        """Drop cached vectors no chunk uses once the cache holds `keep_factor` times the chunks."""
        with self._lock:
            cache, chunks = self.table("embeddings"), self.table("chunks")
            if cache.count_rows() <= keep_factor * max(1, chunks.count_rows()) + 1000:
                return 0
            used = set(chunks.search().select(["content_hash"]).limit(None).to_arrow()["content_hash"].to_pylist())
            cached = cache.search().select(["content_hash"]).limit(None).to_arrow()["content_hash"].to_pylist()
            stale = [key for key in cached if key not in used]
            for group in batched(stale):
                cache.delete(in_list("content_hash", group))
            return len(stale)

    def size_bytes(self) -> int:
        """Bytes on disk (local indexes only; 0 for object storage)."""
        if not is_local(self.uri):
            return 0
        folder = Path(self.uri.removeprefix("file://"))
        return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


__all__ = ["SCHEMAS", "SCHEMA_VERSION", "FileState", "IndexStore", "SearchResult", "StoreError", "fts_query",
           "in_list", "is_local", "quote", "resolve_uri"]

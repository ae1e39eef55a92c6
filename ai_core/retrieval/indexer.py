"""The workspace index: keep a LanceDB store in step with the Python files under a root, and query it.

`CodeIndex.sync()` walks the workspace: files whose size and mtime are unchanged are not read, files
whose content hash is unchanged are not chunked, and of a changed file only the chunks that are new
(by path, position and content) are written; their vectors come from the embedding cache when that
content was embedded before. `update()` does the same for named files (on save, on watched-file events).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ai_core.config import Settings
from ai_core.files import SourceError, is_excluded, is_skipped_dir, iter_python_files, read_source, relative
from ai_core.parsing.budget import over_budget
from ai_core.retrieval.chunker import chunk_source
from ai_core.retrieval.chunks import Chunk
from ai_core.retrieval.embeddings import Embedder, default_embedder
from ai_core.retrieval.queries import Definition, IndexQueries
from ai_core.retrieval.store import FileState, IndexStore, StoreError, resolve_uri
from ai_core.safe_write import ensure_dir, symlinks_under

log = logging.getLogger(__name__)

INDEX_MAX_FILE_BYTES = 2 * 1024 * 1024
"""Files larger than this (or than the max_file_bytes setting) are not indexed."""
BATCH_CHUNKS = 256
"""Chunks embedded and written together."""

Progress = Callable[[int, int, str], None]
"""progress(files done, files in total, message)."""


@dataclass
class SyncStats:
    """What one sync or update did."""

    files: int = 0
    """Files looked at."""
    changed: int = 0
    """Files (re)chunked."""
    removed: int = 0
    """Files whose rows were deleted."""
    skipped: int = 0
    """Files not indexed (too large, binary, not UTF-8, unreadable)."""
    still_skipped: int = 0
    """Unchanged files an earlier sync skipped (not read again)."""
    unreadable_folders: int = 0
    """Folders that could not be listed (their indexed files are kept; they are in skipped_reasons)."""
    chunks_added: int = 0
    chunks_removed: int = 0
    embedded: int = 0
    """Texts run through the model."""
    reused: int = 0
    """Chunks whose vector came from the cache."""
    seconds: float = 0.0
    cancelled: bool = False
    skipped_reasons: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        """One line for logs and the CLI."""
        text = (f"{self.files} files ({self.changed} changed, {self.removed} removed, {self.skipped} skipped), "
                f"+{self.chunks_added}/-{self.chunks_removed} chunks, {self.embedded} embedded, "
                f"{self.reused} from cache, {self.seconds:.1f} s")
        return text + (" (cancelled)" if self.cancelled else "")

    @property
    def nothing_indexed(self) -> bool:
        """True when the sync found files or folders and every one of them was skipped."""
        seen = self.files + self.unreadable_folders
        return seen > 0 and self.skipped + self.still_skipped >= self.files and not self.cancelled


@dataclass
class _Plan:
    """A changed file: its new state and chunks."""

    state: FileState
    chunks: list[Chunk]


class CodeIndex(IndexQueries):
    """The retrieval index of one workspace folder."""

    def __init__(self, root: Path, settings: Settings | None = None, uri: str | None = None,
                 embedder: Embedder | None = None, storage_options: dict[str, str] | None = None) -> None:
        self.root = Path(root).resolve()
        self.settings = settings or Settings()
        self.uri = resolve_uri(uri if uri is not None else self.settings.index_uri, self.root)
        self._embedder = embedder
        self.store = IndexStore(self.uri, model=(embedder or Embedder()).model_name, storage_options=storage_options)
        self._opened = False
        self._lock = threading.RLock()

    @property
    def embedder(self) -> Embedder:
        """The embedder (the process-wide one unless another was given)."""
        if self._embedder is None:
            self._embedder = default_embedder()
        return self._embedder

    @property
    def max_file_bytes(self) -> int:
        """The size above which files are skipped."""
        return min(self.settings.max_file_bytes, INDEX_MAX_FILE_BYTES)

    def open(self) -> CodeIndex:
        """Open (or create, or rebuild) the store; cheap once open (queries never wait for a running sync)."""
        if self._opened:
            return self
        with self._lock:
            if not self._opened:
                self._check_folder()
                self.store.open()
                self._opened = True
            return self

    def _check_folder(self) -> None:
        """Create an index folder inside the workspace without following symlinks; refuse one that holds any."""
        folder = self._index_folder()
        if folder is None:
            return
        try:
            ensure_dir(self.root, folder.relative_to(self.root))
        except OSError as exc:
            raise StoreError(f"cannot open the index at {self.uri}: {exc}") from exc
        links = symlinks_under(folder)
        if links:
            raise StoreError(f"refusing the index at {self.uri}: {links[0]} is a symlink (delete the folder to "
                             "rebuild it)")

    def _index_folder(self) -> Path | None:
        """The index folder when it lies inside the workspace (never indexed)."""
        if "://" in self.uri:
            return None
        folder = Path(self.uri)
        return folder if folder.is_relative_to(self.root) else None

    # -- building ---------------------------------------------------------------------------------------
    def sync(self, progress: Progress | None = None, cancel: threading.Event | None = None) -> SyncStats:
        """Bring the index up to date with every Python file under the root.

        A store that fails midway (a table corrupted after it was opened) is rebuilt and the sync runs
        once more from scratch.
        """
        try:
            return self._sync(progress, cancel)
        except StoreError:
            raise
        except Exception as exc:
            log.warning("indexing %s failed (%s: %s); rebuilding the index", self.root, type(exc).__name__, exc)
            with self._lock:
                self.store.rebuild()
            return self._sync(progress, cancel)

    def _sync(self, progress: Progress | None, cancel: threading.Event | None) -> SyncStats:
        started = time.perf_counter()
        with self._lock:
            self.open()
            stats = SyncStats()
            known = self.store.file_states()
            present: dict[str, Path] = {}
            unreadable: list[tuple[str, str]] = []
            for path in iter_python_files(self.root, self.settings.exclude,
                                          on_unreadable=lambda rel, reason: unreadable.append((rel, reason))):
                present[relative(path, self.root)] = path
            for rel, reason in unreadable:
                log.warning("not indexing %s: %s", rel, reason)
            stats.unreadable_folders = len(unreadable)
            stats.skipped_reasons.extend(unreadable)
            hidden = tuple("" if rel == "." else rel + "/" for rel, _ in unreadable)
            gone = sorted(rel for rel in set(known) - set(present) if not rel.startswith(hidden))  # kept: unknown
            if gone:
                stats.chunks_removed += self.store.remove_files(gone)
                stats.removed = len(gone)
            stats.files = len(present)
            todo: list[tuple[str, Path]] = []
            touched: list[FileState] = []
            for rel, path in present.items():
                state = known.get(rel)
                try:
                    info = path.stat()
                except OSError:
                    continue
                if state is not None and state.size == info.st_size and state.mtime_ns == info.st_mtime_ns:
                    stats.still_skipped += bool(state.skipped)
                    continue
                todo.append((rel, path))
            self._process(todo, known, stats, progress, cancel, touched)
            self._finish(stats, started)
            return stats

    def update(self, changed: Iterable[Path] = (), deleted: Iterable[Path] = ()) -> SyncStats:
        """Re-index the given files (read and hashed whatever their mtime) and drop deleted ones."""
        started = time.perf_counter()
        with self._lock:
            self.open()
            stats = SyncStats()
            gone = [rel for rel in (self._relative(p) for p in deleted) if rel is not None]
            todo: list[tuple[str, Path]] = []
            for path in changed:
                rel = self._relative(path)
                if rel is None:
                    continue
                if not Path(path).is_file():
                    gone.append(rel)
                elif is_excluded(rel, self.settings.exclude) or not rel.endswith((".py", ".pyi")):
                    gone.append(rel)  # excluded files keep no rows
                else:
                    todo.append((rel, Path(path)))
            if gone:
                stats.chunks_removed += self.store.remove_files(sorted(set(gone)))
                stats.removed = len(set(gone))
            stats.files = len(todo)
            known = self.store.file_states([rel for rel, _ in todo]) if todo else {}
            self._process(todo, known, stats, None, None, [])
            self._finish(stats, started)
            return stats

    def _relative(self, path: Path) -> str | None:
        try:
            rel = Path(path).resolve().relative_to(self.root).as_posix()
        except ValueError:
            return None
        index = self._index_folder()
        if index is not None and Path(path).resolve().is_relative_to(index):
            return None
        if any(is_skipped_dir(part) for part in rel.split("/")[:-1]):
            return None
        return rel

    def _finish(self, stats: SyncStats, started: float) -> None:
        if stats.changed or stats.removed or stats.chunks_added or stats.chunks_removed:
            try:
                if self.store.maintain():
                    self.store.prune_embeddings()
            except Exception:
                log.exception("optimizing the index failed; it stays usable")
        stats.seconds = time.perf_counter() - started
        log.info("index %s: %s", self.root, stats.summary())

    def _process(self, todo: list[tuple[str, Path]], known: dict[str, FileState], stats: SyncStats,
                 progress: Progress | None, cancel: threading.Event | None, touched: list[FileState]) -> None:
        """Read, chunk, embed and write `todo` in batches; reports progress, stops when cancelled."""
        total = len(todo)
        batch: list[_Plan] = []
        pending = 0
        if todo and not (cancel is not None and cancel.is_set()):
            if progress is not None:
                progress(0, total, "loading the embedding model")
            self.embedder.load()  # before the first file, so that a cancel during the load stops it
        if progress is not None:
            progress(0, total, f"{total} files to index")
        for done, (rel, path) in enumerate(todo, start=1):
            if cancel is not None and cancel.is_set():
                stats.cancelled = True
                break
            plan = self._plan(rel, path, known.get(rel), stats, touched)
            if plan is not None:
                batch.append(plan)
                pending += len(plan.chunks)
            if pending >= BATCH_CHUNKS or len(touched) >= BATCH_CHUNKS:
                self._write(batch, touched, stats)
                batch, pending = [], 0
                if progress is not None:
                    progress(done, total, rel)
        if batch or touched:
            self._write(batch, touched, stats)
        if progress is not None and not stats.cancelled:
            progress(total, total, "done")

    def _plan(self, rel: str, path: Path, state: FileState | None, stats: SyncStats,
              touched: list[FileState]) -> _Plan | None:
        """The new chunks of a file, or None when its content did not change (only its mtime)."""
        try:
            info = path.stat()
        except OSError as exc:
            return self._skip(rel, f"unreadable: {exc.strerror or exc}", 0, 0, stats)
        try:
            text = read_source(path, self.max_file_bytes)
        except SourceError as exc:
            return self._skip(rel, str(exc), info.st_size, info.st_mtime_ns, stats)
        data = text.encode("utf-8", "surrogatepass")
        too_large = over_budget(data)
        if too_large:
            return self._skip(rel, too_large, info.st_size, info.st_mtime_ns, stats)
        file_hash = _hash(data)
        if state is not None and state.file_hash == file_hash and not state.skipped:
            touched.append(FileState(rel, file_hash, info.st_size, info.st_mtime_ns, state.chunks))
            return None
        try:
            chunks = chunk_source(rel, data)
        except Exception:  # a file never stops indexing
            log.exception("chunking %s failed", rel)
            chunks = []
        stats.changed += 1
        return _Plan(FileState(rel, file_hash, info.st_size, info.st_mtime_ns, len(chunks)), chunks)

    @staticmethod
    def _skip(rel: str, reason: str, size: int, mtime_ns: int, stats: SyncStats) -> _Plan:
        """A file that is not indexed: its old chunks go, the reason is logged and remembered."""
        log.info("not indexing %s: %s", rel, reason)
        stats.skipped += 1
        stats.skipped_reasons.append((rel, reason))
        return _Plan(FileState(rel, "", size, mtime_ns, 0, reason), [])

    def _write(self, batch: list[_Plan], touched: list[FileState], stats: SyncStats) -> None:
        """Diff the batch against the stored ids, embed what is new, write it all."""
        existing = self.store.chunk_ids([plan.state.path for plan in batch]) if batch else {}
        add: list[Chunk] = []
        delete: list[str] = []
        for plan in batch:
            new_ids = {chunk.id: chunk for chunk in plan.chunks}
            old_ids = existing.get(plan.state.path, set())
            add.extend(chunk for chunk_id, chunk in new_ids.items() if chunk_id not in old_ids)
            delete.extend(sorted(old_ids - set(new_ids)))
        hashes = list(dict.fromkeys(chunk.content_hash for chunk in add))
        vectors = self.store.cached_vectors(hashes) if hashes else {}
        stats.reused += sum(1 for chunk in add if chunk.content_hash in vectors)
        missing = [key for key in hashes if key not in vectors]
        new_vectors: dict[str, np.ndarray] = {}
        if missing:
            texts = {chunk.content_hash: chunk.embedding_text for chunk in add}
            matrix = self.embedder.embed([texts[key] for key in missing])
            new_vectors = dict(zip(missing, matrix, strict=True))
            vectors.update(new_vectors)
            stats.embedded += len(missing)
        self.store.write([*(plan.state for plan in batch), *touched], add, vectors, delete, new_vectors)
        stats.chunks_added += len(add)
        stats.chunks_removed += len(delete)
        touched.clear()

    def rebuild(self, progress: Progress | None = None, cancel: threading.Event | None = None) -> SyncStats:
        """Drop everything (the embedding cache too) and index from scratch."""
        with self._lock:
            self.open()
            self.store.rebuild()
            return self._sync(progress, cancel)

    def _source_lines(self, rel: str, first: int, last: int) -> str | None:
        """Lines first..last of the file, if the file is unchanged since it was indexed."""
        try:
            text = read_source(self.root / rel, self.max_file_bytes)
        except SourceError:
            return None
        state = self.store.file_states([rel]).get(rel)
        if state is None or _hash(text.encode("utf-8", "surrogatepass")) != state.file_hash:
            return None
        return "\n".join(text.split("\n")[first - 1 : last])

    def stats(self) -> dict[str, int]:
        """Row counts and size on disk."""
        self.open()
        return {"files": self.store.count("files"), "chunks": self.store.count("chunks"),
                "embeddings": self.store.count("embeddings"), "bytes": self.store.size_bytes()}


def _hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


__all__ = ["BATCH_CHUNKS", "INDEX_MAX_FILE_BYTES", "CodeIndex", "Definition", "Progress", "SyncStats"]

"""The fix journal `.coderev/history.jsonl`: append-only, one fsynced line per fix or undo, torn lines skipped.

Each line records the time, the file (relative to the workspace), class, rule, the document version, SHA-256
hashes of the text before and after, and the edits with the text they replaced, which is what undo needs.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ai_core.findings import Finding, Fix, TextEdit
from ai_core.fixes.text import apply_edits, sha256_text, sorted_edits

log = logging.getLogger(__name__)

JOURNAL_DIR = ".coderev"
JOURNAL_NAME = "history.jsonl"


class OutsideWorkspace(ValueError):
    """A path that is not inside the workspace root."""


class UndoRefused(Exception):
    """An undo that cannot be applied; the message says why."""


class NothingToUndo(UndoRefused):
    """An undo asked for a fix the journal does not have (or every fix was undone)."""


def inside(root: Path, path: str | Path) -> Path:
    """`path` resolved (symlinks too) and checked to lie inside `root`; raise OutsideWorkspace otherwise."""
    base = root.resolve()
    candidate = Path(path)
    resolved = (candidate if candidate.is_absolute() else base / candidate).resolve()
    if not resolved.is_relative_to(base):
        raise OutsideWorkspace(f"{path} is outside the workspace {base}")
    return resolved


@dataclass(frozen=True)
class Change:
    """One file's part of a journal entry: hashes before/after and the edits with the text they replaced."""

    file: str
    before: str
    after: str
    edits: tuple[TextEdit, ...]
    old_texts: tuple[str, ...]
    version: int | None = None

    def inverse(self) -> list[TextEdit]:
        """Edits on the patched text that restore the original."""
        inverse: list[TextEdit] = []
        delta = 0
        for edit, old in zip(self.edits, self.old_texts, strict=True):
            new_len = len(edit.new_text.encode("utf-8", errors="surrogatepass"))
            start = edit.start_byte + delta
            inverse.append(TextEdit(start, start + new_len, old))
            delta += new_len - (edit.end_byte - edit.start_byte)
        return inverse

    def to_json(self) -> dict[str, Any]:
        """The JSON object written for this file."""
        return {
            "file": self.file, "version": self.version, "before": self.before, "after": self.after,
            "edits": [{"start": e.start_byte, "end": e.end_byte, "new": e.new_text, "old": old}
                      for e, old in zip(self.edits, self.old_texts, strict=True)],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Change:
        """Read a file change back."""
        edits = tuple(TextEdit(int(e["start"]), int(e["end"]), str(e["new"])) for e in data["edits"])
        version = data.get("version")
        return cls(str(data["file"]), str(data["before"]), str(data["after"]), edits,
                   tuple(str(e["old"]) for e in data["edits"]), int(version) if version is not None else None)

    @classmethod
    def of(cls, file: str, before_text: str, edits: tuple[TextEdit, ...], version: int | None = None) -> Change:
        """A change computed from the original text and edits (offsets into that text)."""
        ordered = tuple(sorted_edits(edits))
        data = before_text.encode("utf-8", errors="surrogatepass")
        old_texts = tuple(data[e.start_byte:e.end_byte].decode("utf-8", errors="surrogatepass") for e in ordered)
        after_text = apply_edits(before_text, ordered)
        return cls(file, sha256_text(before_text), sha256_text(after_text), ordered, old_texts, version)


@dataclass(frozen=True)
class Entry:
    """One line of the journal: a fix (possibly touching several files) or the undo of one."""

    id: str
    kind: str
    time: str
    vuln_class: str
    rule: str
    title: str
    changes: tuple[Change, ...]
    source: str = ""
    undoes: str = ""
    fingerprint: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def file(self) -> str:
        """The main file of the entry."""
        return self.changes[0].file if self.changes else ""

    def to_json(self) -> dict[str, Any]:
        """The JSON object of this line (the main file's fields at top level)."""
        main = self.changes[0].to_json() if self.changes else {}
        record: dict[str, Any] = {
            "id": self.id, "kind": self.kind, "time": self.time, "class": self.vuln_class, "rule": self.rule,
            "title": self.title, **main,
            "extra_files": [c.to_json() for c in self.changes[1:]],
            "source": self.source, "fingerprint": self.fingerprint,
        }
        if self.undoes:
            record["undoes"] = self.undoes
        if self.extra:
            record["extra"] = self.extra
        return record

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Entry:
        """Read an entry back; raises KeyError/ValueError/TypeError on malformed data."""
        changes = [Change.from_json(data)] + [Change.from_json(c) for c in data.get("extra_files", [])]
        return cls(str(data["id"]), str(data["kind"]), str(data["time"]), str(data.get("class", "")),
                   str(data.get("rule", "")), str(data.get("title", "")), tuple(changes),
                   str(data.get("source", "")), str(data.get("undoes", "")), str(data.get("fingerprint", "")),
                   dict(data.get("extra", {})))


def new_id() -> str:
    """A sortable unique id: milliseconds since the epoch, then random hex."""
    return f"{int(time.time() * 1000):x}-{secrets.token_hex(3)}"


def now() -> str:
    """The current UTC time, ISO 8601."""
    return datetime.now(UTC).isoformat(timespec="seconds")


class Journal:
    """The append-only fix journal of one workspace."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.path = self.root / JOURNAL_DIR / JOURNAL_NAME

    def relative(self, path: str | Path) -> str:
        """`path` relative to the workspace with forward slashes; raise OutsideWorkspace when outside."""
        return inside(self.root, path).relative_to(self.root).as_posix()

    def append(self, entry: Entry) -> None:
        """Write one line atomically (O_APPEND, one write, fsync), repairing a torn last line first."""
        line = json.dumps(entry.to_json(), ensure_ascii=False, separators=(",", ":")) + "\n"
        payload = line.encode("utf-8", errors="surrogatepass")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            with _locked(fd):
                size = os.fstat(fd).st_size
                if size:
                    with open(self.path, "rb") as handle:
                        handle.seek(size - 1)
                        if handle.read(1) != b"\n":
                            payload = b"\n" + payload  # a crash left half a line: end it, it will be skipped
                written = os.write(fd, payload)
                if written != len(payload):
                    raise OSError(f"short write to {self.path} ({written} of {len(payload)} bytes)")
                os.fsync(fd)
        finally:
            os.close(fd)
        self._fsync_dir()

    def _fsync_dir(self) -> None:
        with contextlib.suppress(OSError):
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)

    def entries(self) -> list[Entry]:
        """Every readable entry in order; torn or malformed lines are skipped with a log line."""
        return list(self._iter())

    def _iter(self) -> Iterator[Entry]:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return
        except OSError as exc:
            log.warning("cannot read the fix journal %s: %s", self.path, exc)
            return
        for number, raw in enumerate(data.split(b"\n"), 1):
            if not raw.strip():
                continue
            try:
                yield Entry.from_json(json.loads(raw.decode("utf-8", errors="surrogatepass")))
            except (ValueError, KeyError, TypeError) as exc:
                log.warning("skipping unreadable line %d of %s (%s)", number, self.path, exc)

    def find(self, entry_id: str) -> Entry | None:
        """The entry with this id (a unique prefix is enough)."""
        matches = [e for e in self.entries() if e.id == entry_id or e.id.startswith(entry_id)]
        exact = [e for e in matches if e.id == entry_id]
        if exact:
            return exact[0]
        return matches[0] if len(matches) == 1 else None

    def undone(self) -> set[str]:
        """Ids of fixes that were undone."""
        return {e.undoes for e in self.entries() if e.kind == "undo" and e.undoes}

    def last_undoable(self) -> Entry | None:
        """The most recent fix that has not been undone."""
        undone = self.undone()
        for entry in reversed(self.entries()):
            if entry.kind == "fix" and entry.id not in undone:
                return entry
        return None

    def record_fix(self, fix: Fix, texts: Mapping[str, str], versions: Mapping[str, int | None] | None = None,
                   source: str = "", finding: Finding | None = None, extra: dict[str, Any] | None = None) -> Entry:
        """Journal an applied fix; `texts` maps each touched path to its text before the fix."""
        versions = versions or {}
        changes = [Change.of(self.relative(fix.path), texts[fix.path], fix.edits, versions.get(fix.path))]
        for path, edits in fix.extra_files:
            changes.append(Change.of(self.relative(path), texts[path], edits, versions.get(path)))
        entry = Entry(new_id(), "fix", now(), fix.vuln_class.value, fix.rule, fix.title, tuple(changes), source,
                      fingerprint=finding.fingerprint if finding is not None else "", extra=extra or {})
        self.append(entry)
        return entry

    def plan_undo(self, entry: Entry, current: Mapping[str, str]) -> dict[str, list[TextEdit]]:
        """Inverse edits per relative file, after checking each file still has the text the fix produced."""
        if entry.kind != "fix":
            raise UndoRefused(f"{entry.id} is an undo, not a fix")
        if entry.id in self.undone():
            raise UndoRefused(f"fix {entry.id} was already undone")
        plan: dict[str, list[TextEdit]] = {}
        for change in entry.changes:
            text = current.get(change.file)
            if text is None:
                raise UndoRefused(f"{change.file} cannot be read; nothing was undone")
            if sha256_text(text) != change.after:
                raise UndoRefused(f"{change.file} changed since fix {entry.id} ({entry.title}) was applied; "
                                  "undo it by hand or with your editor's history")
            plan[change.file] = change.inverse()
        return plan

    def record_undo(self, entry: Entry, versions: Mapping[str, int | None] | None = None,
                    source: str = "") -> Entry:
        """Journal that `entry` was undone."""
        versions = versions or {}
        changes = tuple(Change(c.file, c.after, c.before, tuple(c.inverse()),
                               tuple(e.new_text for e in c.edits), versions.get(c.file)) for c in entry.changes)
        undo = Entry(new_id(), "undo", now(), entry.vuln_class, entry.rule, f"Undo: {entry.title}", changes,
                     source, undoes=entry.id, fingerprint=entry.fingerprint)
        self.append(undo)
        return undo


@contextlib.contextmanager
def _locked(fd: int) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: O_APPEND single writes are still atomic enough
        yield
        return
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


def write_atomic(path: Path, text: str) -> None:
    """Replace a file's content atomically (temp file in the same folder, fsync, rename), keeping its mode."""
    data = text.encode("utf-8", errors="surrogatepass")
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".coderev-tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise

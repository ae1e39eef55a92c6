"""The fix journal `.coderev/history.jsonl`: append-only and write-ahead, one fsynced line per step, torn lines skipped.

Each line is one entry: the time, the file relative to the workspace, class, rule, document version, SHA-256 of
the text before and after, and the edits with the text they replaced (what undo needs). A fix or undo applied
by coderev is write-ahead: its intent (the same entry) is first written and fsynced as
`.coderev/pending/<id>.json`, then the files are replaced, then the entry is appended here (the commit mark)
and the intent removed; `ai_core.fixes.apply.recover` settles the intents a crash left.
A literal removed by a hardcoded-secret fix is stored masked (its SHA-256 and length), never in clear; such a
fix cannot be undone from the journal. Every write refuses symlinks (`ai_core.safe_write`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import secrets
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ai_core.findings import Finding, Fix, TextEdit
from ai_core.fixes.text import apply_edits, sha256_text, sorted_edits
from ai_core.redact import mask_secret, mask_secrets
from ai_core.safe_write import STATE_DIR, UnsafePath, open_append, open_dir, read_bytes, write_bytes

log = logging.getLogger(__name__)

JOURNAL_DIR = STATE_DIR
JOURNAL_NAME = "history.jsonl"
LOCK_NAME = "lock"
PENDING_DIR = f"{JOURNAL_DIR}/pending"
"""Intents of fixes being applied, one file each, until their entry is in the journal."""
INTENT = "intent"


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
    masked: tuple[int, ...] = ()
    """Indices of the edits whose replaced text had a secret masked out (their undo is impossible)."""

    def inverse(self) -> list[TextEdit]:
        """Edits on the patched text that restore the original (UndoRefused when a secret was masked out)."""
        if self.masked:
            raise UndoRefused(f"the fix removed a hardcoded secret from {self.file}; the journal keeps only its "
                              "SHA-256, so undo cannot put it back: restore it from version control (and rotate it)")
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
            "edits": [{"start": e.start_byte, "end": e.end_byte, "new": e.new_text, "old": old,
                       **({"masked": True} if index in self.masked else {})}
                      for index, (e, old) in enumerate(zip(self.edits, self.old_texts, strict=True))],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Change:
        """Read a file change back."""
        edits = tuple(TextEdit(int(e["start"]), int(e["end"]), str(e["new"])) for e in data["edits"])
        version = data.get("version")
        masked = tuple(i for i, e in enumerate(data["edits"]) if e.get("masked"))
        return cls(str(data["file"]), str(data["before"]), str(data["after"]), edits,
                   tuple(str(e["old"]) for e in data["edits"]), int(version) if version is not None else None,
                   masked)

    @classmethod
    def of(cls, file: str, before_text: str, edits: tuple[TextEdit, ...], version: int | None = None,
           secrets: Sequence[str] = ()) -> Change:
        """A change computed from the original text and edits (offsets into that text); `secrets` are masked."""
        ordered = tuple(sorted_edits(edits))
        data = before_text.encode("utf-8", errors="surrogatepass")
        old_texts = [data[e.start_byte:e.end_byte].decode("utf-8", errors="surrogatepass") for e in ordered]
        masked: list[int] = []
        for index, old in enumerate(old_texts):
            hidden = mask_secrets(old, secrets)
            if hidden != old:
                old_texts[index] = hidden
                masked.append(index)
        after_text = apply_edits(before_text, ordered)
        return cls(file, sha256_text(before_text), sha256_text(after_text), ordered, tuple(old_texts), version,
                   tuple(masked))


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
    state: str = ""
    """"intent" while the entry is only a write-ahead intent (`.coderev/pending/`), "" once journaled."""

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
        if self.state:
            record["state"] = self.state
        return record

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Entry:
        """Read an entry back; raises KeyError/ValueError/TypeError on malformed data."""
        changes = [Change.from_json(data)] + [Change.from_json(c) for c in data.get("extra_files", [])]
        return cls(str(data["id"]), str(data["kind"]), str(data["time"]), str(data.get("class", "")),
                   str(data.get("rule", "")), str(data.get("title", "")), tuple(changes),
                   str(data.get("source", "")), str(data.get("undoes", "")), str(data.get("fingerprint", "")),
                   dict(data.get("extra", {})), str(data.get("state", "")))


def new_id() -> str:
    """A sortable unique id: milliseconds since the epoch, then random hex."""
    return f"{int(time.time() * 1000):x}-{secrets.token_hex(3)}"


def now() -> str:
    """The current UTC time, ISO 8601."""
    return datetime.now(UTC).isoformat(timespec="seconds")


class Journal:
    """The append-only, write-ahead fix journal of one workspace."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.rel_path = f"{JOURNAL_DIR}/{JOURNAL_NAME}"
        self.path = self.root / JOURNAL_DIR / JOURNAL_NAME

    def relative(self, path: str | Path) -> str:
        """`path` relative to the workspace with forward slashes; raise OutsideWorkspace when outside."""
        return inside(self.root, path).relative_to(self.root).as_posix()

    def append(self, entry: Entry) -> None:
        """Write one entry line (complete, or an intent when `entry.state` says so)."""
        self._append_line(entry.to_json())

    def _append_line(self, record: Mapping[str, Any]) -> None:
        """Write one line atomically (O_APPEND, one write, fsync), repairing a torn last line first.

        Refuses a symlinked or special `.coderev/` or journal (UnsafePath); any OSError reaches the caller.
        """
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
        payload = line.encode("utf-8", errors="surrogatepass")
        fd = open_append(self.root, self.rel_path)
        try:
            with _locked(fd):
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    payload = b"\n" + payload  # a crash left half a line: end it, it will be skipped
                written = os.write(fd, payload)
                if written != len(payload):
                    raise OSError(f"short write to {self.path} ({written} of {len(payload)} bytes)")
                os.fsync(fd)
        finally:
            os.close(fd)
        self._fsync_dir()

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the workspace's apply lock (`.coderev/lock`): one process applies or recovers at a time."""
        fd = open_append(self.root, f"{JOURNAL_DIR}/{LOCK_NAME}")
        try:
            with _locked(fd):
                yield
        finally:
            os.close(fd)

    def _fsync_dir(self) -> None:
        with contextlib.suppress(OSError):
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)

    # -- reading --------------------------------------------------------------------------------------------
    def _records(self) -> Iterator[tuple[int, dict[str, Any]]]:
        try:
            data = read_bytes(self.root, self.rel_path)
        except FileNotFoundError:
            return
        except OSError as exc:  # UnsafePath (a symlink, a FIFO) included
            log.warning("cannot read the fix journal %s: %s", self.path, exc)
            return
        for number, raw in enumerate(data.split(b"\n"), 1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw.decode("utf-8", errors="surrogatepass"))
            except ValueError as exc:
                log.warning("skipping unreadable line %d of %s (%s)", number, self.path, exc)
                continue
            if isinstance(record, dict):
                yield number, record
            else:
                log.warning("skipping unreadable line %d of %s (not an object)", number, self.path)

    def entries(self) -> list[Entry]:
        """Every entry in order; torn or malformed lines are skipped with a log line."""
        entries: list[Entry] = []
        for number, record in self._records():
            try:
                entries.append(Entry.from_json(record))
            except (ValueError, KeyError, TypeError) as exc:
                log.warning("skipping unreadable line %d of %s (%s)", number, self.path, exc)
        return entries

    def pending(self) -> list[Entry]:
        """Intents not journaled yet (a fix or undo interrupted between its intent and its commit), oldest first;
        an intent whose entry is in the journal already (a crash after the commit) is removed."""
        try:
            with open_dir(self.root, PENDING_DIR) as dir_fd:
                names = sorted(n for n in os.listdir(dir_fd) if n.endswith(".json") and not n.startswith("."))
        except (FileNotFoundError, UnsafePath):
            return []
        journaled = {e.id for e in self.entries()}
        found: list[Entry] = []
        for name in names:
            try:
                entry = Entry.from_json(json.loads(read_bytes(self.root, f"{PENDING_DIR}/{name}")))
            except (OSError, ValueError, KeyError, TypeError) as exc:
                log.warning("skipping unreadable intent %s/%s (%s)", PENDING_DIR, name, exc)
                continue
            if entry.id in journaled:
                self._drop_intent(entry.id)
            else:
                found.append(entry)
        return found

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

    # -- writing --------------------------------------------------------------------------------------------
    def fix_entry(self, fix: Fix, texts: Mapping[str, str], versions: Mapping[str, int | None] | None = None,
                  source: str = "", finding: Finding | None = None, extra: dict[str, Any] | None = None,
                  secrets: Sequence[str] = (), state: str = "") -> Entry:
        """The entry of a fix; `texts` maps each touched path to its text before it, `secrets` are masked."""
        versions = versions or {}
        changes = [Change.of(self.relative(fix.path), texts[fix.path], fix.edits, versions.get(fix.path), secrets)]
        for path, edits in fix.extra_files:
            changes.append(Change.of(self.relative(path), texts[path], edits, versions.get(path), secrets))
        return Entry(new_id(), "fix", now(), fix.vuln_class.value, fix.rule, fix.title, tuple(changes), source,
                     fingerprint=finding.fingerprint if finding is not None else "", extra=extra or {}, state=state)

    def record_fix(self, fix: Fix, texts: Mapping[str, str], versions: Mapping[str, int | None] | None = None,
                   source: str = "", finding: Finding | None = None, extra: dict[str, Any] | None = None,
                   secrets: Sequence[str] = ()) -> Entry:
        """Journal a fix already applied (by the editor) as one complete line."""
        entry = self.fix_entry(fix, texts, versions, source, finding, extra, secrets)
        self.append(entry)
        return entry

    def begin_fix(self, fix: Fix, texts: Mapping[str, str], versions: Mapping[str, int | None] | None = None,
                  source: str = "", finding: Finding | None = None, extra: dict[str, Any] | None = None,
                  secrets: Sequence[str] = ()) -> Entry:
        """Write (fsynced) the intent of a fix about to be applied, before any file is touched."""
        entry = self.fix_entry(fix, texts, versions, source, finding, extra, secrets, state=INTENT)
        self._write_intent(entry)
        return entry

    def _write_intent(self, entry: Entry) -> None:
        data = json.dumps(entry.to_json(), ensure_ascii=False, separators=(",", ":")).encode(
            "utf-8", errors="surrogatepass")
        write_bytes(self.root, f"{PENDING_DIR}/{entry.id}.json", data)

    def _drop_intent(self, entry_id: str) -> None:
        try:
            with open_dir(self.root, PENDING_DIR) as dir_fd:
                os.unlink(f"{entry_id}.json", dir_fd=dir_fd)
                os.fsync(dir_fd)
        except FileNotFoundError:
            pass

    def commit(self, entry: Entry) -> Entry:
        """The commit mark of an intent: its entry appended to the journal (every file has its after text)."""
        done = dataclasses.replace(entry, state="")
        self.append(done)
        with contextlib.suppress(OSError):  # a leftover intent of a journaled entry is removed by pending()
            self._drop_intent(entry.id)
        return done

    def rollback(self, entry: Entry, reason: str) -> None:
        """Abandon an intent (no file has its after text): it is removed and never journaled."""
        log.info("fix journal: %s %s rolled back (%s)", entry.kind, entry.id, reason)
        self._drop_intent(entry.id)

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

    def undo_entry(self, entry: Entry, versions: Mapping[str, int | None] | None = None, source: str = "",
                   state: str = "") -> Entry:
        """The entry that says `entry` was undone."""
        versions = versions or {}
        changes = tuple(Change(c.file, c.after, c.before, tuple(c.inverse()),
                               tuple(e.new_text for e in c.edits), versions.get(c.file)) for c in entry.changes)
        return Entry(new_id(), "undo", now(), entry.vuln_class, entry.rule, f"Undo: {entry.title}", changes,
                     source, undoes=entry.id, fingerprint=entry.fingerprint, state=state)

    def record_undo(self, entry: Entry, versions: Mapping[str, int | None] | None = None,
                    source: str = "") -> Entry:
        """Journal that `entry` was undone (by the editor) as one complete line."""
        undo = self.undo_entry(entry, versions, source)
        self.append(undo)
        return undo

    def begin_undo(self, entry: Entry, versions: Mapping[str, int | None] | None = None,
                   source: str = "") -> Entry:
        """Write (fsynced) the intent of undoing `entry`, before any file is touched."""
        undo = self.undo_entry(entry, versions, source, state=INTENT)
        self._write_intent(undo)
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


def write_atomic(path: Path, text: str, root: Path | None = None, moment: str = "") -> None:
    """Replace a file atomically (temp file beside it, fsync, rename), keeping its mode.

    The path must lie inside `root` (default: its own folder) once resolved, and no folder on the way may be a
    symlink (none can be swapped for one meanwhile either).
    """
    base = (root if root is not None else path.parent).resolve()
    rel = inside(base, path).relative_to(base)
    write_bytes(base, rel, text.encode("utf-8", errors="surrogatepass"), moment=moment)


__all__ = ["Change", "Entry", "Journal", "NothingToUndo", "OutsideWorkspace", "UndoRefused", "UnsafePath",
           "inside", "mask_secret", "mask_secrets", "write_atomic"]

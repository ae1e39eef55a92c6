"""The fixing state of one server, without LSP types: Fixers per folder, verified proposals, fixes awaiting record.

The code-action modules (`code_actions`, `code_action_resolve`, `fix_commands`) translate between LSP and
this module; the fix logic itself (fix-all assembly, journaling, undo planning) is `ai_core.fixes.apply`.
A fix is always computed for one document version and refused (ContentModified) once the document moved on.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
import time
from collections import OrderedDict
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from pygls.exceptions import JsonRpcContentModified, JsonRpcException, JsonRpcInvalidParams

from ai_core.files import SourceError, read_head
from ai_core.findings import Finding, Fix, TextEdit
from ai_core.fixes import Fixer, Journal, OutsideWorkspace, Proposal, make_fixer, sha256_text, unified_diff
from ai_core.fixes.apply import (
    MAX_FILE_BYTES,
    UndoPlan,
    begin_applied,
    find_fix,
    fix_all_details,
    fix_all_fix,
    plan_undo,
    record_all_accepted,
    record_applied,
    recover,
    stale_files,
)
from ai_core.fixes.explain import explain
from ai_core.fixes.journal import Entry, NothingToUndo, UndoRefused, inside
from ai_core.fixes.suppress import suppression_edit
from ai_core.fixes.testrunner import tests_gate
from ai_core.parsing import ParsedDocument, PositionMap
from ai_core.safe_write import write_text
from ai_core.timing import timed_call
from server.session import CoderevServer, decoded, path_of

log = logging.getLogger(__name__)

FIX_ALL_KIND = "source.fixAll.coderev"
SUPPRESS_KIND = "quickfix.coderev.suppress"
EXPLAIN_KIND = "quickfix.coderev.explain"
APPLY_FIX = "coderev.applyFix"
FIX_ALL = "coderev.fixAll"
UNDO_FIX = "coderev.undoFix"
SHOW_HISTORY = "coderev.showHistory"
EXPLAIN = "coderev.explain"
RECORD_FIX = "coderev.recordFix"
REQUEST_FAILED = -32803  # LSP RequestFailed
APPLIED_WAIT_S = 3.0
CACHE_SIZE = 128


class RequestFailed(JsonRpcException):
    """A request that was understood but cannot be carried out (no verified fix, refused undo)."""

    CODE = REQUEST_FAILED


class UndoNotPossible(RequestFailed):
    """An undo refused because a file changed since the fix (or cannot be read); the user is told why."""


@dataclasses.dataclass(frozen=True)
class EditTarget:
    """One file's part of an edit: its uri, the version it applies to (None: not open), text and edits."""

    path: str
    uri: str
    version: int | None
    text: str
    positions: PositionMap
    edits: tuple[TextEdit, ...]


@dataclasses.dataclass
class AwaitingRecord:
    """A fix handed to the editor, waiting for the command that says it was applied (then journaled)."""

    fix: Fix
    finding: Finding | None
    root: Path
    targets: list[EditTarget]
    after_hash: str
    uri: str
    extra: dict[str, Any]
    accepted: list[Finding]
    others: dict[str, str] = dataclasses.field(default_factory=dict)
    """Other files of the fix: path -> hash of their text after it (checked when they are open)."""

    @property
    def title(self) -> str:
        """The fix's title."""
        return self.fix.title


def action_key(data: dict[str, Any]) -> str:
    """The cache key of a listed action: kind, document version and finding."""
    return f"{data.get('kind')}#{data.get('uri')}#{data.get('version')}#{data.get('fingerprint', '')}#" \
           f"{data.get('start', '')}"


def data_of(raw: Any) -> dict[str, Any]:
    """The data of a code action or a command argument; InvalidParams when it is not an object."""
    if isinstance(raw, dict):
        return raw
    raise JsonRpcInvalidParams("code action data is missing or malformed")


class FixService:
    """Fixers per folder, verified proposals per listed action, fixes awaiting the editor's confirmation."""

    def __init__(self, server: CoderevServer) -> None:
        self.server = server
        self._fixers: dict[tuple[int, str], Fixer] = {}
        self.proposals: OrderedDict[str, Proposal] = OrderedDict()
        self.awaiting: OrderedDict[str, AwaitingRecord] = OrderedDict()
        self.inflight: dict[str, Future[Proposal]] = {}

    # -- fixers and proposals ------------------------------------------------------------------------------
    def root_for(self, path: str) -> Path:
        """The workspace folder of a file."""
        return self.server.folder_for(path).root

    def root_from(self, options: dict[str, Any]) -> Path:
        """The folder of the `uri` in a command's options, else the first workspace folder.

        The uri must resolve (`..` and symlinks too) inside one of the client's workspace folders, or be an open
        document; RequestFailed otherwise, so that a journal outside the workspace is never used.
        """
        uri = options.get("uri")
        if isinstance(uri, str) and uri:
            path = path_of(uri)
            root = self.root_for(path)
            try:
                inside(root, path)
            except OutsideWorkspace as exc:
                raise RequestFailed(str(exc)) from exc
            client_roots = {Path(p).resolve() for p in self.server.folder_uris().values()}
            if client_roots and root.resolve() not in client_roots and self.server.documents.find(path) is None:
                raise RequestFailed(f"{path} is not in a workspace folder")
            return root
        if self.server.folders:
            return next(iter(self.server.folders.values())).root
        raise RequestFailed("no workspace folder: pass the uri of a file")

    def fixer_for(self, path: str) -> Fixer:
        """The Fixer of the folder of `path` (rebuilt when its settings or analyzer change)."""
        folder = self.server.folder_for(path)
        analyzer = self.server.analyzer_of(folder)
        key = (id(analyzer), str(folder.root))
        fixer = self._fixers.get(key)
        if fixer is None:
            fixer = make_fixer(folder.root, analyzer.settings, analyzer, overlay=self.server.text_of)
            self._fixers = {k: v for k, v in self._fixers.items() if k[1] != str(folder.root)}
            self._fixers[key] = fixer
        return fixer

    def prefetch(self, key: str, fixer: Fixer, doc: ParsedDocument, finding: Finding) -> None:
        """Start verifying a listed fix in the background, so that resolving it is quick."""
        if key in self.proposals or key in self.inflight:
            return
        snapshot = doc.snapshot()
        loop = asyncio.get_running_loop()
        future = self.server.executor.submit(timed_call, self.server.stage_observer, "fixes", fixer.propose, snapshot,
                                             finding)
        self.inflight[key] = future

        def finish(f: Future[Proposal]) -> None:  # on the event loop: the caches are not thread-safe
            self.inflight.pop(key, None)
            if not f.cancelled() and f.exception() is None:
                self.remember(key, f.result())

        future.add_done_callback(lambda f: loop.call_soon_threadsafe(finish, f))

    def remember(self, key: str, proposal: Proposal) -> None:
        """Cache a proposal for a listed action (bounded)."""
        self.proposals[key] = proposal
        self.proposals.move_to_end(key)
        while len(self.proposals) > CACHE_SIZE:
            self.proposals.popitem(last=False)

    def hold(self, key: str, awaiting: AwaitingRecord) -> None:
        """Keep a fix until the editor reports it applied (bounded)."""
        self.awaiting[key] = awaiting
        while len(self.awaiting) > CACHE_SIZE:
            self.awaiting.popitem(last=False)

    def release(self, awaiting: AwaitingRecord) -> None:
        """Stop waiting for the record of a fix (it was applied by the server itself, or refused)."""
        for key, held in list(self.awaiting.items()):
            if held is awaiting:
                self.awaiting.pop(key, None)

    # -- the document and finding an action refers to ------------------------------------------------------
    def current(self, data: dict[str, Any]) -> ParsedDocument:
        """The open document the data refers to, at the version it was computed for; ContentModified otherwise."""
        uri = str(data.get("uri", ""))
        doc = self.server.documents.get(uri)
        if doc is None:
            raise JsonRpcContentModified(f"{uri} is no longer open")
        version = data.get("version")
        if version != doc.version:
            raise JsonRpcContentModified(
                f"the document changed since this fix was computed (version {version}, now {doc.version}); "
                "ask for code actions again")
        return doc

    def finding_of(self, data: dict[str, Any]) -> Finding:
        """The finding the data names, in the current analysis; ContentModified when it is gone or out of date."""
        uri = str(data["uri"])
        result = self.server.results.get(uri)
        doc = self.server.documents.get(uri)
        if result is None or doc is None or result.version != doc.version:
            raise JsonRpcContentModified("the analysis of this document is out of date; ask for code actions again")
        for finding in result.findings:
            if finding.fingerprint == data.get("fingerprint") and finding.span.start_byte == data.get("start"):
                return finding
        raise JsonRpcContentModified("the finding is no longer reported")

    def target(self, path: str, edits: tuple[TextEdit, ...] = ()) -> EditTarget:
        """A file as the editor has it (the open document) or as the disk has it (version None)."""
        uri = self.server.uri_of(path)
        doc = self.server.documents.find(path)
        if doc is not None:
            return EditTarget(path, uri, doc.version, decoded(doc), doc.positions, edits)
        try:
            data = read_head(Path(path), MAX_FILE_BYTES + 1)  # a FIFO or a device is refused, never read
        except SourceError as exc:
            raise RequestFailed(f"cannot read {path}: {exc}") from exc
        if len(data) > MAX_FILE_BYTES:
            raise RequestFailed(f"cannot read {path}: larger than {MAX_FILE_BYTES} bytes")
        return EditTarget(path, uri, None, data.decode("utf-8", errors="surrogatepass"), PositionMap(data), edits)

    def read_text(self, path: str) -> str | None:
        """A file's current text (editor or disk), None when unreadable."""
        try:
            return self.target(path).text
        except RequestFailed:
            return None

    def edit_targets(self, root: Path, doc: ParsedDocument, uri: str, edits: tuple[TextEdit, ...],
                     extra_files: tuple[tuple[str, tuple[TextEdit, ...]], ...] = ()) -> list[EditTarget]:
        """The files a fix edits, each at its current version; refuses paths outside the workspace."""
        main_path = path_of(uri)
        try:
            inside(root, main_path)
        except OutsideWorkspace as exc:
            raise RequestFailed(str(exc)) from exc
        targets = [EditTarget(main_path, uri, doc.version, decoded(doc), doc.positions, tuple(edits))]
        for path, file_edits in extra_files:
            try:
                inside(root, path)
            except OutsideWorkspace as exc:
                raise RequestFailed(f"refusing a fix that edits a file outside the workspace: {exc}") from exc
            targets.append(self.target(path, tuple(file_edits)))
        return targets

    def check_unchanged(self, expected: dict[str, str]) -> None:
        """Other files of a fix must still have the text the fix was computed from."""
        for path in stale_files(expected, self.read_text):
            raise JsonRpcContentModified(f"{Path(path).name} changed since this fix was computed; "
                                         "ask for code actions again")

    # -- verified fixes -------------------------------------------------------------------------------------
    async def verified_fix(self, data: dict[str, Any]) -> AwaitingRecord:
        """The verified fix of one finding at the listed version (computed now unless prefetched)."""
        doc = self.current(data)
        finding = self.finding_of(data)
        uri = str(data["uri"])
        key = action_key({**data, "kind": "fix"})
        proposal = self.proposals.get(key)
        if proposal is None and key in self.inflight:
            proposal = await asyncio.wrap_future(self.inflight[key])
        if proposal is None:
            fixer = self.fixer_for(path_of(uri))
            loop = asyncio.get_running_loop()
            proposal = await loop.run_in_executor(self.server.executor, timed_call, self.server.stage_observer, "fixes",
                                                  fixer.propose, doc.snapshot(), finding)
            self.remember(key, proposal)
        if proposal.fix is None:
            raise RequestFailed(f"no verified fix for {finding.rule}: {proposal.reason}")
        doc = self.current(data)  # the document may have changed while the fix was verified
        self.check_unchanged({p: before for p, before, _after in proposal.files})
        root = self.root_for(path_of(uri))
        targets = self.edit_targets(root, doc, uri, proposal.fix.edits, proposal.fix.extra_files)
        await self.check_tests(root, path_of(uri), {path_of(uri): proposal.after,
                                                    **{p: after for p, _before, after in proposal.files}})
        awaiting = AwaitingRecord(proposal.fix, finding, root, targets, sha256_text(proposal.after), uri,
                                  {"source": proposal.source}, [finding],
                                  {p: sha256_text(after) for p, _before, after in proposal.files})
        self.hold(key, awaiting)
        return awaiting

    async def verified_fix_all(self, data: dict[str, Any]) -> AwaitingRecord:
        """Every verified fix of a document at the listed version, as one fix."""
        doc = self.current(data)
        uri = str(data["uri"])
        path = path_of(uri)
        fixer = self.fixer_for(path)
        result = self.server.results.get(uri)
        findings = result.findings if result is not None and result.version == doc.version else None
        snapshot = doc.snapshot()
        loop = asyncio.get_running_loop()
        outcome = await loop.run_in_executor(self.server.executor, lambda: fixer.fix_all(snapshot, findings))
        if not outcome.fixed:
            reasons = "; ".join(f"{p.finding.rule}: {p.reason}" for p in outcome.skipped[:3])
            raise RequestFailed(f"no verified fix in this file{': ' + reasons if reasons else ''}")
        doc = self.current(data)
        self.check_unchanged({p: before for p, (before, _after) in outcome.others.items()})
        fix = fix_all_fix(outcome, path)
        root = self.root_for(path)
        targets = self.edit_targets(root, doc, uri, fix.edits, fix.extra_files)
        await self.check_tests(root, path, {path: outcome.after, **{p: a for p, (_b, a) in outcome.others.items()}})
        awaiting = AwaitingRecord(fix, None, root, targets, sha256_text(outcome.after), uri,
                                  fix_all_details(outcome), [p.finding for p in outcome.fixed],
                                  {p: sha256_text(after) for p, (_before, after) in outcome.others.items()})
        self.hold(action_key(data), awaiting)
        return awaiting

    async def check_tests(self, root: Path, path: str, texts: dict[str, str]) -> None:
        """Run the workspace's tests with a chosen fix's texts when the user turned that on (never while listing);
        RequestFailed when they fail with the fix and passed without it."""
        check = tests_gate(root, self.server.settings_for(path))
        if check is None:
            return
        try:
            overrides = {inside(root, p).relative_to(root.resolve()).as_posix(): text for p, text in texts.items()}
        except OutsideWorkspace as exc:
            raise RequestFailed(str(exc)) from exc
        loop = asyncio.get_running_loop()
        refused = await loop.run_in_executor(self.server.executor, check, overrides)
        if refused:
            raise RequestFailed(refused)

    def suppression(self, data: dict[str, Any]) -> list[EditTarget]:
        """The edit that adds a suppression comment for a finding."""
        doc = self.current(data)
        edit = suppression_edit(doc, self.finding_of(data))
        if edit is None:
            raise RequestFailed("no line of this finding can take a comment (it ends inside a string)")
        uri = str(data["uri"])
        return self.edit_targets(self.root_for(path_of(uri)), doc, uri, (edit,))

    # -- journal ------------------------------------------------------------------------------------------
    def journal(self, awaiting: AwaitingRecord) -> Entry:
        """Journal a fix the editor applied (and record its findings as accepted)."""
        return record_applied(Journal(awaiting.root), awaiting.fix, {t.path: t.text for t in awaiting.targets},
                              {t.path: t.version for t in awaiting.targets}, source="lsp",
                              finding=awaiting.finding, extra=awaiting.extra, accepted=awaiting.accepted)

    def begin(self, awaiting: AwaitingRecord) -> Entry:
        """Write the journal intent of a fix about to be sent to the editor (RequestFailed when it cannot be)."""
        try:
            return begin_applied(Journal(awaiting.root), awaiting.fix, {t.path: t.text for t in awaiting.targets},
                                 {t.path: t.version for t in awaiting.targets}, source="lsp",
                                 finding=awaiting.finding, extra=awaiting.extra, accepted=awaiting.accepted)
        except OSError as exc:
            raise RequestFailed(f"cannot write the fix journal, nothing applied: {exc}") from exc

    def finish(self, awaiting: AwaitingRecord, entry: Entry, applied: bool, reason: str = "") -> None:
        """Close the intent of a fix: committed (and its findings recorded as accepted) or rolled back."""
        journal = Journal(awaiting.root)
        try:
            if applied:
                journal.commit(entry)
                record_all_accepted(awaiting.root, awaiting.accepted)
            else:
                journal.rollback(entry, reason)
        except OSError:
            log.exception("cannot close journal entry %s; the next start's recovery will", entry.id)

    async def record(self, key: str) -> dict[str, Any]:
        """Journal a fix once the editor has its text (the editor's didChange may trail the command)."""
        awaiting = self.awaiting.pop(key, None)
        if awaiting is None:
            return {"recorded": False, "reason": "unknown or already recorded fix"}
        if not await self._has_text(awaiting.uri, awaiting.after_hash) or any(
                doc is not None and sha256_text(doc.data) != expected
                for doc, expected in ((self.server.documents.find(p), h) for p, h in awaiting.others.items())):
            log.info("fix %s was not applied as computed; not journaled", awaiting.title)
            return {"recorded": False, "reason": "the document does not have the fixed text"}
        entry = self.journal(awaiting)
        return {"recorded": True, "id": entry.id}

    async def _has_text(self, uri: str, expected_hash: str) -> bool:
        deadline = time.monotonic() + APPLIED_WAIT_S
        while True:
            doc = await self.server.documents.current(uri)
            if doc is not None and sha256_text(doc.data) == expected_hash:
                return True
            if doc is None or time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.05)

    def undo_plan(self, options: dict[str, Any]) -> tuple[Journal, UndoPlan, list[EditTarget]]:
        """The inverse edits of a journaled fix (the last by default) on the files as the editor has them."""
        root = self.root_from(options)
        journal = Journal(root)
        recover(journal)  # a fix a crash interrupted is settled before anything is undone
        entry_id = options.get("id")
        try:
            plan = plan_undo(journal, find_fix(journal, str(entry_id) if entry_id else None),
                             lambda rel: self.read_text(str(root / rel)))
        except NothingToUndo as exc:
            raise RequestFailed(str(exc)) from exc
        except UndoRefused as exc:
            raise UndoNotPossible(str(exc)) from exc
        targets = [self.target(str(root / rel), tuple(edits)) for rel, edits in plan.edits.items()]
        return journal, plan, targets

    def history(self, options: dict[str, Any]) -> dict[str, Any]:
        """The journal of a folder, oldest first."""
        root = self.root_from(options)
        journal = Journal(root)
        recover(journal)
        undone = journal.undone()
        entries = [{"id": e.id, "kind": e.kind, "time": e.time, "class": e.vuln_class, "rule": e.rule,
                    "title": e.title, "file": e.file, "version": e.changes[0].version if e.changes else None,
                    "undone": e.id in undone, "undoes": e.undoes or None} for e in journal.entries()]
        return {"root": str(root), "journal": str(journal.path), "entries": entries}

    async def explanation(self, data: dict[str, Any]) -> tuple[Finding, Path, str]:
        """The markdown explanation of a finding (with its verified fix's diff when one was computed)."""
        doc = self.current(data)
        finding = self.finding_of(data)
        proposal = self.proposals.get(action_key({**data, "kind": "fix"}))
        path = path_of(str(data["uri"]))
        settings = self.server.settings_for(path)
        diff = ""
        if proposal is not None and proposal.fix is not None:
            diff = unified_diff(decoded(doc), proposal.after, Path(path).name)
        title = proposal.fix.title if proposal is not None and proposal.fix is not None else ""
        note = proposal.note if proposal is not None else ""
        loop = asyncio.get_running_loop()
        markdown = await loop.run_in_executor(
            self.server.executor, lambda: explain(finding, title, diff, note, use_embeddings=settings.index_enabled))
        return finding, self.root_for(path), markdown


def close_entry(journal: Journal, entry: Entry, applied: bool, reason: str = "") -> None:
    """Commit (applied) or roll back a journal entry; a failure is left to the next start's recovery."""
    try:
        if applied:
            journal.commit(entry)
        else:
            journal.rollback(entry, reason)
    except OSError:
        log.exception("cannot close journal entry %s; the next start's recovery will", entry.id)


def write_explanation(root: Path, finding: Finding, markdown: str) -> Path | None:
    """Write a finding's explanation to `.coderev/explain/` (no symlink followed); None when it cannot be written."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", finding.fingerprint).lstrip(".") or "finding"
    rel = f".coderev/explain/{name}.md"
    try:
        write_text(root, rel, markdown)  # refuses a symlinked .coderev, explain/ or file
    except OSError as exc:
        log.warning("cannot write the explanation: %s", exc)
        return None
    return root / rel


def recover_folders(ls: CoderevServer) -> None:
    """Finish or roll back the fixes a crash interrupted, in every workspace folder (off the event loop)."""
    for state in list(ls.folders.values()):
        try:
            recover(Journal(state.root))
        except Exception:
            log.exception("journal recovery in %s failed", state.root)

"""Code actions and commands: verified quick fixes, fix all, suppress, explain, and apply/undo with the journal.

Listing (`textDocument/codeAction`) only runs the rewriters' tree-sitter matching; the fix itself is computed and
verified in `codeAction/resolve` (or in `coderev.applyFix` for clients without resolve support and for fixes that
touch several files). Every edit is a `TextDocumentEdit` for the exact document version the fix was computed for,
and the server refuses to resolve or apply a fix listed for an older version. A command attached to each fix
journals it in `.coderev/history.jsonl` once the editor applied it; `coderev.undoFix` reverts a journaled fix
when the file still has the text the fix produced.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import time
from collections import OrderedDict
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcContentModified, JsonRpcException, JsonRpcInvalidParams
from pygls.uris import from_fs_path

from ai_core.findings import Finding, Fix, TextEdit
from ai_core.fixes import Fixer, Journal, OutsideWorkspace, Proposal, UndoRefused, sha256_text, unified_diff
from ai_core.fixes.explain import explain
from ai_core.fixes.generative import from_settings as generative_from_settings
from ai_core.fixes.journal import Entry, inside
from ai_core.fixes.suppress import suppression_edit
from ai_core.fixes.text import apply_edits, diff_edits
from ai_core.fixes.verify import TestRunner, Verifier
from ai_core.parsing import ParsedDocument, PositionMap
from ai_core.timing import timed_call
from server.app import CoderevServer
from server.convert import SOURCE, byte_range
from server.diagnostics import analyse_document, path_of

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


@dataclasses.dataclass
class Pending:
    """A fix handed to the editor, waiting for the command that says it was applied."""

    fix: Fix
    finding: Finding | None
    root: Path
    texts: dict[str, str]
    versions: dict[str, int | None]
    after_hash: str
    uri: str
    title: str
    extra: dict[str, Any]
    others: dict[str, str] = dataclasses.field(default_factory=dict)
    """Other files of the fix: path -> hash of their text after it (checked when they are open)."""


class FixService:
    """The fixing state of one server: Fixers per folder, verified proposals, fixes awaiting their journal entry."""

    def __init__(self, server: CoderevServer) -> None:
        self.server = server
        self._fixers: dict[tuple[int, str], Fixer] = {}
        self.proposals: OrderedDict[str, Proposal] = OrderedDict()
        self.pending: OrderedDict[str, Pending] = OrderedDict()
        self.inflight: dict[str, Future[Proposal]] = {}

    def root_for(self, path: str) -> Path:
        """The workspace folder of a file."""
        return self.server.folder_for(path).root

    def fixer_for(self, path: str) -> Fixer:
        """The Fixer of the folder of `path` (rebuilt when its settings or analyzer change)."""
        analyzer = self.server.analyzer_for(path)
        root = self.root_for(path)
        key = (id(analyzer), str(root))
        fixer = self._fixers.get(key)
        if fixer is None:
            settings = analyzer.settings
            tests = TestRunner(root, settings.test_timeout_s) if settings.run_tests_on_fix else None
            fixer = Fixer(analyzer, root, verifier=Verifier(analyzer, root, tests=tests),
                          generator=generative_from_settings(settings, root), overlay=self.open_text)
            self._fixers = {k: v for k, v in self._fixers.items() if k[1] != str(root)}
            self._fixers[key] = fixer
        return fixer

    def open_text(self, path: str) -> str | None:
        """The editor's text of an open file (the fixer reads other files through this)."""
        _uri, doc = _open_doc(self.server, path)
        return doc.data.decode("utf-8", errors="surrogatepass") if doc is not None else None

    def prefetch(self, key: str, fixer: Fixer, doc: ParsedDocument, finding: Finding) -> None:
        """Start verifying a listed fix in the background, so that resolving it is quick."""
        if key in self.proposals or key in self.inflight:
            return
        snapshot = doc.snapshot()

        def work() -> Proposal:
            return timed_call(self.server.stage_observer, "fixes", fixer.propose, snapshot, finding)

        loop = asyncio.get_running_loop()
        future = self.server.executor.submit(work)
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

    def hold(self, key: str, pending: Pending) -> None:
        """Keep a fix until the editor reports it applied (bounded)."""
        self.pending[key] = pending
        while len(self.pending) > CACHE_SIZE:
            self.pending.popitem(last=False)


def _action_key(data: dict[str, Any]) -> str:
    return f"{data.get('kind')}#{data.get('uri')}#{data.get('version')}#{data.get('fingerprint', '')}#" \
           f"{data.get('start', '')}"


def _data_of(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    raise JsonRpcInvalidParams("code action data is missing or malformed")


def _current(server: CoderevServer, data: dict[str, Any]) -> ParsedDocument:
    """The open document the data refers to, at the version it was computed for; ContentModified otherwise."""
    uri = str(data.get("uri", ""))
    doc = server.documents.get(uri)
    if doc is None:
        raise JsonRpcContentModified(f"{uri} is no longer open")
    version = data.get("version")
    if version != doc.version:
        raise JsonRpcContentModified(
            f"the document changed since this fix was computed (version {version}, now {doc.version}); "
            "ask for code actions again")
    return doc


def _finding_of(server: CoderevServer, data: dict[str, Any]) -> Finding:
    uri = str(data["uri"])
    result = server.results.get(uri)
    doc = server.documents.get(uri)
    if result is None or doc is None or result.version != doc.version:
        raise JsonRpcContentModified("the analysis of this document is out of date; ask for code actions again")
    for finding in result.findings:
        if finding.fingerprint == data.get("fingerprint") and finding.span.start_byte == data.get("start"):
            return finding
    raise JsonRpcContentModified("the finding is no longer reported")


def _lsp_edits(edits: tuple[TextEdit, ...] | list[TextEdit], positions: PositionMap,
               server: CoderevServer) -> list[types.TextEdit | types.AnnotatedTextEdit | types.SnippetTextEdit]:
    encoding = server.encoding
    return [types.TextEdit(range=byte_range(e.start_byte, e.end_byte, positions, encoding), new_text=e.new_text)
            for e in edits]


def _open_doc(server: CoderevServer, path: str) -> tuple[str, ParsedDocument | None]:
    uri = from_fs_path(path) or path
    for open_uri, doc in server.documents.items():
        if open_uri == uri or path_of(open_uri) == path:
            return open_uri, doc
    return uri, None


def _text_and_version(server: CoderevServer, path: str) -> tuple[str, str, int | None]:
    """uri, text and version of a file: the editor's copy when open, else the disk's (version None)."""
    uri, doc = _open_doc(server, path)
    if doc is not None:
        return uri, doc.data.decode("utf-8", errors="surrogatepass"), doc.version
    try:
        return uri, Path(path).read_bytes().decode("utf-8", errors="surrogatepass"), None
    except OSError as exc:
        raise RequestFailed(f"cannot read {path}: {exc.strerror or exc}") from exc


def workspace_edit(server: CoderevServer, root: Path, main: ParsedDocument, uri: str, edits: tuple[TextEdit, ...],
                   extra_files: tuple[tuple[str, tuple[TextEdit, ...]], ...] = ()
                   ) -> tuple[types.WorkspaceEdit, dict[str, str], dict[str, int | None]]:
    """A versioned WorkspaceEdit for a fix, with the texts and versions it applies to; refuses paths outside root."""
    main_path = path_of(uri)
    try:
        inside(root, main_path)
    except OutsideWorkspace as exc:
        raise RequestFailed(str(exc)) from exc
    changes: list[types.TextDocumentEdit | types.CreateFile | types.RenameFile | types.DeleteFile] = [
        types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=main.version),
            edits=_lsp_edits(edits, main.positions, server))]
    texts = {main_path: main.data.decode("utf-8", errors="surrogatepass")}
    versions: dict[str, int | None] = {main_path: main.version}
    for path, file_edits in extra_files:
        try:
            inside(root, path)
        except OutsideWorkspace as exc:
            raise RequestFailed(f"refusing a fix that edits a file outside the workspace: {exc}") from exc
        extra_uri, text, version = _text_and_version(server, path)
        positions = PositionMap(text.encode("utf-8", errors="surrogatepass"))
        changes.append(types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(uri=extra_uri, version=version),
            edits=_lsp_edits(file_edits, positions, server)))
        texts[path] = text
        versions[path] = version
    return types.WorkspaceEdit(document_changes=changes), texts, versions


def _record_feedback(root: Path, finding: Finding | None) -> None:
    if finding is None:
        return
    try:
        from ai_core.model.feedback import record_feedback
    except ImportError:
        return
    try:
        record_feedback(root, "accepted", finding)
    except Exception:
        log.exception("recording feedback for %s failed", finding.rule)


def _journal(pending: Pending, source: str) -> Entry:
    journal = Journal(pending.root)
    entry = journal.record_fix(pending.fix, pending.texts, pending.versions, source=source,
                               finding=pending.finding, extra=pending.extra)
    _record_feedback(pending.root, pending.finding)
    log.info("journaled fix %s (%s) in %s", entry.id, pending.title, journal.path)
    return entry


async def _wait_for_text(server: CoderevServer, uri: str, expected_hash: str) -> bool:
    """True once the open document has the expected text (the editor's didChange may trail the command)."""
    deadline = time.monotonic() + APPLIED_WAIT_S
    while True:
        doc = server.documents.get(uri)
        if doc is not None and sha256_text(doc.data) == expected_hash:
            return True
        if doc is None or time.monotonic() >= deadline:
            return False
        await asyncio.sleep(0.05)


def _resolve_support(server: CoderevServer) -> bool:
    capabilities = server.client_capabilities
    code_action = capabilities.text_document.code_action if capabilities.text_document else None
    resolve = code_action.resolve_support if code_action else None
    return bool(resolve and "edit" in (resolve.properties or []))


def _command(title: str, name: str, argument: Any) -> types.Command:
    return types.Command(title=title, command=name, arguments=[argument])


def _wanted(only: list[str] | None, kind: str) -> bool:
    return not only or any(kind == k or kind.startswith(f"{k}.") for k in only)


def register(server: CoderevServer) -> None:
    """Register code actions, their resolution and the fix commands."""
    service = FixService(server)

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(
        code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL_KIND, SUPPRESS_KIND, EXPLAIN_KIND],
        resolve_provider=True))
    async def code_action(ls: CoderevServer, params: types.CodeActionParams) -> list[types.CodeAction] | None:
        uri = params.text_document.uri
        if uri not in ls.documents:
            return None
        try:
            result = await analyse_document(ls, uri)
        except Exception:
            log.exception("analysis for code actions failed on %s", uri)
            return None
        doc = ls.documents.get(uri)
        if result is None or doc is None or result.version != doc.version:
            return None
        return _list_actions(ls, service, params, doc, result.findings)

    @server.feature(types.CODE_ACTION_RESOLVE)
    async def resolve(ls: CoderevServer, action: types.CodeAction) -> types.CodeAction:
        data = _data_of(action.data)
        kind = data.get("kind")
        if kind == "fix":
            edit, pending = await _resolve_fix(ls, service, data)
            action.edit = edit
            action.title = f"coderev: {pending.title}"  # the verified fix may come from a later rewriter
        elif kind == "fixAll":
            edit, _pending = await _resolve_fix_all(ls, service, data)
            action.edit = edit
        elif kind == "suppress":
            action.edit = _suppress_edit(ls, service, data)
        return action

    @server.command(APPLY_FIX)
    async def apply_fix(ls: CoderevServer, *args: Any) -> dict[str, Any]:
        data = _data_of(args[0] if args else None)
        data.setdefault("kind", "fix")
        edit, pending = await _resolve_fix(ls, service, data)
        return await _apply(ls, service, edit, pending, f"{APPLY_FIX}: {pending.title}")

    @server.command(FIX_ALL)
    async def fix_all(ls: CoderevServer, *args: Any) -> dict[str, Any]:
        data = dict(_data_of(args[0] if args else None))
        data["kind"] = "fixAll"
        if "version" not in data and str(data.get("uri")) in ls.documents:
            data["version"] = ls.documents[str(data["uri"])].version
        edit, pending = await _resolve_fix_all(ls, service, data)
        return await _apply(ls, service, edit, pending, "coderev: fix all")

    @server.command(RECORD_FIX)
    async def record_fix(ls: CoderevServer, *args: Any) -> dict[str, Any]:
        key = str(args[0]) if args else ""
        pending = service.pending.pop(key, None)
        if pending is None:
            return {"recorded": False, "reason": "unknown or already recorded fix"}
        if not await _wait_for_text(ls, pending.uri, pending.after_hash) or any(
                doc is not None and sha256_text(doc.data) != expected
                for doc, expected in ((_open_doc(ls, p)[1], h) for p, h in pending.others.items())):
            log.info("fix %s was not applied as computed; not journaled", pending.title)
            return {"recorded": False, "reason": "the document does not have the fixed text"}
        entry = _journal(pending, "lsp")
        return {"recorded": True, "id": entry.id}

    @server.command(UNDO_FIX)
    async def undo_fix(ls: CoderevServer, *args: Any) -> dict[str, Any]:
        options = args[0] if args else {}
        if isinstance(options, str):
            options = {"id": options}
        return await _undo(ls, options if isinstance(options, dict) else {})

    @server.command(SHOW_HISTORY)
    def show_history(ls: CoderevServer, *args: Any) -> dict[str, Any]:
        options = args[0] if args and isinstance(args[0], dict) else {}
        root = _root_from(ls, service, options)
        journal = Journal(root)
        undone = journal.undone()
        entries = [{"id": e.id, "kind": e.kind, "time": e.time, "class": e.vuln_class, "rule": e.rule,
                    "title": e.title, "file": e.file, "version": e.changes[0].version if e.changes else None,
                    "undone": e.id in undone, "undoes": e.undoes or None} for e in journal.entries()]
        return {"root": str(root), "journal": str(journal.path), "entries": entries}

    @server.command(EXPLAIN)
    async def explain_command(ls: CoderevServer, *args: Any) -> dict[str, Any]:
        data = _data_of(args[0] if args else None)
        _current(ls, data)
        finding = _finding_of(ls, data)
        proposal = service.proposals.get(_action_key({**data, "kind": "fix"}))
        path = path_of(str(data["uri"]))
        settings = ls.settings_for(path)
        diff = ""
        if proposal is not None and proposal.fix is not None:
            doc = ls.documents[str(data["uri"])]
            diff = unified_diff(doc.data.decode("utf-8", errors="surrogatepass"), proposal.after,
                                Path(path).name)
        loop = asyncio.get_running_loop()
        markdown = await loop.run_in_executor(
            ls.executor, lambda: explain(finding, proposal.fix.title if proposal and proposal.fix else "", diff,
                                         proposal.note if proposal else "", use_embeddings=settings.index_enabled))
        shown = await _show_markdown(ls, service.root_for(path), finding, markdown)
        return {"markdown": markdown, "shown": shown}


def _root_from(ls: CoderevServer, service: FixService, options: dict[str, Any]) -> Path:
    uri = options.get("uri")
    if isinstance(uri, str) and uri:
        return service.root_for(path_of(uri))
    if ls.folders:
        return next(iter(ls.folders.values())).root
    raise RequestFailed("no workspace folder: pass the uri of a file")


def _list_actions(ls: CoderevServer, service: FixService, params: types.CodeActionParams, doc: ParsedDocument,
                  findings: list[Finding]) -> list[types.CodeAction]:
    uri = params.text_document.uri
    only = [str(k) for k in params.context.only] if params.context.only else None
    by_fingerprint = {d.data.get("fingerprint"): d for d in params.context.diagnostics
                      if d.source == SOURCE and isinstance(d.data, dict)}
    start = doc.positions.offset_at(params.range.start.line, params.range.start.character, ls.encoding)
    end = doc.positions.offset_at(params.range.end.line, params.range.end.character, ls.encoding)
    fixer = service.fixer_for(path_of(uri))
    resolvable = _resolve_support(ls)
    actions: list[types.CodeAction] = []
    fixable = 0
    for finding in findings:
        diagnostic = by_fingerprint.get(finding.fingerprint)
        touches = finding.span.start_byte <= end and start <= finding.span.end_byte
        if diagnostic is None and not touches:
            if _wanted(only, FIX_ALL_KIND) and only:
                fixable += 1
            continue
        data = {"uri": uri, "version": doc.version, "fingerprint": finding.fingerprint,
                "start": finding.span.start_byte}
        diagnostics = [diagnostic] if diagnostic is not None else None
        if _wanted(only, types.CodeActionKind.QuickFix):
            fix_data = {**data, "kind": "fix"}
            key = _action_key(fix_data)
            cached = service.proposals.get(key)
            title = None
            if cached is not None:
                title = cached.fix.title if cached.fix is not None else None
            else:
                title = fixer.first_title(doc, finding) or (
                    "Generate a verified fix" if fixer.generator is not None else None)
                if title is not None:
                    service.prefetch(key, fixer, doc, finding)
            if title is not None:
                fixable += 1
                label = f"coderev: {title}"
                if resolvable:
                    actions.append(types.CodeAction(
                        title=label, kind=types.CodeActionKind.QuickFix, diagnostics=diagnostics, is_preferred=True,
                        data=fix_data, command=_command(label, RECORD_FIX, key)))
                else:
                    actions.append(types.CodeAction(
                        title=label, kind=types.CodeActionKind.QuickFix, diagnostics=diagnostics, is_preferred=True,
                        command=_command(label, APPLY_FIX, fix_data)))
        if _wanted(only, SUPPRESS_KIND):
            actions.append(types.CodeAction(
                title=f"coderev: suppress {finding.vuln_class.value} on this line", kind=SUPPRESS_KIND,
                diagnostics=diagnostics, data={**data, "kind": "suppress"}))
        if _wanted(only, EXPLAIN_KIND):
            actions.append(types.CodeAction(
                title=f"coderev: explain this {finding.vuln_class.title.lower()} finding", kind=EXPLAIN_KIND,
                diagnostics=diagnostics, command=_command("coderev: explain", EXPLAIN, data)))
    if _wanted(only, FIX_ALL_KIND) and (fixable or (only and any(k.startswith("source") for k in only))):
        data = {"uri": uri, "version": doc.version, "kind": "fixAll"}
        key = _action_key(data)
        if resolvable:
            actions.append(types.CodeAction(title="coderev: fix all verified findings in this file",
                                            kind=FIX_ALL_KIND, data=data,
                                            command=_command("coderev: fix all", RECORD_FIX, key)))
        else:
            actions.append(types.CodeAction(title="coderev: fix all verified findings in this file",
                                            kind=FIX_ALL_KIND,
                                            command=_command("coderev: fix all", FIX_ALL, data)))
    return actions


async def _resolve_fix(ls: CoderevServer, service: FixService, data: dict[str, Any]
                       ) -> tuple[types.WorkspaceEdit, Pending]:
    doc = _current(ls, data)
    finding = _finding_of(ls, data)
    uri = str(data["uri"])
    key = _action_key({**data, "kind": "fix"})
    proposal = service.proposals.get(key)
    if proposal is None and key in service.inflight:
        proposal = await asyncio.wrap_future(service.inflight[key])
    if proposal is None:
        fixer = service.fixer_for(path_of(uri))
        snapshot = doc.snapshot()
        loop = asyncio.get_running_loop()
        proposal = await loop.run_in_executor(ls.executor, timed_call, ls.stage_observer, "fixes", fixer.propose,
                                              snapshot, finding)
        service.remember(key, proposal)
    if proposal.fix is None:
        raise RequestFailed(f"no verified fix for {finding.rule}: {proposal.reason}")
    doc = _current(ls, data)  # the document may have changed while the fix was verified
    _check_others(ls, [(p, before) for p, before, _after in proposal.files])
    root = service.root_for(path_of(uri))
    edit, texts, versions = workspace_edit(ls, root, doc, uri, proposal.fix.edits, proposal.fix.extra_files)
    pending = Pending(proposal.fix, finding, root, texts, versions, sha256_text(proposal.after), uri,
                      proposal.fix.title, {"source": proposal.source},
                      {p: sha256_text(after) for p, _before, after in proposal.files})
    service.hold(key, pending)
    return edit, pending


async def _resolve_fix_all(ls: CoderevServer, service: FixService, data: dict[str, Any]
                           ) -> tuple[types.WorkspaceEdit, Pending]:
    doc = _current(ls, data)
    uri = str(data["uri"])
    path = path_of(uri)
    fixer = service.fixer_for(path)
    result = ls.results.get(uri)
    findings = result.findings if result is not None and result.version == doc.version else None
    snapshot = doc.snapshot()
    loop = asyncio.get_running_loop()
    outcome = await loop.run_in_executor(ls.executor, lambda: fixer.fix_all(snapshot, findings))
    if not outcome.fixed:
        reasons = "; ".join(f"{p.finding.rule}: {p.reason}" for p in outcome.skipped[:3])
        raise RequestFailed(f"no verified fix in this file{': ' + reasons if reasons else ''}")
    doc = _current(ls, data)
    root = service.root_for(path)
    _check_others(ls, [(p, before) for p, (before, _after) in outcome.others.items()])
    extra: dict[str, list[TextEdit]] = {}
    others = {os.path.abspath(p) for p in outcome.others}
    for proposal in outcome.fixed:
        assert proposal.fix is not None
        for extra_path, edits in proposal.fix.extra_files:
            if os.path.abspath(extra_path) not in others:
                extra.setdefault(extra_path, []).extend(edits)
    extra_files = tuple((p, _merge_appends(e)) for p, e in extra.items()) + tuple(
        (p, diff_edits(before, after)) for p, (before, after) in outcome.others.items())
    title = f"Fix {len(outcome.fixed)} finding(s): " + ", ".join(
        sorted({p.finding.vuln_class.value for p in outcome.fixed}))
    first = outcome.fixed[0].finding
    fix = Fix(title=title, edits=outcome.edits, path=path, vuln_class=first.vuln_class,
              rule=",".join(p.finding.rule for p in outcome.fixed), verified=True, extra_files=extra_files)
    edit, texts, versions = workspace_edit(ls, root, doc, uri, fix.edits, fix.extra_files)
    pending = Pending(fix, None, root, texts, versions, sha256_text(outcome.after), uri, title,
                      {"fixes": [{"class": p.finding.vuln_class.value, "rule": p.finding.rule,
                                  "title": p.fix.title if p.fix else ""} for p in outcome.fixed]},
                      {p: sha256_text(after) for p, (_before, after) in outcome.others.items()})
    service.hold(_action_key(data), pending)
    return edit, pending


def _check_others(ls: CoderevServer, files: list[tuple[str, str]]) -> None:
    """Other files of a fix must still have the text the fix was computed from."""
    for path, before in files:
        _uri, text, _version = _text_and_version(ls, path)
        if text != before:
            raise JsonRpcContentModified(f"{Path(path).name} changed since this fix was computed; "
                                         "ask for code actions again")


def _merge_appends(edits: list[TextEdit]) -> tuple[TextEdit, ...]:
    """Appends to one file by several fixes, joined (each new line once)."""
    if not edits:
        return ()
    point = edits[0].start_byte
    if any(e.start_byte != point or e.end_byte != point for e in edits):
        return (edits[0],)
    lines: list[str] = []
    lead = ""
    for e in edits:
        text = e.new_text
        if text.startswith("\n"):
            lead, text = "\n", text[1:]
        for line in text.splitlines(keepends=True):
            if line not in lines:
                lines.append(line)
    return (TextEdit(point, point, lead + "".join(lines)),)


def _suppress_edit(ls: CoderevServer, service: FixService, data: dict[str, Any]) -> types.WorkspaceEdit:
    doc = _current(ls, data)
    finding = _finding_of(ls, data)
    edit = suppression_edit(doc, finding)
    if edit is None:
        raise RequestFailed("no line of this finding can take a comment (it ends inside a string)")
    uri = str(data["uri"])
    workspace, _texts, _versions = workspace_edit(ls, service.root_for(path_of(uri)), doc, uri, (edit,))
    return workspace


async def _apply(ls: CoderevServer, service: FixService, edit: types.WorkspaceEdit, pending: Pending,
                 label: str) -> dict[str, Any]:
    """Send a versioned workspace/applyEdit and journal the fix when the editor applied it."""
    result = await ls.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(edit=edit, label=label))
    for key, held in list(service.pending.items()):
        if held is pending:
            service.pending.pop(key, None)
    if not result.applied:
        reason = result.failure_reason or "the editor refused the edit (the document may have changed)"
        log.info("%s not applied: %s", label, reason)
        return {"applied": False, "reason": reason}
    entry = _journal(pending, "lsp")
    return {"applied": True, "id": entry.id, "title": pending.title}


async def _undo(ls: CoderevServer, options: dict[str, Any]) -> dict[str, Any]:
    """Revert a journaled fix (the last one by default) when its files still have the fixed text."""
    uri = options.get("uri")
    if isinstance(uri, str) and uri:
        root = ls.folder_for(path_of(uri)).root
    elif ls.folders:
        root = next(iter(ls.folders.values())).root
    else:
        raise RequestFailed("no workspace folder: pass the uri of a file")
    journal = Journal(root)
    entry_id = options.get("id")
    entry = journal.find(str(entry_id)) if entry_id else journal.last_undoable()
    if entry is None:
        raise RequestFailed(f"no fix {entry_id} in {journal.path}" if entry_id else "no fix to undo")
    current: dict[str, str] = {}
    versions: dict[str, int | None] = {}
    uris: dict[str, str] = {}
    for change in entry.changes:
        path = str(root / change.file)
        file_uri, text, version = _text_and_version(ls, path)
        current[change.file], versions[change.file], uris[change.file] = text, version, file_uri
    try:
        plan = journal.plan_undo(entry, current)
    except UndoRefused as exc:
        ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Warning, message=f"coderev: {exc}"))
        raise RequestFailed(str(exc)) from exc
    changes: list[types.TextDocumentEdit | types.CreateFile | types.RenameFile | types.DeleteFile] = []
    for rel, edits in plan.items():
        positions = PositionMap(current[rel].encode("utf-8", errors="surrogatepass"))
        changes.append(types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uris[rel], version=versions[rel]),
            edits=_lsp_edits(edits, positions, ls)))
    result = await ls.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(
        edit=types.WorkspaceEdit(document_changes=changes), label=f"coderev: undo {entry.title}"))
    if not result.applied:
        raise RequestFailed(result.failure_reason or "the editor refused the undo edit")
    restored = {rel: apply_edits(current[rel], plan[rel]) for rel in plan}
    undo = journal.record_undo(entry, {rel: versions[rel] for rel in plan}, source="lsp")
    log.info("undid fix %s (%s)", entry.id, entry.title)
    return {"undone": entry.id, "entry": undo.id, "files": sorted(restored)}


async def _show_markdown(ls: CoderevServer, root: Path, finding: Finding, markdown: str) -> bool:
    """Open the explanation as a markdown document when the client can show documents."""
    window = ls.client_capabilities.window
    if not (window and window.show_document and window.show_document.support):
        return False
    folder = root / ".coderev" / "explain"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{finding.fingerprint}.md"
        target.write_text(markdown, encoding="utf-8")
    except OSError as exc:
        log.warning("cannot write the explanation: %s", exc)
        return False
    try:
        result = await asyncio.wait_for(ls.window_show_document_async(types.ShowDocumentParams(
            uri=target.as_uri(), external=False, take_focus=False)), 5.0)
    except Exception as exc:
        log.info("showDocument failed: %s", exc)
        return False
    return bool(result.success)

"""Code actions end to end over stdio: list, resolve, apply the versioned edit, journal, undo, stale versions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Union

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from ai_core.parsing import PositionEncoding, PositionMap
from tests.lsp_support import open_document, replace_all, start_session, wait_for_diagnostics

SHELL = '''"""Ping a host."""

import subprocess


def ping(host):
    # café ☕: positions after this line are counted in the negotiated encoding
    return subprocess.run(f"ping -c 1 {host}", shell=True, check=False)


if __name__ == "__main__":
    import sys

    ping(sys.argv[1])
'''
SHELL_FIXED = SHELL.replace('subprocess.run(f"ping -c 1 {host}", shell=True, check=False)',
                            'subprocess.run(["ping", "-c", "1", host], check=False)')

TWO = '''import os
import pickle
import sqlite3

from flask import Flask, request, send_file

app = Flask(__name__)


@app.route("/state", methods=["POST"])
def state():
    return {"state": pickle.loads(request.data)}


@app.route("/user")
def user():
    db = sqlite3.connect("app.db")
    return {"rows": db.execute("SELECT id FROM users WHERE name = '%s'" % request.args["name"]).fetchall()}


@app.route("/file")
def file():
    return send_file(os.path.join("/srv/files", request.args["name"]))
'''

SSRF = '''import requests
from flask import Flask, request

app = Flask(__name__)


@app.route("/fetch")
def fetch():
    url = request.args["url"]
    return requests.get(url, timeout=5).text
'''


class Editor:
    """The test's side of the documents: versions, texts, and a workspace/applyEdit that honours versions."""

    def __init__(self, client: LanguageClient, encoding: PositionEncoding) -> None:
        self.client = client
        self.encoding = encoding
        self.texts: dict[str, str] = {}
        self.versions: dict[str, int] = {}
        self.applied: list[types.ApplyWorkspaceEditParams] = []

        def on_apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
            return self._on_apply_edit(params)

        client.feature(types.WORKSPACE_APPLY_EDIT)(on_apply_edit)

    def open(self, path: Path, text: str) -> str:
        path.write_text(text, encoding="utf-8")
        uri = open_document(self.client, path, text)
        self.texts[uri], self.versions[uri] = text, 1
        return uri

    def change(self, uri: str, text: str) -> int:
        version = self.versions[uri] + 1
        replace_all(self.client, uri, text, version)
        self.texts[uri], self.versions[uri] = text, version
        return version

    def apply(self, edit: types.WorkspaceEdit) -> bool:
        """Apply a WorkspaceEdit like an editor: refuse it whole if any versioned document changed."""
        assert edit.document_changes, "coderev sends documentChanges"
        for change in edit.document_changes:
            assert isinstance(change, types.TextDocumentEdit)
            uri, version = change.text_document.uri, change.text_document.version
            if version is not None and self.versions.get(uri) != version:
                return False
        for change in edit.document_changes:
            assert isinstance(change, types.TextDocumentEdit)
            uri = change.text_document.uri
            if not change.edits:
                continue
            if change.text_document.version is None:
                path = Path(uri.removeprefix("file://"))
                path.write_text(self._patched(path.read_text(encoding="utf-8"), change.edits), encoding="utf-8")
            else:
                self.change(uri, self._patched(self.texts[uri], change.edits))
        return True

    def _patched(self, text: str, edits: list) -> str:  # type: ignore[type-arg]
        positions = PositionMap(text.encode())
        spans = []
        for e in edits:
            start = positions.offset_at(e.range.start.line, e.range.start.character, self.encoding)
            end = positions.offset_at(e.range.end.line, e.range.end.character, self.encoding)
            spans.append((start, end, e.new_text))
        data = text.encode()
        for start, end, new in sorted(spans, reverse=True):
            data = data[:start] + new.encode() + data[end:]
        return data.decode()

    def _on_apply_edit(self, params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        self.applied.append(params)
        if self.apply(params.edit):
            return types.ApplyWorkspaceEditResult(applied=True)
        return types.ApplyWorkspaceEditResult(applied=False, failure_reason="document version changed")


def _structure_code_actions_correctly(client: LanguageClient) -> None:
    """lsprotocol reads any result item with a "command" key as a Command, even a CodeAction that carries one
    (its command is an object, not a string); editors do not. Teach the test client the difference."""
    converter = client.protocol._converter

    def hook(obj: Any, _: type) -> types.Command | types.CodeAction:
        if isinstance(obj.get("command"), str):
            return converter.structure(obj, types.Command)
        return converter.structure(obj, types.CodeAction)

    converter.register_structure_hook(Union[types.Command, types.CodeAction], hook)  # noqa: UP007


async def _session(lsp: LanguageClient, root: Path) -> Editor:
    _structure_code_actions_correctly(lsp)
    result = await start_session(lsp, root, lsp.client_name)
    encoding = PositionEncoding(str(getattr(result.capabilities.position_encoding, "value",
                                            result.capabilities.position_encoding) or "utf-16"))
    return Editor(lsp, encoding)


async def _actions(lsp: LanguageClient, uri: str, diagnostic: types.Diagnostic,
                   only: list[str] | None = None) -> list[types.CodeAction]:
    result = await lsp.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=diagnostic.range,
        context=types.CodeActionContext(diagnostics=[diagnostic], only=only)))  # type: ignore[arg-type]
    return [a for a in result or [] if isinstance(a, types.CodeAction)]


async def _run(lsp: LanguageClient, command: types.Command | None) -> object:
    assert command is not None
    return await lsp.workspace_execute_command_async(types.ExecuteCommandParams(
        command=command.command, arguments=command.arguments))


def _journal(root: Path) -> list[dict]:  # type: ignore[type-arg]
    path = root / ".coderev" / "history.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


async def test_quick_fix_resolves_to_a_versioned_edit_that_removes_the_diagnostic(lsp: LanguageClient,
                                                                                  tmp_path: Path):
    editor = await _session(lsp, tmp_path)
    uri = editor.open(tmp_path / "ping.py", SHELL)
    diagnostic = (await wait_for_diagnostics(lsp, uri, version=1)).diagnostics[0]
    assert diagnostic.code == "command-injection"

    actions = await _actions(lsp, uri, diagnostic)
    fix = next(a for a in actions if a.kind == types.CodeActionKind.QuickFix)
    assert fix.edit is None, "listing stays fast: the edit is computed on resolve"
    assert fix.title == "coderev: Run an argument list without a shell"

    resolved = await lsp.code_action_resolve_async(fix)
    assert resolved.edit is not None and resolved.edit.document_changes
    change = resolved.edit.document_changes[0]
    assert isinstance(change, types.TextDocumentEdit)
    assert change.text_document.version == 1
    assert editor.apply(resolved.edit)
    assert editor.texts[uri] == SHELL_FIXED

    assert list((await wait_for_diagnostics(lsp, uri, version=2)).diagnostics) == []
    recorded = await _run(lsp, resolved.command)
    assert recorded["recorded"] is True  # type: ignore[index]
    [entry] = _journal(tmp_path)
    assert entry["file"] == "ping.py" and entry["class"] == "command-injection"
    assert entry["rule"] == "command.subprocess-shell" and entry["version"] == 1 and entry["kind"] == "fix"


async def test_undo_restores_the_exact_bytes_and_is_journaled(lsp: LanguageClient, tmp_path: Path):
    editor = await _session(lsp, tmp_path)
    uri = editor.open(tmp_path / "ping.py", SHELL)
    before = (await wait_for_diagnostics(lsp, uri, version=1)).diagnostics
    fix = next(a for a in await _actions(lsp, uri, before[0]) if a.kind == types.CodeActionKind.QuickFix)
    resolved = await lsp.code_action_resolve_async(fix)
    assert resolved.edit is not None and editor.apply(resolved.edit)
    await wait_for_diagnostics(lsp, uri, version=2)
    await _run(lsp, resolved.command)

    result = await lsp.workspace_execute_command_async(types.ExecuteCommandParams(
        command="coderev.undoFix", arguments=[{"uri": uri}]))
    assert result["undone"] == _journal(tmp_path)[0]["id"]
    assert editor.texts[uri].encode() == SHELL.encode()
    assert editor.applied[-1].edit.document_changes[0].text_document.version == 2  # type: ignore[union-attr]
    assert [e["kind"] for e in _journal(tmp_path)] == ["fix", "undo"]
    restored = (await wait_for_diagnostics(lsp, uri, version=3)).diagnostics
    assert [d.range for d in restored] == [d.range for d in before]


async def test_undo_is_refused_when_the_text_changed_after_the_fix(lsp: LanguageClient, tmp_path: Path):
    editor = await _session(lsp, tmp_path)
    uri = editor.open(tmp_path / "ping.py", SHELL)
    diagnostic = (await wait_for_diagnostics(lsp, uri, version=1)).diagnostics[0]
    fix = next(a for a in await _actions(lsp, uri, diagnostic) if a.kind == types.CodeActionKind.QuickFix)
    resolved = await lsp.code_action_resolve_async(fix)
    assert resolved.edit is not None and editor.apply(resolved.edit)
    await _run(lsp, resolved.command)
    editor.change(uri, editor.texts[uri] + "\n# edited after the fix\n")
    await wait_for_diagnostics(lsp, uri, version=3)

    with pytest.raises(JsonRpcException, match="changed since fix"):
        await lsp.workspace_execute_command_async(types.ExecuteCommandParams(
            command="coderev.undoFix", arguments=[{"uri": uri}]))
    assert editor.texts[uri].endswith("# edited after the fix\n")
    assert [e["kind"] for e in _journal(tmp_path)] == ["fix"]


async def test_a_fix_listed_for_an_older_version_is_refused(lsp: LanguageClient, tmp_path: Path):
    editor = await _session(lsp, tmp_path)
    uri = editor.open(tmp_path / "ping.py", SHELL)
    diagnostic = (await wait_for_diagnostics(lsp, uri, version=1)).diagnostics[0]
    fix = next(a for a in await _actions(lsp, uri, diagnostic) if a.kind == types.CodeActionKind.QuickFix)
    editor.change(uri, "# a new first line\n" + SHELL)
    await wait_for_diagnostics(lsp, uri, version=2)

    with pytest.raises(JsonRpcException, match="document changed since this fix was computed"):
        await lsp.code_action_resolve_async(fix)
    with pytest.raises(JsonRpcException, match="document changed"):
        await lsp.workspace_execute_command_async(types.ExecuteCommandParams(
            command="coderev.applyFix", arguments=[fix.data]))
    assert editor.texts[uri] == "# a new first line\n" + SHELL


async def test_the_editor_rejects_an_edit_whose_version_is_stale(lsp: LanguageClient, tmp_path: Path):
    editor = await _session(lsp, tmp_path)
    uri = editor.open(tmp_path / "ping.py", SHELL)
    diagnostic = (await wait_for_diagnostics(lsp, uri, version=1)).diagnostics[0]
    fix = next(a for a in await _actions(lsp, uri, diagnostic) if a.kind == types.CodeActionKind.QuickFix)
    resolved = await lsp.code_action_resolve_async(fix)
    editor.change(uri, SHELL + "\n")  # the user types between resolve and apply
    assert resolved.edit is not None and editor.apply(resolved.edit) is False
    assert editor.texts[uri] == SHELL + "\n"


async def test_apply_fix_command_sends_a_multi_file_versioned_apply_edit(lsp: LanguageClient, tmp_path: Path):
    (tmp_path / ".env.example").write_text("DATABASE_URL=\n", encoding="utf-8")
    editor = await _session(lsp, tmp_path)
    uri = editor.open(tmp_path / "fetch.py", SSRF)
    diagnostic = (await wait_for_diagnostics(lsp, uri, version=1)).diagnostics[0]
    assert diagnostic.code == "ssrf"
    fix = next(a for a in await _actions(lsp, uri, diagnostic) if a.kind == types.CodeActionKind.QuickFix)

    result = await lsp.workspace_execute_command_async(types.ExecuteCommandParams(
        command="coderev.applyFix", arguments=[fix.data]))
    assert result["applied"] is True
    changes = editor.applied[-1].edit.document_changes
    assert changes is not None and [c.text_document.version for c in changes] == [1, None]  # type: ignore[union-attr]
    assert "if urlparse(url).hostname not in ALLOWED_URL_HOSTS:" in editor.texts[uri]
    assert (tmp_path / ".env.example").read_text(encoding="utf-8") == "DATABASE_URL=\nALLOWED_URL_HOSTS=\n"
    assert list((await wait_for_diagnostics(lsp, uri, version=2)).diagnostics) == []
    [entry] = _journal(tmp_path)
    assert entry["file"] == "fetch.py" and [c["file"] for c in entry["extra_files"]] == [".env.example"]

    await lsp.workspace_execute_command_async(types.ExecuteCommandParams(command="coderev.undoFix",
                                                                         arguments=[{"uri": uri}]))
    assert editor.texts[uri] == SSRF
    assert (tmp_path / ".env.example").read_text(encoding="utf-8") == "DATABASE_URL=\n"


async def test_fix_all_fixes_every_finding_of_the_file(lsp: LanguageClient, tmp_path: Path):
    editor = await _session(lsp, tmp_path)
    uri = editor.open(tmp_path / "store.py", TWO)
    diagnostics = (await wait_for_diagnostics(lsp, uri, version=1)).diagnostics
    classes = ["insecure-deserialization", "path-traversal", "sql-injection"]
    assert sorted(d.code for d in diagnostics) == classes
    actions = await _actions(lsp, uri, diagnostics[0], only=["source.fixAll.coderev"])
    [fix_all] = actions
    assert fix_all.kind == "source.fixAll.coderev"
    resolved = await lsp.code_action_resolve_async(fix_all)
    assert resolved.edit is not None and editor.apply(resolved.edit)
    text = editor.texts[uri]
    assert 'return {"state": json.loads(request.data)}' in text and "import pickle" not in text
    assert 'if not safe_path.startswith(os.path.realpath("/srv/files") + os.sep):' in text
    assert """db.execute("SELECT id FROM users WHERE name = ?", (request.args["name"],))""" in text
    assert list((await wait_for_diagnostics(lsp, uri, version=2)).diagnostics) == []
    await _run(lsp, resolved.command)
    [entry] = _journal(tmp_path)
    assert sorted(f["class"] for f in entry["extra"]["fixes"]) == classes


async def test_suppress_action_adds_the_ignore_comment(lsp: LanguageClient, tmp_path: Path):
    editor = await _session(lsp, tmp_path)
    uri = editor.open(tmp_path / "ping.py", SHELL)
    diagnostic = (await wait_for_diagnostics(lsp, uri, version=1)).diagnostics[0]
    suppress = next(a for a in await _actions(lsp, uri, diagnostic) if a.kind == "quickfix.coderev.suppress")
    resolved = await lsp.code_action_resolve_async(suppress)
    assert resolved.edit is not None and editor.apply(resolved.edit)
    assert 'shell=True, check=False)  # coderev: ignore[command-injection]\n' in editor.texts[uri]
    remaining = (await wait_for_diagnostics(lsp, uri, version=2)).diagnostics
    assert diagnostic.range not in [d.range for d in remaining]
    assert [d.range.start.line for d in remaining] == [13]  # the call site is a separate finding


async def test_explain_returns_markdown_with_the_taint_path(lsp: LanguageClient, tmp_path: Path):
    editor = await _session(lsp, tmp_path)
    uri = editor.open(tmp_path / "ping.py", SHELL)
    diagnostics = (await wait_for_diagnostics(lsp, uri, version=1)).diagnostics
    diagnostic = next(d for d in diagnostics if d.related_information)  # the one with a taint path
    explain = next(a for a in await _actions(lsp, uri, diagnostic) if a.kind == "quickfix.coderev.explain")
    result = await _run(lsp, explain.command)
    markdown = result["markdown"]  # type: ignore[index]
    assert markdown.startswith("## Command injection (CWE-78)")
    assert "**Why it matters:**" in markdown and "**How the data gets there:**" in markdown
    assert "sys.argv" in markdown
    assert "**A similar known case:**" in markdown


async def test_no_fix_is_offered_for_a_safe_file(lsp: LanguageClient, tmp_path: Path):
    editor = await _session(lsp, tmp_path)
    uri = editor.open(tmp_path / "ok.py", SHELL_FIXED)
    assert list((await wait_for_diagnostics(lsp, uri, version=1)).diagnostics) == []
    result = await lsp.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=types.Range(start=types.Position(0, 0), end=types.Position(12, 0)),
        context=types.CodeActionContext(diagnostics=[])))
    assert not result


async def test_history_command_lists_the_journal(lsp: LanguageClient, tmp_path: Path):
    editor = await _session(lsp, tmp_path)
    uri = editor.open(tmp_path / "ping.py", SHELL)
    diagnostic = (await wait_for_diagnostics(lsp, uri, version=1)).diagnostics[0]
    fix = next(a for a in await _actions(lsp, uri, diagnostic) if a.kind == types.CodeActionKind.QuickFix)
    await lsp.workspace_execute_command_async(types.ExecuteCommandParams(command="coderev.applyFix",
                                                                         arguments=[fix.data]))
    history = await lsp.workspace_execute_command_async(types.ExecuteCommandParams(
        command="coderev.showHistory", arguments=[{"uri": uri}]))
    [entry] = history["entries"]
    assert entry["file"] == "ping.py" and entry["undone"] is False and entry["version"] == 1


RUNNER = '''import os


def create_archive(source):
    os.system(f"tar czf /tmp/out.tgz {source}")
'''
CLI = '''import sys

from tools import runner

if __name__ == "__main__":
    runner.create_archive(sys.argv[1])
'''


async def test_a_call_site_fix_edits_the_callee_file_in_the_same_versioned_edit(lsp: LanguageClient,
                                                                                 tmp_path: Path):
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "__init__.py").write_text("", encoding="utf-8")
    runner = tmp_path / "tools" / "runner.py"
    runner.write_text(RUNNER, encoding="utf-8")
    editor = await _session(lsp, tmp_path)
    uri = editor.open(tmp_path / "cli.py", CLI)
    diagnostic = next(d for d in (await wait_for_diagnostics(lsp, uri, version=1)).diagnostics
                      if d.code == "command-injection")
    fix = next(a for a in await _actions(lsp, uri, diagnostic) if a.kind == types.CodeActionKind.QuickFix)
    assert fix.title.endswith("(in runner.py)")
    resolved = await lsp.code_action_resolve_async(fix)
    assert resolved.edit is not None and resolved.edit.document_changes is not None
    changes = [(c.text_document.uri, c.text_document.version, len(c.edits)) for c in resolved.edit.document_changes]
    assert changes[0] == (uri, 1, 0) and changes[1][0] == runner.as_uri() and changes[1][1] is None
    assert editor.apply(resolved.edit)
    assert 'subprocess.run(["tar", "czf", "/tmp/out.tgz", source], check=False)' in runner.read_text(encoding="utf-8")
    assert editor.texts[uri] == CLI
    editor.change(uri, CLI)  # re-analyse the caller against the fixed callee
    assert [d.code for d in (await wait_for_diagnostics(lsp, uri, version=2)).diagnostics] == []
    await _run(lsp, resolved.command)
    [entry] = _journal(tmp_path)
    assert entry["file"] == "cli.py" and entry["edits"] == []
    assert [c["file"] for c in entry["extra_files"]] == ["tools/runner.py"]

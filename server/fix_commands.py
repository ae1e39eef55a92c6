"""The fix commands: coderev.applyFix, coderev.fixAll, coderev.recordFix, coderev.undoFix, coderev.showHistory and
coderev.explain.

applyFix and fixAll write the journal intent in `.coderev/history.jsonl`, send a versioned `workspace/applyEdit`
and commit the entry when the editor applied it (roll it back when it did not); recordFix journals a fix the
editor applied from a resolved code action; undoFix reverts a journaled fix of a workspace folder when its files
still have the text the fix produced. At `initialized` each folder's interrupted fixes are finished or rolled back.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from server.code_action_resolve import workspace_edit
from server.fix_service import (
    APPLY_FIX,
    EXPLAIN,
    FIX_ALL,
    RECORD_FIX,
    SHOW_HISTORY,
    UNDO_FIX,
    AwaitingRecord,
    FixService,
    RequestFailed,
    UndoNotPossible,
    close_entry,
    data_of,
    recover_folders,
    write_explanation,
)
from server.session import CoderevServer

if TYPE_CHECKING:
    from ai_core.findings import Finding

log = logging.getLogger(__name__)

SHOW_DOCUMENT_TIMEOUT_S = 5.0


async def apply(ls: CoderevServer, edit: types.WorkspaceEdit, awaiting: AwaitingRecord, label: str
                ) -> dict[str, Any]:
    """Send a versioned workspace/applyEdit and journal the fix when the editor applied it."""
    service = ls.state(FixService)
    entry = service.begin(awaiting)  # nothing is sent to the editor without its journal intent
    try:
        result = await ls.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(edit=edit, label=label))
    except BaseException:
        service.finish(awaiting, entry, applied=False, reason="the edit request failed")
        raise
    service.release(awaiting)
    if not result.applied:
        reason = result.failure_reason or "the editor refused the edit (the document may have changed)"
        log.info("%s not applied: %s", label, reason)
        service.finish(awaiting, entry, applied=False, reason=reason)
        return {"applied": False, "reason": reason}
    service.finish(awaiting, entry, applied=True)
    return {"applied": True, "id": entry.id, "title": awaiting.title}


async def apply_fix(ls: CoderevServer, *args: Any) -> dict[str, Any]:
    """coderev.applyFix DATA: verify the listed fix and apply it (clients without codeAction/resolve)."""
    data = data_of(args[0] if args else None)
    data.setdefault("kind", "fix")
    awaiting = await ls.state(FixService).verified_fix(data)
    return await apply(ls, workspace_edit(ls, awaiting.targets), awaiting, f"{APPLY_FIX}: {awaiting.title}")


async def fix_all(ls: CoderevServer, *args: Any) -> dict[str, Any]:
    """coderev.fixAll {uri, version?}: apply every verified fix of a document as one edit."""
    data = dict(data_of(args[0] if args else None))
    data["kind"] = "fixAll"
    doc = ls.documents.get(str(data.get("uri")))
    if "version" not in data and doc is not None:
        data["version"] = doc.version
    awaiting = await ls.state(FixService).verified_fix_all(data)
    return await apply(ls, workspace_edit(ls, awaiting.targets), awaiting, "coderev: fix all")


async def record_fix(ls: CoderevServer, *args: Any) -> dict[str, Any]:
    """coderev.recordFix KEY: journal a resolved fix once the editor has its text."""
    return await ls.state(FixService).record(str(args[0]) if args else "")


async def undo_fix(ls: CoderevServer, *args: Any) -> dict[str, Any]:
    """coderev.undoFix [ID | {id?, uri?}]: revert a journaled fix (the last by default) in the editor."""
    options = args[0] if args else {}
    if isinstance(options, str):
        options = {"id": options}
    service = ls.state(FixService)
    try:
        journal, plan, targets = service.undo_plan(options if isinstance(options, dict) else {})
    except UndoNotPossible as exc:
        ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Warning, message=f"coderev: {exc}"))
        raise
    versions = {rel: target.version for rel, target in zip(plan.edits, targets, strict=True)}
    try:
        undo = journal.begin_undo(plan.entry, versions, source="lsp")
    except OSError as exc:
        raise RequestFailed(f"cannot write the fix journal, nothing undone: {exc}") from exc
    try:
        result = await ls.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(
            edit=workspace_edit(ls, targets), label=f"coderev: undo {plan.entry.title}"))
    except BaseException:
        close_entry(journal, undo, applied=False, reason="the edit request failed")
        raise
    if not result.applied:
        close_entry(journal, undo, applied=False, reason=result.failure_reason or "refused by the editor")
        raise RequestFailed(result.failure_reason or "the editor refused the undo edit")
    close_entry(journal, undo, applied=True)
    log.info("undid fix %s (%s)", plan.entry.id, plan.entry.title)
    return {"undone": plan.entry.id, "entry": undo.id, "files": sorted(plan.edits)}


def show_history(ls: CoderevServer, *args: Any) -> dict[str, Any]:
    """coderev.showHistory [{uri?}]: the fix journal of a workspace folder."""
    options = args[0] if args and isinstance(args[0], dict) else {}
    return ls.state(FixService).history(options)


async def explain_command(ls: CoderevServer, *args: Any) -> dict[str, Any]:
    """coderev.explain DATA: explain a finding (and open it as a document when the client can)."""
    finding, root, markdown = await ls.state(FixService).explanation(data_of(args[0] if args else None))
    shown = await show_markdown(ls, root, finding, markdown)
    return {"markdown": markdown, "shown": shown}


async def show_markdown(ls: CoderevServer, root: Path, finding: Finding, markdown: str) -> bool:
    """Open the explanation as a markdown document when the client can show documents."""
    window = ls.client_capabilities.window
    if not (window and window.show_document and window.show_document.support):
        return False
    target = write_explanation(root, finding, markdown)
    if target is None:
        return False
    try:
        result = await asyncio.wait_for(ls.window_show_document_async(types.ShowDocumentParams(
            uri=target.as_uri(), external=False, take_focus=False)), SHOW_DOCUMENT_TIMEOUT_S)
    except Exception as exc:
        log.info("showDocument failed: %s", exc)
        return False
    return bool(result.success)


def register(server: CoderevServer) -> None:
    """Register the fix commands (and the journal recovery once the client is initialized)."""
    server.listeners.initialized.append(lambda: server.executor.submit(recover_folders, server))
    server.command(APPLY_FIX)(apply_fix)
    server.command(FIX_ALL)(fix_all)
    server.command(RECORD_FIX)(record_fix)
    server.command(UNDO_FIX)(undo_fix)
    server.command(SHOW_HISTORY)(show_history)
    server.command(EXPLAIN)(explain_command)

"""textDocument/codeAction: list quick fixes, suppressions, explanations and fix-all for the findings in range.

Listing only runs the rewriters' tree-sitter matching (`Fixer.first_title`) and starts verifying the listed
fixes in the background; the fix itself is computed and verified in `codeAction/resolve`
(`server.code_action_resolve`), or in `coderev.applyFix` for clients without resolve support
(`server.fix_commands`). Each fix carries a `coderev.recordFix` command that journals it once applied.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from server.convert import SOURCE, offsets_of
from server.diagnostics import analyze_document
from server.fix_service import (
    APPLY_FIX,
    EXPLAIN,
    EXPLAIN_KIND,
    FIX_ALL,
    FIX_ALL_KIND,
    RECORD_FIX,
    SUPPRESS_KIND,
    FixService,
    action_key,
)
from server.session import CoderevServer, path_of

if TYPE_CHECKING:
    from ai_core.findings import Finding
    from ai_core.parsing import ParsedDocument

log = logging.getLogger(__name__)

OPTIONS = types.CodeActionOptions(
    code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL_KIND, SUPPRESS_KIND, EXPLAIN_KIND],
    resolve_provider=True)
FIX_ALL_TITLE = "coderev: fix all verified findings in this file"


def resolve_support(server: CoderevServer) -> bool:
    """True when the client resolves a code action's `edit` lazily (codeAction/resolve)."""
    capabilities = server.client_capabilities
    code_action = capabilities.text_document.code_action if capabilities.text_document else None
    resolve = code_action.resolve_support if code_action else None
    return bool(resolve and "edit" in (resolve.properties or []))


def command(title: str, name: str, argument: Any) -> types.Command:
    """A command with one argument."""
    return types.Command(title=title, command=name, arguments=[argument])


def wanted(only: list[str] | None, kind: str) -> bool:
    """Whether the client asked for actions of `kind` (no `only` means every kind)."""
    return not only or any(kind == k or kind.startswith(f"{k}.") for k in only)


async def code_action(ls: CoderevServer, params: types.CodeActionParams) -> list[types.CodeAction] | None:
    """The actions for the findings in the requested range (or attached to the diagnostics sent)."""
    uri = params.text_document.uri
    if await ls.documents.current(uri) is None:
        return None
    try:
        result = await analyze_document(ls, uri)
    except Exception:
        log.exception("analysis for code actions failed on %s", uri)
        return None
    doc = ls.documents.get(uri)
    if result is None or doc is None or result.version != doc.version:
        return None
    return list_actions(ls, params, doc, result.findings)


def list_actions(ls: CoderevServer, params: types.CodeActionParams, doc: ParsedDocument,
                 findings: list[Finding]) -> list[types.CodeAction]:
    """Quick fix, suppress and explain actions per finding in range, and fix-all when something is fixable."""
    service = ls.state(FixService)
    uri = params.text_document.uri
    only = [str(k) for k in params.context.only] if params.context.only else None
    by_fingerprint = {d.data.get("fingerprint"): d for d in params.context.diagnostics
                      if d.source == SOURCE and isinstance(d.data, dict)}
    start, end = offsets_of(params.range, doc.positions, ls.encoding)
    fixer = service.fixer_for(path_of(uri))
    resolvable = resolve_support(ls)
    actions: list[types.CodeAction] = []
    fixable = 0
    for finding in findings:
        diagnostic = by_fingerprint.get(finding.fingerprint)
        touches = finding.span.start_byte <= end and start <= finding.span.end_byte
        if diagnostic is None and not touches:
            if wanted(only, FIX_ALL_KIND) and only:
                fixable += 1
            continue
        data = {"uri": uri, "version": doc.version, "fingerprint": finding.fingerprint,
                "start": finding.span.start_byte}
        diagnostics = [diagnostic] if diagnostic is not None else None
        if wanted(only, types.CodeActionKind.QuickFix):
            fix_data = {**data, "kind": "fix"}
            key = action_key(fix_data)
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
                        data=fix_data, command=command(label, RECORD_FIX, key)))
                else:
                    actions.append(types.CodeAction(
                        title=label, kind=types.CodeActionKind.QuickFix, diagnostics=diagnostics, is_preferred=True,
                        command=command(label, APPLY_FIX, fix_data)))
        if wanted(only, SUPPRESS_KIND):
            actions.append(types.CodeAction(
                title=f"coderev: suppress {finding.vuln_class.value} on this line", kind=SUPPRESS_KIND,
                diagnostics=diagnostics, data={**data, "kind": "suppress"}))
        if wanted(only, EXPLAIN_KIND):
            actions.append(types.CodeAction(
                title=f"coderev: explain this {finding.vuln_class.title.lower()} finding", kind=EXPLAIN_KIND,
                diagnostics=diagnostics, command=command("coderev: explain", EXPLAIN, data)))
    if wanted(only, FIX_ALL_KIND) and (fixable or (only and any(k.startswith("source") for k in only))):
        data = {"uri": uri, "version": doc.version, "kind": "fixAll"}
        if resolvable:
            actions.append(types.CodeAction(title=FIX_ALL_TITLE, kind=FIX_ALL_KIND, data=data,
                                            command=command("coderev: fix all", RECORD_FIX, action_key(data))))
        else:
            actions.append(types.CodeAction(title=FIX_ALL_TITLE, kind=FIX_ALL_KIND,
                                            command=command("coderev: fix all", FIX_ALL, data)))
    return actions


def register(server: CoderevServer) -> None:
    """Register textDocument/codeAction."""
    server.feature(types.TEXT_DOCUMENT_CODE_ACTION, OPTIONS)(code_action)

"""codeAction/resolve: compute and verify a listed fix, fix-all or suppression as a versioned WorkspaceEdit.

Every edit is a `TextDocumentEdit` for the exact document version the action was listed for; an action
listed for an older version is refused with ContentModified.
"""

from __future__ import annotations

from typing import Any

from lsprotocol import types

from server.convert import to_workspace_edit
from server.fix_service import EditTarget, FixService, data_of
from server.session import CoderevServer


def workspace_edit(ls: CoderevServer, targets: list[EditTarget]) -> types.WorkspaceEdit:
    """The WorkspaceEdit of a fix's files, each at the version it was computed for."""
    return to_workspace_edit([(t.uri, t.version, t.positions, t.edits) for t in targets], ls.encoding)


async def resolve_edit(ls: CoderevServer, data: dict[str, Any]) -> tuple[types.WorkspaceEdit, str]:
    """The edit and title of a listed action (`data.kind`: fix, fixAll or suppress)."""
    service = ls.state(FixService)
    kind = data.get("kind")
    if kind == "fix":
        awaiting = await service.verified_fix(data)
        return workspace_edit(ls, awaiting.targets), f"coderev: {awaiting.title}"
    if kind == "fixAll":
        awaiting = await service.verified_fix_all(data)
        return workspace_edit(ls, awaiting.targets), ""
    if kind == "suppress":
        return workspace_edit(ls, service.suppression(data)), ""
    raise ValueError(f"unknown code action kind {kind!r}")


async def resolve(ls: CoderevServer, action: types.CodeAction) -> types.CodeAction:
    """Fill in the action's edit (the verified fix may come from a later rewriter, so its title too)."""
    data = data_of(action.data)
    if data.get("kind") in ("fix", "fixAll", "suppress"):
        action.edit, title = await resolve_edit(ls, data)
        if title:
            action.title = title
    return action


def register(server: CoderevServer) -> None:
    """Register codeAction/resolve."""
    server.feature(types.CODE_ACTION_RESOLVE)(resolve)

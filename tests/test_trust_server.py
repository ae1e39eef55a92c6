"""The editor's side of the trust rules over the real server: undo stays inside the workspace, and a fix a
crash interrupted is settled when the server starts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from tests.lsp_support import wait_for_diagnostics
from tests.test_actions_lsp import _actions, _session
from tests.test_trust_journal import SHELL, coderev, killed_at

FIXED_LINE = 'subprocess.run(["tar", "czf", "/tmp/out.tgz", folder], check=True)'


@pytest.fixture
def two_folders(tmp_path: Path) -> tuple[Path, Path]:
    """The workspace, and a folder beside it with a legitimately journaled fix of its own."""
    root, other = tmp_path / "ws", tmp_path / "outside"
    for folder in (root, other):
        folder.mkdir()
        (folder / "pyproject.toml").write_text('[project]\nname = "x"\n', encoding="utf-8")
    (other / "archive.py").write_text(SHELL, encoding="utf-8")
    assert coderev("fix", ".", "--apply", cwd=other).returncode == 0
    return root, other


@pytest.mark.parametrize("spelling", ["dot-dot", "beside"])
async def test_undo_refuses_a_uri_that_leaves_the_workspace(lsp: LanguageClient, two_folders: tuple[Path, Path],
                                                            spelling: str):
    root, other = two_folders
    editor = await _session(lsp, root)
    sneaky = f"{root.as_uri()}/../{other.name}/archive.py" if spelling == "dot-dot" else \
        (other / "archive.py").as_uri()
    with pytest.raises(JsonRpcException, match=r"outside the workspace|not in a workspace folder"):
        await lsp.workspace_execute_command_async(types.ExecuteCommandParams(
            command="coderev.undoFix", arguments=[{"uri": sneaky}]))
    assert editor.applied == []
    assert FIXED_LINE in (other / "archive.py").read_text(encoding="utf-8")


async def test_undo_refuses_a_journal_entry_that_leaves_the_workspace(lsp: LanguageClient,
                                                                       two_folders: tuple[Path, Path]):
    root, other = two_folders
    record = json.loads((other / ".coderev" / "history.jsonl").read_text(encoding="utf-8"))
    record["file"] = f"../{other.name}/archive.py"
    (root / ".coderev").mkdir()
    (root / ".coderev" / "history.jsonl").write_text(json.dumps(record) + "\n", encoding="utf-8")
    editor = await _session(lsp, root)
    with pytest.raises(JsonRpcException, match="outside the workspace"):
        await lsp.workspace_execute_command_async(types.ExecuteCommandParams(
            command="coderev.undoFix", arguments=[{"uri": (root / "pyproject.toml").as_uri()}]))
    assert editor.applied == []
    assert FIXED_LINE in (other / "archive.py").read_text(encoding="utf-8")


async def test_the_server_settles_an_interrupted_fix_when_it_starts(lsp: LanguageClient, tmp_path: Path):
    root = tmp_path / "ws"
    (root / "tools").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[project]\nname = "tools"\n', encoding="utf-8")
    (root / "tools" / "archive.py").write_text(SHELL, encoding="utf-8")
    killed_at("commit", root, "tools")
    await _session(lsp, root)
    history = await lsp.workspace_execute_command_async(types.ExecuteCommandParams(
        command="coderev.showHistory", arguments=[{"uri": (root / "tools" / "archive.py").as_uri()}]))
    assert [e["file"] for e in history["entries"]] == ["tools/archive.py"]
    assert not list((root / ".coderev" / "pending").iterdir())


async def test_a_fix_is_not_sent_to_the_editor_without_its_journal_intent(lsp: LanguageClient, tmp_path: Path):
    root, elsewhere = tmp_path / "ws", tmp_path / "elsewhere"
    root.mkdir()
    elsewhere.mkdir()
    (root / ".coderev").symlink_to(elsewhere)
    editor = await _session(lsp, root)
    uri = editor.open(root / "archive.py", SHELL)
    diagnostic = (await wait_for_diagnostics(lsp, uri, version=1)).diagnostics[0]
    fix = next(a for a in await _actions(lsp, uri, diagnostic) if a.kind == types.CodeActionKind.QuickFix)
    with pytest.raises(JsonRpcException, match="cannot write the fix journal, nothing applied"):
        await lsp.workspace_execute_command_async(types.ExecuteCommandParams(
            command="coderev.applyFix", arguments=[fix.data]))
    assert editor.applied == [] and editor.texts[uri] == SHELL
    assert list(elsewhere.iterdir()) == []

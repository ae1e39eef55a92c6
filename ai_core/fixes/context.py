"""What a rewriter sees (FixContext) and what it proposes (Draft), before imports and verification."""

from __future__ import annotations

import logging
import re
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from tree_sitter import Node

from ai_core.analysis.imports import ImportTable, collect_imports
from ai_core.files import SourceError, iter_python_files, read_head
from ai_core.findings import Finding, TextEdit
from ai_core.fixes.imports import Helper, ImportNeeds
from ai_core.parsing import ParsedDocument
from ai_core.parsing.tree import node_at

log = logging.getLogger(__name__)

_IMPORT_LINE = re.compile(rb"^[ \t]*(?:from[ \t]+([A-Za-z_][\w]*)|import[ \t]+([A-Za-z_][\w]*))", re.MULTILINE)
PROJECT_SCAN_MAX_FILES = 3000
PROJECT_SCAN_TTL_S = 300.0
HEAD_BYTES = 16 * 1024


@dataclass
class ProjectInfo:
    """What a fix may want to know about the workspace: the top-level modules it imports."""

    root: Path | None = None
    modules: frozenset[str] = frozenset()
    allowed_hosts: tuple[str, ...] = ()
    """The hosts an SSRF fix lets requests go to: `Settings.allowed_hosts`, filled in by the Fixer."""
    requires_python: str = ""
    """`requires-python` of `[project]` (e.g. ">=3.12"), for fixes that need a newer Python."""

    def min_python(self) -> tuple[int, int] | None:
        """The lowest Python version `requires-python` allows (None when it says nothing usable)."""
        match = re.search(r">=?\s*(\d+)\.(\d+)", self.requires_python)
        return (int(match.group(1)), int(match.group(2))) if match else None

    def uses(self, module: str) -> bool:
        """True when some file of the project imports `module` (top-level name)."""
        return module.split(".")[0] in self.modules


_PROJECT_CACHE: dict[str, tuple[float, ProjectInfo]] = {}


def project_info(root: Path | None, cached_only: bool = False) -> ProjectInfo:
    """Top-level modules imported anywhere under `root` (cached a few minutes; bounded scan of file heads).

    With `cached_only`, never scan: an empty ProjectInfo when nothing is cached (for fast paths).
    """
    if root is None or not root.is_dir():
        return ProjectInfo(root)
    key = str(root.resolve())
    cached = _PROJECT_CACHE.get(key)
    now = time.monotonic()
    if cached is not None and (cached_only or now - cached[0] < PROJECT_SCAN_TTL_S):
        return cached[1]
    if cached_only:
        return ProjectInfo(root)
    modules: set[str] = set()
    count = 0
    for path in iter_python_files(root):
        count += 1
        if count > PROJECT_SCAN_MAX_FILES:
            break
        try:
            data = read_head(path, HEAD_BYTES)  # imports sit at the top
        except SourceError:
            continue
        for match in _IMPORT_LINE.finditer(data):
            modules.add((match.group(1) or match.group(2)).decode("ascii", errors="replace"))
    for name in ("requirements.txt", "pyproject.toml", "setup.cfg"):
        try:
            text = (root / name).read_text(encoding="utf-8", errors="replace").lower()
        except OSError:
            continue
        modules.update(m for m in ("bcrypt", "argon2", "passlib") if m in text)
    info = ProjectInfo(root, frozenset(modules), requires_python=requires_python(root))
    _PROJECT_CACHE[key] = (now, info)
    return info


def requires_python(root: Path) -> str:
    """`requires-python` of the workspace's pyproject.toml `[project]` ("" when it says nothing)."""
    try:
        data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    project = data.get("project", {})
    requires = project.get("requires-python", "") if isinstance(project, dict) else ""
    return requires if isinstance(requires, str) else ""


@dataclass
class Draft:
    """A rewriter's proposal: edits in the original's byte offsets, plus what the engine completes."""

    title: str
    edits: list[TextEdit]
    helpers: list[Helper] = field(default_factory=list)
    drop_imports: list[str] = field(default_factory=list)
    """Local names whose import may have become unused (dropped if so)."""
    env_vars: list[str] = field(default_factory=list)
    """Environment variables the fix reads (documented in `.env.example` when the project has one)."""
    note: str = ""
    """What the user still has to do (e.g. set an environment variable)."""


class FixContext:
    """One finding in one document, with the helpers a rewriter needs."""

    def __init__(self, doc: ParsedDocument, finding: Finding, project: ProjectInfo | None = None) -> None:
        self.doc = doc
        self.finding = finding
        self.project = project or ProjectInfo()
        self.needs = ImportNeeds(doc, self.imports)

    @cached_property
    def imports(self) -> ImportTable:
        """The document's imports."""
        return collect_imports(self.doc)

    @cached_property
    def node(self) -> Node:
        """The smallest node covering the finding's span."""
        return node_at(self.doc, self.finding.span)

    @cached_property
    def sink_node(self) -> Node:
        """The node of the taint path's sink (the finding's node when there is no path)."""
        if self.finding.taint_path is not None:
            sink = self.finding.taint_path.sink
            if sink.path in {"", self.finding.path} or sink.path.endswith(self.finding.path):
                return node_at(self.doc, sink.span)
        return self.node

    @cached_property
    def taint_spans(self) -> list[tuple[int, int]]:
        """Byte ranges of this file's taint-path steps (empty without a path)."""
        path = self.finding.taint_path
        if path is None:
            return []
        return [(s.span.start_byte, s.span.end_byte) for s in path.steps
                if s.path in {"", self.finding.path} or s.path.endswith(self.finding.path)]

    @cached_property
    def tainted_names(self) -> frozenset[str]:
        """Identifiers the taint path assigns or reads in this file."""
        names: set[str] = set()
        for start, end in self.taint_spans:
            chunk = self.doc.data[start:end].decode("utf-8", errors="replace")
            names.update(re.findall(r"[A-Za-z_]\w*", chunk))
        return frozenset(names)

    def is_tainted(self, node: Node) -> bool | None:
        """Whether `node` carries tainted data per the taint path; None when the finding has no path."""
        if not self.taint_spans:
            return None
        if any(start < node.end_byte and node.start_byte < end for start, end in self.taint_spans):
            return True
        own = set(re.findall(r"[A-Za-z_]\w*", self.text(node)))
        return bool(own & self.tainted_names)

    def text(self, node: Node) -> str:
        """Source text of a node."""
        return self.doc.node_text(node)

    def ref(self, module: str, attr: str = "") -> str:
        """How to name `module.attr` here; the import is added if missing."""
        return self.needs.ref(module, attr)

    def qualified(self, dotted: str) -> str:
        """A dotted name as written, resolved through the file's imports (`sp.run` -> `subprocess.run`)."""
        return self.imports.qualify(dotted)

    def uses_module(self, module: str) -> bool:
        """True when this file or the project imports `module`."""
        head = module.split(".")[0]
        return any(target.split(".")[0] == head for target in self.imports.names.values()) or \
            self.project.uses(head)

    def replace(self, node: Node, new_text: str) -> TextEdit:
        """An edit replacing a node's text."""
        return TextEdit(node.start_byte, node.end_byte, new_text)


Rewriter = Callable[[FixContext], Draft | None]

REVIEW_TIER = "review"
"""The tier of findings whose data is not proven to come from outside: only source-independent fixes apply."""


def source_independent(rewriter: Rewriter) -> Rewriter:
    """Mark a rewriter whose fix is right whatever the data's source (bound SQL parameters, argument lists,
    safe_load, weights_only), so it may be offered for review-tier findings; an allowlist is not."""
    rewriter.source_independent = True  # type: ignore[attr-defined]
    return rewriter


def is_source_independent(rewriter: Rewriter) -> bool:
    """True when the rewriter was marked with `source_independent`."""
    return bool(getattr(rewriter, "source_independent", False))


def finding_tier(finding: Finding) -> str:
    """The finding's tier ("flow" when the Finding type has no tier yet)."""
    return str(getattr(finding, "tier", "") or "flow")

"""What the model sees: a finding (code slice around the sink, taint path, called helpers) or a whole function."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ai_core.analysis.project.modules import MAX_MODULE_BYTES
from ai_core.analysis.symbols import FunctionInfo, build_module, function_info
from ai_core.analysis.taint.frameworks import declared_kinds, reads_untrusted_input
from ai_core.files import SourceError, read_source
from ai_core.findings import Finding, Span
from ai_core.parsing import ParsedDocument
from ai_core.parsing.tree import walk

log = logging.getLogger(__name__)

SLICE_CONTEXT_LINES = 6
"""Lines of code kept on each side of a finding."""
FUNCTION_MAX_LINES = 40
"""Function-level mode reads at most this many lines of a function."""
FUNCTION_LEVEL_MAX_PER_FILE = 64
"""At most this many functions of one file are sent to the model in function-level mode."""
FLAG_MARK = "  # <- flagged"
"""Appended to the flagged line of a slice (training data marks its sink line the same way)."""
CONTEXT_MAX_LINES = 10
"""Lines of a called helper's code given to the model as context."""
CONTEXT_MAX_CALLEES = 2
# Function-level mode only asks the model about functions that touch something security relevant.
INTERESTING = re.compile(
    r"execute|cursor|\.raw\(|\.extra\(|text\(|subprocess|os\.system|popen|eval\(|exec\(|request|open\(|"
    r"send_file|FileResponse|pickle|yaml|marshal|jsonpickle|dill|torch\.load|hashlib|jwt|passw|secret|token|"
    r"api_key|session|cookie|origin|verify|ssl|render|Markup|mark_safe|HTMLResponse|HttpResponse|urlopen|"
    r"requests\.|httpx|extract|os\.path|Path\(|chmod|log(?:ger)?\.",
)


@dataclass(frozen=True, slots=True)
class Candidate:
    """One finding (or one function, in function-level mode) rendered as model input."""

    code: str
    taint: str = ""
    context: str = ""
    finding: Finding | None = None
    span: Span | None = None
    """Where a function-level candidate sits (the function's name); None for rule findings."""
    name: str = ""
    """The function's name, for function-level candidates."""
    reads_input: bool = True
    """Function-level: the function reads untrusted input itself (taint.frameworks.reads_untrusted_input)."""

    def render(self, evidence: bool = False) -> str:
        """The text the classifier reads: the engine's evidence (with `evidence`: tier, rule, class) and taint
        path first (so truncation never cuts them), code, context."""
        parts = []
        if evidence and self.finding is not None:
            parts.append(evidence_line(self.finding.tier, self.finding.rule, self.finding.vuln_class.value))
        if self.taint:
            parts.append(f"# taint: {self.taint}")
        parts.append(self.code)
        if self.context:
            parts.append(f"# context:\n{self.context}")
        return "\n".join(parts)


def evidence_line(tier: str, rule: str, vuln_class: str) -> str:
    """The engine's verdict as one comment line of model input: tier ("flow" proven, "review"), rule, class."""
    return f"# evidence: tier={tier}{f' rule={rule}' if rule else ''} class={vuln_class}"


def window(lines: Sequence[str], start_line: int, end_line: int, context_lines: int = SLICE_CONTEXT_LINES) -> str:
    """Lines [start - context, end + context] with the flagged line marked, so the model knows where to look."""
    first = max(0, start_line - context_lines)
    last = min(len(lines) - 1, end_line + context_lines)
    out = [line.rstrip("\r\n") for line in lines[first: last + 1]]
    if first <= start_line <= last:
        out[start_line - first] += FLAG_MARK
    return "\n".join(out)


def code_slice(doc: ParsedDocument, finding: Finding, context_lines: int = SLICE_CONTEXT_LINES,
               lines: Sequence[str] | None = None) -> str:
    """The lines around a finding, its first line marked."""
    return window(doc.text.split("\n") if lines is None else lines, finding.span.start_line, finding.span.end_line,
                  context_lines)


@dataclass(frozen=True, slots=True)
class DocumentContext:
    """What building candidates reads from one document, computed once per document (not once per candidate)."""

    lines: list[str]
    local: dict[str, str]
    """Function texts of the document by name."""
    imported: dict[str, list[Path]]
    """Name bound by an import -> candidate files of the local module it names."""


def document_context(doc: ParsedDocument, path: str) -> DocumentContext:
    """The document's lines, its own function texts and its local imports."""
    text = doc.text
    imported = _local_names(text, Path(path).parent) if path else {}
    return DocumentContext(text.split("\n"), _definitions_of(doc), imported)


def candidate_for(doc: ParsedDocument, finding: Finding, context: DocumentContext | None = None) -> Candidate:
    """The model input for one rule finding: the slice, its taint path, the code of helpers the sink line calls."""
    taint = finding.taint_path.render() if finding.taint_path else ""
    path = finding.path or doc.path or ""
    known = context or document_context(doc, path)
    called = callee_context(doc, finding.span.start_line, finding.span.end_line, path, known)
    return Candidate(code=code_slice(doc, finding, lines=known.lines), taint=taint, context=called, finding=finding)


_FROM_IMPORT = re.compile(r"^[ \t]*from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+(?:\(([^)]*)\)|([^\n#]+))", re.MULTILINE)
_IMPORT = re.compile(r"^[ \t]*import[ \t]+([\w.]+)(?:[ \t]+as[ \t]+(\w+))?", re.MULTILINE)


def _module_files(module: str, base: Path) -> list[Path]:
    """Where a (possibly relative) module may live, nearest first."""
    dots = len(module) - len(module.lstrip("."))
    parts = [p for p in module.lstrip(".").split(".") if p]
    if dots:
        root = base
        for _ in range(dots - 1):
            root = root.parent
        roots = [root]
    else:
        roots = [base, *list(base.parents)[:3]]
    out = []
    for root in roots:
        target = root.joinpath(*parts) if parts else root
        out += [target.with_suffix(".py") if parts else target / "__init__.py", target / "__init__.py"]
    return out


def _local_names(text: str, base: Path) -> dict[str, list[Path]]:
    """Name bound by an import -> candidate files of the local module it names (or defines it)."""
    names: dict[str, list[Path]] = {}
    for match in _FROM_IMPORT.finditer(text):
        module, imported = match.group(1), match.group(2) or match.group(3)
        for name in (n.strip().split(" as ")[-1].strip() for n in imported.split(",")):
            if not name:
                continue
            as_module = _module_files(f"{module}.{name}" if module.strip(".") else module + name, base)
            names[name] = [*as_module, *_module_files(module, base)]
    for match in _IMPORT.finditer(text):
        module = match.group(1)
        names[match.group(2) or module.split(".")[0]] = _module_files(module, base)
    return names


@functools.lru_cache(maxsize=256)
def _definitions(path: str, mtime_ns: int) -> dict[str, str]:
    """Top-level and method function texts of one file (by name), dedented and capped."""
    try:
        doc = ParsedDocument(read_source(Path(path), MAX_MODULE_BYTES), path=path)
    except SourceError:
        return {}
    return _definitions_of(doc)


def _definitions_of(doc: ParsedDocument) -> dict[str, str]:
    out: dict[str, str] = {}
    for func in (n for n in walk(doc.tree.root_node) if n.type == "function_definition"):
        name_node = func.child_by_field_name("name")  # type: ignore[attr-defined]
        if name_node is None:
            continue
        col = func.start_point[1]  # type: ignore[attr-defined]
        lines = doc.node_text(func).split("\n")
        lines = [line[col:] if line[:col].isspace() else line for line in lines]
        out.setdefault(doc.node_text(name_node), "\n".join(lines[:CONTEXT_MAX_LINES]))
    return out


def _file_definitions(candidates: Sequence[Path]) -> dict[str, str]:
    for path in candidates:
        try:
            stat = path.stat()
        except OSError:
            continue
        if path.is_file():
            return _definitions(str(path), stat.st_mtime_ns)
    return {}


def _callees(node: object, first: int, last: int) -> Iterator[object]:
    stack = [node]
    while stack:
        current = stack.pop()
        start, end = current.start_point[0], current.end_point[0]  # type: ignore[attr-defined]
        if end < first or start > last:
            continue
        if current.type == "call" and first <= start <= last:  # type: ignore[attr-defined]
            yield current.child_by_field_name("function")  # type: ignore[attr-defined]
        stack.extend(reversed(current.children))  # type: ignore[attr-defined]


def callee_context(doc: ParsedDocument, first: int, last: int, path: str,
                   context: DocumentContext | None = None) -> str:
    """Code of project functions called on lines [first, last]: same file or local modules (retrieved context)."""
    try:
        known = context or document_context(doc, path)
        local, imported = known.local, known.imported
        found: list[str] = []
        for func in _callees(doc.tree.root_node, first, last):
            if func is None:
                continue
            text = doc.node_text(func)
            head, _, attr = text.rpartition(".")
            if not head and attr in local and not _defines(known.lines, attr, first, last):
                found.append(local[attr])
            elif head and "." not in head and head in imported:
                body = _file_definitions(imported[head]).get(attr)
                if body:
                    found.append(body)
            elif not head and attr in imported:
                body = _file_definitions(imported[attr]).get(attr)
                if body:
                    found.append(body)
            if len(found) >= CONTEXT_MAX_CALLEES:
                break
        return "\n".join(dict.fromkeys(found))
    except Exception:  # context is a bonus: never let it break scoring
        log.debug("no context for %s:%d", path, first + 1, exc_info=True)
        return ""


def _defines(lines: Sequence[str], name: str, first: int, last: int) -> bool:
    """True when `name` is defined inside lines [first, last] (recursion, or the slice is the function)."""
    return any(line.lstrip().startswith((f"def {name}(", f"async def {name}("))
               for line in lines[first: last + 1])


def function_candidates(doc: ParsedDocument, findings: Sequence[Finding]) -> list[Candidate]:
    """Function-level inputs: security-relevant functions of `doc` in which no rule fired."""
    flagged = [f.span for f in findings]
    module = build_module(doc, doc.path or "<document>", doc.path or "", None)
    known = {info.node.start_byte: info for info in module.functions.values()}
    kinds = declared_kinds(module)
    known_context = document_context(doc, doc.path or "")
    out: list[Candidate] = []
    for func in (n for n in walk(doc.tree.root_node) if n.type == "function_definition"):
        span = Span.of_node(func)
        if any(span.contains(s) for s in flagged):
            continue
        text = doc.node_text(func)
        start_col = span.start_col
        lines = [line[start_col:] if line[:start_col].isspace() else line for line in text.split("\n")]
        body = "\n".join(lines[:FUNCTION_MAX_LINES])
        if not INTERESTING.search(body):
            continue
        name_node = func.child_by_field_name("name")  # type: ignore[attr-defined]
        name = doc.node_text(name_node) if name_node is not None else "<lambda>"
        decorated = func.parent  # type: ignore[attr-defined]
        decorators = [d for d in decorated.children if d.type == "decorator"] \
            if decorated is not None and decorated.type == "decorated_definition" else []
        if decorators:
            body = "\n".join([*(doc.node_text(d) for d in decorators), body])
        context = callee_context(doc, span.start_line, span.end_line, doc.path or "", known_context)
        info: FunctionInfo = known.get(span.start_byte) or function_info(module, func, decorators, None)  # type: ignore[arg-type]
        reads_input = reads_untrusted_input(module, info, kinds)
        out.append(Candidate(code=body, context=context, name=name, reads_input=reads_input,
                             span=Span.of_node(name_node) if name_node is not None else span))
        if len(out) >= FUNCTION_LEVEL_MAX_PER_FILE:
            break
    return out

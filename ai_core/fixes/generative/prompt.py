"""What the generative fixer asks for (the enclosing function and the finding) and how its answer is spliced in."""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass

from ai_core.findings import Finding, TextEdit
from ai_core.fixes.imports import Import, insertion_edits
from ai_core.fixes.layout import line_end, line_start
from ai_core.fixes.text import apply_edits_bytes
from ai_core.parsing import ParsedDocument
from ai_core.parsing.tree import enclosing_function, node_at, statement_of

SYSTEM = ("You fix security vulnerabilities in Python code. Reply with the corrected code only, in one "
          "```python block: the same function (or statement) rewritten, keeping its name, signature and "
          "formatting. Put any import the fix needs on the first lines of the block.")
_FENCE = re.compile(r"```(?:python|py)?[ \t]*\n(.*?)(?:```|\Z)", re.DOTALL)
_IMPORT = re.compile(r"^(?:import\s+([\w.]+)(?:\s+as\s+(\w+))?|from\s+([\w.]+)\s+import\s+(\w+)(?:\s+as\s+(\w+))?)\s*$")
MAX_REGION_LINES = 120


@dataclass(frozen=True, slots=True)
class Region:
    """The lines the model rewrites: byte range (whole lines) and their indentation."""

    start: int
    end: int
    indent: str
    text: str


def region_for(doc: ParsedDocument, finding: Finding) -> Region | None:
    """The enclosing function of the finding (or its statement at module level); None when too large."""
    node = node_at(doc, finding.span)
    target = enclosing_function(node, include_decorators=True)
    if target is None:
        target = statement_of(node)
    start = line_start(doc, target.start_byte)
    end = line_end(doc, target.end_byte)
    text = doc.data[start:end].decode("utf-8", errors="surrogatepass")
    if text.count("\n") + 1 > MAX_REGION_LINES:
        return None
    first = text.splitlines()[0] if text else ""
    return Region(start, end, first[: len(first) - len(first.lstrip())], text)


def build_messages(doc: ParsedDocument, finding: Finding, region: Region) -> list[dict[str, str]]:
    """Chat messages for one finding (OpenAI format)."""
    lines = [f"Vulnerability: {finding.vuln_class.title} (CWE-{finding.cwe}), rule {finding.rule}.",
             f"Problem: {finding.message}",
             f"Flagged code (line {finding.span.start_line + 1}): {finding.snippet.strip()[:300]}"]
    if finding.taint_path is not None:
        lines.append(f"Data flow: {finding.taint_path.render()}")
    lines.append("Code to fix:")
    lines.append(f"```python\n{textwrap.dedent(region.text)}\n```")
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "\n".join(lines)}]


def render_plain(messages: list[dict[str, str]]) -> str:
    """A plain-text prompt for models without a chat template."""
    parts = [f"### {m['role'].capitalize()}\n{m['content']}\n" for m in messages]
    return "".join(parts) + "### Assistant\n"


def extract_code(answer: str) -> str | None:
    """The code of the first fenced block (or the whole answer when it has no fence)."""
    match = _FENCE.search(answer)
    code = match.group(1) if match else answer
    code = code.strip("\n")
    return code if code.strip() else None


def splice(doc: ParsedDocument, region: Region, code: str) -> str | None:
    """The document with the region replaced by `code` (re-indented); leading imports go to the import block."""
    lines = code.splitlines()
    imports: list[Import] = []
    while lines and (_IMPORT.match(lines[0].strip()) or not lines[0].strip()):
        match = _IMPORT.match(lines[0].strip())
        if match:
            if match.group(1):
                imports.append(Import(match.group(1), alias=""))
            else:
                imports.append(Import(match.group(3), match.group(4), match.group(5) or ""))
        lines.pop(0)
    body = textwrap.dedent("\n".join(lines)).strip("\n")
    if not body:
        return None
    newline = "\r\n" if b"\r\n" in doc.data[:region.end + 2] else "\n"
    indented = textwrap.indent(body, region.indent).replace("\n", newline) if region.indent else \
        body.replace("\n", newline)
    edits = [TextEdit(region.start, region.end, indented)]
    edits.extend(e for e in insertion_edits(doc, imports) if not (region.start <= e.start_byte < region.end))
    try:
        return apply_edits_bytes(doc.data, edits).decode("utf-8", errors="surrogatepass")
    except ValueError:
        return None

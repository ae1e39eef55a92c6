"""Jupyter notebooks as Python: code cells joined into one source (magics and shell lines neutralised so it
parses), and positions in that source mapped back to (cell, line).

The cells share one namespace when run, so they are analysed together: data that enters in one cell and
reaches a sink in another is a flow. Neutralising keeps every line's byte length, so a span inside a cell
maps to the cell's own text exactly.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from ai_core.findings import Finding, Span, TaintPath

NOTEBOOK_SUFFIX = ".ipynb"
PYTHON_BODY_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug", "memit"})
"""Cell magics whose body is still Python (only the `%%` line is neutralised); others blank the cell, except
`%%writefile NAME.py`, whose body is the Python file it writes."""

_SHELL_ASSIGNMENT = re.compile(r"^\s*[\w.,\s]+=\s*[!%]")  # files = !ls, t = %timeit -o f()
_HELP = re.compile(r"^\s*[\w.]+\?{1,2}\s*$")  # obj? and obj??


@dataclass(frozen=True, slots=True)
class Cell:
    """One code cell's place in the joined source."""

    number: int
    """1-based position among all the notebook's cells (markdown included), as an editor shows them."""
    start_line: int
    start_byte: int
    line_count: int
    key: str = ""
    """The cell's identity for the caller (its id, or its document uri in the editor)."""


@dataclass(frozen=True, slots=True)
class NotebookSource:
    """The joined, neutralised Python source of a notebook's code cells, and where each cell lies in it."""

    text: str
    cells: tuple[Cell, ...]

    def cell_at(self, line: int) -> Cell | None:
        """The code cell holding 0-based `line` of the joined source."""
        starts = [cell.start_line for cell in self.cells]
        at = bisect.bisect_right(starts, line) - 1
        if at < 0:
            return None
        cell = self.cells[at]
        return cell if line < cell.start_line + max(cell.line_count, 1) else None

    def locate(self, line: int) -> tuple[int, int]:
        """(cell number, 0-based line in that cell) of a 0-based line of the joined source."""
        cell = self.cell_at(line)
        if cell is None:
            return 0, line
        return cell.number, line - cell.start_line

    def relabel(self, finding: Finding) -> Finding:
        """The finding with the "from line N" of its message told as "from cell C, line L"."""
        taint = finding.taint_path
        if taint is None or taint.source.path != finding.path:
            return finding
        line = taint.source.span.start_line
        number, local = self.locate(line)
        old = f"from line {line + 1}"
        if not number or old not in finding.message:
            return finding
        return replace(finding, message=finding.message.replace(old, f"from cell {number}, line {local + 1}", 1))

    def to_cell(self, finding: Finding) -> tuple[Cell, Finding] | None:
        """The cell of a finding, and the finding with spans relative to that cell (taint steps in this
        notebook get their own cell's key as path)."""
        cell = self.cell_at(finding.span.start_line)
        if cell is None:
            return None
        path = finding.path
        taint = finding.taint_path
        if taint is not None:
            steps = []
            for step in taint.steps:
                step_cell = self.cell_at(step.span.start_line) if step.path == path else None
                steps.append(step if step_cell is None else
                             replace(step, path=step_cell.key, span=_shift(step.span, step_cell)))
            taint = TaintPath(tuple(steps))
        return cell, replace(self.relabel(finding), span=_shift(finding.span, cell), taint_path=taint)


def _shift(span: Span, cell: Cell) -> Span:
    return Span(span.start_byte - cell.start_byte, span.end_byte - cell.start_byte,
                span.start_line - cell.start_line, span.start_col,
                span.end_line - cell.start_line, span.end_col)


def _comment_out(line: str, at: int) -> str:
    """`line` with the character at `at` replaced by `#` (padded so the UTF-8 length stays the same)."""
    width = len(line[at].encode("utf-8"))
    return line[:at] + "#" + " " * (width - 1) + line[at + 1:]


def _blank(line: str) -> str:
    body = line.rstrip("\r\n")
    size = len(body.encode("utf-8"))
    return ("#" + " " * (size - 1) if size else "") + line[len(body):]


def neutralise(source: str) -> str:
    """A cell's source with IPython magics, shell escapes and help syntax commented out (same byte layout)."""
    lines = source.splitlines(keepends=True)
    if not lines:
        return source
    first = lines[0].lstrip()
    if first.startswith("%%"):
        words = first[2:].split()
        magic = words[0] if words else ""
        writes_python = magic == "writefile" and bool(words) and words[-1].endswith(".py")
        if magic not in PYTHON_BODY_CELL_MAGICS and not writes_python:
            return "".join(_blank(line) for line in lines)
    out = []
    for line in lines:
        body = line.rstrip("\r\n")
        stripped = body.lstrip()
        indent = len(body) - len(stripped)
        if stripped.startswith(("%", "!", "?")) or _HELP.match(body) or _SHELL_ASSIGNMENT.match(body):
            line = _comment_out(line, indent)
        out.append(line)
    return "".join(out)


def join_cells(cells: Sequence[tuple[int, str, str]]) -> NotebookSource:
    """Join code cells given as (number, key, source) into one neutralised source."""
    parts: list[str] = []
    placed: list[Cell] = []
    line = byte = 0
    for number, key, source in cells:
        text = neutralise(source)
        if text and not text.endswith("\n"):
            text += "\n"
        count = text.count("\n")
        placed.append(Cell(number, line, byte, count, key))
        parts.append(text)
        line += count
        byte += len(text.encode("utf-8"))
    return NotebookSource("".join(parts), tuple(placed))


def read_notebook(text: str) -> NotebookSource:
    """The code cells of a notebook file's JSON text; raise ValueError when it is not a notebook."""
    import nbformat  # only scans that meet a notebook pay for it

    try:
        notebook = nbformat.reads(text, as_version=nbformat.NO_CONVERT)
        if notebook.get("nbformat", 4) < 4:
            notebook = nbformat.convert(notebook, 4)
    except Exception as exc:  # nbformat raises several kinds for malformed files
        raise ValueError(f"not a readable notebook: {exc}") from exc
    language = str(notebook.get("metadata", {}).get("kernelspec", {}).get("language", "python")).lower()
    if language != "python":
        return NotebookSource("", ())
    code = [(number, str(cell.get("id", number)), _source_of(cell))
            for number, cell in enumerate(notebook.get("cells", []), start=1)
            if cell.get("cell_type") == "code"]
    return join_cells(code)


def _source_of(cell: dict[str, object]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)

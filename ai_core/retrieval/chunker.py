"""Cutting Python files into retrieval chunks along the tree-sitter syntax tree.

Each function, method and class becomes a chunk (a class chunk holds its header and class-level
statements; its methods are chunks of their own). Module-level statements between definitions are
grouped into `module` chunks. A function longer than `MAX_CHUNK_LINES` is split along its top-level
statements into contiguous parts; a file that does not parse falls back to fixed line windows.
Chunk texts are exact source lines; lines are 1-based and inclusive.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from tree_sitter import Node, Query, QueryCursor

from ai_core.parsing import parse_python
from ai_core.parsing.document import python_language
from ai_core.retrieval.chunks import KINDS, Chunk, content_hash, module_name

log = logging.getLogger(__name__)

MAX_CHUNK_LINES = 60
"""A definition longer than this is split into parts."""
PART_LINES = 40
"""Target length of the parts of a split definition and of line windows."""

_DEFINITIONS = ("function_definition", "class_definition")
_QUERY = Query(python_language(), "(call function: (_) @call) (identifier) @id")


@dataclass
class _File:
    """Per-file state while chunking: the source lines and the calls/identifiers found by one query."""

    path: str
    data: bytes
    lines: list[str]
    imports: dict[str, str]
    call_starts: list[int] = field(default_factory=list)
    call_names: list[str] = field(default_factory=list)
    ident_starts: list[int] = field(default_factory=list)
    ident_names: list[str] = field(default_factory=list)
    line_offsets: list[int] = field(default_factory=lambda: [0])
    chunks: list[Chunk] = field(default_factory=list)

    def byte_of(self, row: int) -> int:
        """The byte offset where 0-based `row` starts (the end of the data past the last row)."""
        return self.line_offsets[min(row, len(self.line_offsets) - 1)]

    def text(self, first: int, last: int) -> str:
        """Source lines first..last (0-based, inclusive)."""
        return "".join(self.lines[first : last + 1]).rstrip("\n")

    def node_text(self, node: Node) -> str:
        """The source of a node."""
        return self.data[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def calls_in(self, start: int, end: int) -> tuple[str, ...]:
        """Distinct call names whose call starts in [start, end) bytes, in source order."""
        lo, hi = bisect.bisect_left(self.call_starts, start), bisect.bisect_left(self.call_starts, end)
        return tuple(dict.fromkeys(self.call_names[lo:hi]))

    def imports_in(self, start: int, end: int) -> tuple[str, ...]:
        """Qualified imports whose bound names are used in [start, end) bytes."""
        lo, hi = bisect.bisect_left(self.ident_starts, start), bisect.bisect_left(self.ident_starts, end)
        used = dict.fromkeys(self.ident_names[lo:hi])
        return tuple(self.imports[name] for name in used if name in self.imports)


def chunk_source(path: str, source: str | bytes) -> list[Chunk]:
    """The chunks of one Python file (`path` is relative, with forward slashes)."""
    data = source.encode("utf-8", "surrogatepass") if isinstance(source, str) else source
    raw_lines = data.split(b"\n")
    if raw_lines and not raw_lines[-1]:
        raw_lines.pop()
    if not raw_lines:
        return []
    lines = [line.decode("utf-8", "replace") + "\n" for line in raw_lines]
    try:
        tree = parse_python(data)
    except Exception:  # tree-sitter gives up only on pathological input
        log.warning("cannot parse %s; indexing it by line windows", path, exc_info=True)
        return line_windows(path, lines)
    root = tree.root_node
    if root.has_error:
        log.info("%s has syntax errors; indexing it by line windows", path)
        return line_windows(path, lines)
    file = _File(path, data, lines, _module_imports(data, root))
    for line in raw_lines:
        file.line_offsets.append(file.line_offsets[-1] + len(line) + 1)
    # byte offsets index the data; the line list indexes the decoded text: both use tree-sitter rows
    for name, nodes in sorted(QueryCursor(_QUERY).captures(root).items()):
        for node in sorted(nodes, key=lambda n: n.start_byte):
            if name == "call":
                dotted = _dotted(file, node)
                if dotted:
                    file.call_starts.append(node.start_byte)
                    file.call_names.append(dotted)
            else:
                file.ident_starts.append(node.start_byte)
                file.ident_names.append(file.node_text(node))
    _container(file, root, prefix="", in_class=False)
    return sorted(file.chunks, key=lambda c: (c.start_line, c.end_line))


def line_windows(path: str, lines: list[str], size: int = PART_LINES) -> list[Chunk]:
    """Fixed windows of `size` lines (the fallback for files that do not parse)."""
    chunks = []
    name = module_name(path)
    for first in range(0, len(lines), size):
        last = min(len(lines), first + size) - 1
        text = "".join(lines[first : last + 1]).rstrip("\n")
        if text.strip():
            chunks.append(Chunk(path, "window", name, first + 1, last + 1, text,
                                scope_start=first + 1, scope_end=last + 1))
    return chunks


def _container(file: _File, block: Node, prefix: str, in_class: bool, header: Node | None = None) -> None:
    """Chunk the statements of a module or class body: definitions alone, other statements in runs."""
    run: list[Node] = []
    first_run = True

    def flush() -> None:
        nonlocal first_run
        if run or (header is not None and first_run):
            _emit_run(file, run, prefix, in_class, header if first_run else None)
            first_run = False
        run.clear()

    for child in block.named_children:
        definition = child.child_by_field_name("definition") if child.type == "decorated_definition" else child
        if definition is not None and definition.type in _DEFINITIONS:
            flush()
            if definition.type == "class_definition":
                _class(file, child, definition, prefix)
            else:
                _function(file, child, definition, prefix, in_class)
        else:
            run.append(child)
    flush()


def _class(file: _File, outer: Node, definition: Node, prefix: str) -> None:
    name_node = definition.child_by_field_name("name")
    qualified = prefix + (file.node_text(name_node) if name_node is not None else "<class>")
    body = definition.child_by_field_name("body")
    scope = (outer.start_point[0], outer.end_point[0])
    before = len(file.chunks)
    if body is None:
        _emit_run(file, [], qualified, True, outer)
        return
    _container(file, body, qualified + ".", in_class=True, header=outer)
    # the class's own chunks (header, attributes) get its full extent and its method names
    methods = tuple(c.name.rsplit(".", 1)[-1] for c in file.chunks[before:]
                    if c.kind == "method" and c.name.rsplit(".", 1)[0] == qualified)
    for index in range(before, len(file.chunks)):
        chunk = file.chunks[index]
        if chunk.kind == "class" and chunk.name == qualified:
            file.chunks[index] = Chunk(
                chunk.path, chunk.kind, chunk.name, chunk.start_line, chunk.end_line, chunk.text,
                tuple(dict.fromkeys((qualified.rsplit(".", 1)[-1], *chunk.symbols, *methods))),
                chunk.imports, chunk.calls, scope[0] + 1, scope[1] + 1, chunk.part)


def _emit_run(file: _File, run: list[Node], prefix: str, in_class: bool, header: Node | None) -> None:
    """Chunks for a run of non-definition statements (with the class header, when it starts a class)."""
    if in_class:
        kind, name = "class", prefix.rstrip(".")
    else:
        kind, name = "module", module_name(file.path)
    if header is not None:
        start = header.start_point[0]
        body = header.child_by_field_name("definition") or header
        block = body.child_by_field_name("body")
        header_end = (block.start_point[0] - 1 if block is not None and block.start_point[0] > start
                      else start)
        end = max([header_end, *(node.end_point[0] for node in run)])
        groups = _split([*run], start, end) if run else [(start, end, start, end)]
    else:
        if not run:
            return
        groups = _split(run, run[0].start_point[0], run[-1].end_point[0])
    byte_of = file.byte_of
    for index, (first, last, scope_first, scope_last) in enumerate(groups):
        text = file.text(first, last)
        if not text.strip():
            continue
        start_b, end_b = byte_of(first), byte_of(last + 1)
        symbols = _assigned_names(file, [n for n in run if first <= n.start_point[0] <= last])
        file.chunks.append(Chunk(
            file.path, kind, name, first + 1, last + 1, text, symbols,
            tuple(dict.fromkeys(file.imports_in(start_b, end_b) + _own_imports(file, run, first, last))),
            file.calls_in(start_b, end_b), scope_first + 1, scope_last + 1,
            index + 1 if len(groups) > 1 else 0))


def _function(file: _File, outer: Node, definition: Node, prefix: str, in_class: bool) -> None:
    name_node = definition.child_by_field_name("name")
    short = file.node_text(name_node) if name_node is not None else "<function>"
    name = prefix + short
    kind = "method" if in_class else "function"
    start, end = outer.start_point[0], outer.end_point[0]
    body = definition.child_by_field_name("body")
    statements = list(body.named_children) if body is not None else []
    groups = [(start, end, start, end)]
    if end - start + 1 > MAX_CHUNK_LINES and statements:
        groups = _split(statements, start, end)
    byte_of = file.byte_of
    for index, (first, last, scope_first, scope_last) in enumerate(groups):
        start_b, end_b = byte_of(first), byte_of(last + 1)
        file.chunks.append(Chunk(
            file.path, kind, name, first + 1, last + 1, file.text(first, last), (short,),
            file.imports_in(start_b, end_b), file.calls_in(start_b, end_b), scope_first + 1, scope_last + 1,
            index + 1 if len(groups) > 1 else 0))


def _split(statements: list[Node], start: int, end: int) -> list[tuple[int, int, int, int]]:
    """Contiguous line groups covering start..end, cut before statements, about PART_LINES each.

    Returns (first, last, scope_first, scope_last) 0-based rows; a statement longer than
    MAX_CHUNK_LINES on its own is cut into line windows.
    """
    if end - start + 1 <= MAX_CHUNK_LINES:
        return [(start, end, start, end)]
    cuts = [start]
    for node in statements:
        row = node.start_point[0]
        if row > cuts[-1] and row - cuts[-1] >= PART_LINES:
            cuts.append(row)
        if node.end_point[0] - max(row, cuts[-1]) + 1 > MAX_CHUNK_LINES:  # one huge statement: windows
            first = max(row, cuts[-1])
            if first > cuts[-1]:
                cuts.append(first)
            cuts.extend(range(first + PART_LINES, node.end_point[0] + 1, PART_LINES))
    groups = []
    for index, first in enumerate(cuts):
        last = cuts[index + 1] - 1 if index + 1 < len(cuts) else end
        if last >= first:
            groups.append((first, last, start, end))
    return groups


def _assigned_names(file: _File, nodes: Iterable[Node]) -> tuple[str, ...]:
    """Names defined at this level: assignment targets, definitions nested in if/try blocks (not imports)."""
    names: list[str] = []
    stack = list(nodes)
    while stack:
        node = stack.pop(0)
        kind = node.type
        if kind == "expression_statement":
            stack[:0] = node.named_children
        elif kind in ("assignment", "augmented_assignment"):
            left = node.child_by_field_name("left")
            if left is not None:
                names.extend(_target_names(file, left))
        elif kind in _DEFINITIONS:
            name_node = node.child_by_field_name("name")
            if name_node is not None:
                names.append(file.node_text(name_node))
        elif kind == "decorated_definition":
            definition = node.child_by_field_name("definition")
            if definition is not None:
                stack.insert(0, definition)
        elif kind in ("if_statement", "try_statement", "with_statement", "block", "else_clause",
                      "elif_clause", "except_clause", "finally_clause"):
            stack[:0] = node.named_children
    return tuple(dict.fromkeys(names))


def _target_names(file: _File, node: Node) -> list[str]:
    if node.type == "identifier":
        return [file.node_text(node)]
    if node.type in ("pattern_list", "tuple_pattern", "list_pattern"):
        return [name for child in node.named_children for name in _target_names(file, child)]
    return []


def _own_imports(file: _File, run: list[Node], first: int, last: int) -> tuple[str, ...]:
    """Imports made by the statements of a module run (also when their names are never used)."""
    out: list[str] = []
    for node in run:
        if first <= node.start_point[0] <= last and node.type in ("import_statement", "import_from_statement"):
            out.extend(_import_bindings(file.data, node).values())
    return tuple(dict.fromkeys(out))


def _module_imports(data: bytes, root: Node) -> dict[str, str]:
    """Local name -> qualified name for the module's top-level imports."""
    table: dict[str, str] = {}
    for node in root.named_children:
        if node.type in ("import_statement", "import_from_statement"):
            table.update(_import_bindings(data, node))
    return table


def _import_bindings(data: bytes, node: Node) -> dict[str, str]:
    """Names bound by one import statement, mapped to what they refer to."""

    def text(n: Node) -> str:
        return data[n.start_byte : n.end_byte].decode("utf-8", "replace")

    out: dict[str, str] = {}
    if node.type == "import_statement":
        for child in node.named_children:
            if child.type == "aliased_import":
                name, alias = child.child_by_field_name("name"), child.child_by_field_name("alias")
                if name is not None and alias is not None:
                    out[text(alias)] = text(name)
            elif child.type == "dotted_name":
                full = text(child)
                out.setdefault(full.split(".")[0], full)
    elif node.type == "import_from_statement":
        module = node.child_by_field_name("module_name")
        base = text(module) if module is not None else ""
        for child in node.children_by_field_name("name"):
            if child.type == "aliased_import":
                name, alias = child.child_by_field_name("name"), child.child_by_field_name("alias")
                if name is not None and alias is not None:
                    out[text(alias)] = f"{base}.{text(name)}"
            else:
                local = text(child)
                out[local.split(".")[-1]] = f"{base}.{local}"
    return out


def _dotted(file: _File, node: Node) -> str | None:
    """`a.b.c` for identifier/attribute chains, else None."""
    if node.type == "identifier":
        return file.node_text(node)
    if node.type == "attribute":
        obj, attr = node.child_by_field_name("object"), node.child_by_field_name("attribute")
        if obj is None or attr is None:
            return None
        base = _dotted(file, obj)
        return f"{base}.{file.node_text(attr)}" if base else None
    return None


__all__ = ["KINDS", "MAX_CHUNK_LINES", "PART_LINES", "Chunk", "chunk_source", "content_hash", "line_windows",
           "module_name"]

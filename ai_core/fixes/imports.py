"""Imports a fix needs: resolved against the file's own imports, added once, in isort order; unused ones dropped."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tree_sitter import Node

from ai_core.analysis.imports import ImportTable, collect_imports
from ai_core.findings import TextEdit
from ai_core.fixes.layout import line_end, newline_of
from ai_core.fixes.names import all_identifiers, defined_names
from ai_core.parsing import ParsedDocument

SECTIONS = ("future", "stdlib", "thirdparty", "firstparty", "local")
IMPORT_TYPES = frozenset({"import_statement", "import_from_statement", "future_import_statement"})


@dataclass(frozen=True, slots=True, order=True)
class Import:
    """One import line a fix needs: `import module` or `from module import name`."""

    module: str
    name: str = ""
    alias: str = ""

    @property
    def is_from(self) -> bool:
        """True for `from module import name`."""
        return bool(self.name)

    def render(self) -> str:
        """The import statement's text."""
        if not self.name:
            return f"import {self.module}"
        suffix = f" as {self.alias}" if self.alias else ""
        return f"from {self.module} import {self.name}{suffix}"

    def member(self) -> str:
        """`name` or `name as alias`, as it appears in a from-import's list."""
        return f"{self.name} as {self.alias}" if self.alias else self.name


def section_of(module: str, root: Path | None) -> str:
    """isort section of a module: future, stdlib, thirdparty, firstparty or local (relative)."""
    if module == "__future__":
        return "future"
    if module.startswith("."):
        return "local"
    head = module.split(".")[0]
    if head in sys.stdlib_module_names:
        return "stdlib"
    if root is not None and ((root / head).is_dir() or (root / f"{head}.py").is_file()):
        return "firstparty"
    return "thirdparty"


def _sort_key(imp_is_from: bool, module: str) -> tuple[bool, str, str]:
    return (imp_is_from, module.lower(), module)


@dataclass
class _Existing:
    node: Node
    module: str
    is_from: bool
    section: str


class ImportNeeds:
    """Collects the imports a fix needs and hands back the name to write in code for each."""

    def __init__(self, doc: ParsedDocument, table: ImportTable | None = None) -> None:
        self.doc = doc
        self.table = table if table is not None else collect_imports(doc)
        self.needed: list[Import] = []
        self._taken = all_identifiers(doc)

    def ref(self, module: str, attr: str = "") -> str:
        """The expression naming `module.attr` (or `module`) in this file, recording the import it needs."""
        names = self.table.names
        if not attr:
            for local, target in names.items():
                if target == module and "." not in module:
                    return local
            self._need(Import(module))
            return module
        for local, target in names.items():
            if target == f"{module}.{attr}":
                return local
        for local, target in names.items():
            if target == module and "." not in module:
                return f"{local}.{attr}"
        if module == "os.path":
            for local, target in names.items():
                if target == "os":
                    return f"{local}.path.{attr}"
            if "os" not in self._taken or "os" in names:
                self._need(Import("os"))
                return f"os.path.{attr}"
        if "." not in module and module in sys.stdlib_module_names and (
            module not in self._taken or names.get(module) == module or Import(module) in self.needed
        ):
            self._need(Import(module))
            return f"{module}.{attr}"
        if attr not in self._taken or any(i.name == attr and i.module == module for i in self.needed):
            self._need(Import(module, attr))
            return attr
        alias = f"{module.split('.')[-1]}_{attr}"
        self._need(Import(module, attr, alias))
        return alias

    def _need(self, imp: Import) -> None:
        if imp not in self.needed:
            self.needed.append(imp)
            self._taken.add(imp.alias or imp.name or imp.module.split(".")[0])


def _existing(doc: ParsedDocument, root: Path | None) -> list[_Existing]:
    """The module's top-level import block (consecutive imports, from the first one)."""
    found: list[_Existing] = []
    started = False
    for child in doc.tree.root_node.named_children:
        if child.type in IMPORT_TYPES:
            started = True
            if child.type == "future_import_statement":
                found.append(_Existing(child, "__future__", True, "future"))
                continue
            module_node = child.child_by_field_name("module_name")
            if child.type == "import_from_statement" and module_node is not None:
                module = doc.node_text(module_node)
                found.append(_Existing(child, module, True, section_of(module, root)))
            else:
                first = child.named_children[0] if child.named_children else None
                if first is not None and first.type == "aliased_import":
                    first = first.child_by_field_name("name")
                module = doc.node_text(first) if first is not None else ""
                found.append(_Existing(child, module, False, section_of(module, root)))
        elif child.type == "comment" or (started is False and _is_docstring(child)):
            continue
        elif started:
            break
    return found


def _is_docstring(node: Node) -> bool:
    return node.type == "expression_statement" and node.named_child_count == 1 and \
        node.named_children[0].type in {"string", "concatenated_string"}


def _line_after(doc: ParsedDocument, node: Node) -> int:
    end = line_end(doc, node.end_byte)
    nl = doc.data.find(b"\n", end)
    return len(doc.data) if nl == -1 else nl + 1


def _line_begin(doc: ParsedDocument, node: Node) -> int:
    return doc.data.rfind(b"\n", 0, node.start_byte) + 1


def _header_end(doc: ParsedDocument) -> tuple[int, bool]:
    """Where imports go in a file without any: after shebang/comments and the docstring."""
    offset = 0
    after_docstring = False
    for child in doc.tree.root_node.children:
        if child.type == "comment" and child.start_point[0] == doc.positions.point_at(offset)[0]:
            offset = _line_after(doc, child)
            continue
        if _is_docstring(child):
            offset = _line_after(doc, child)
            after_docstring = True
        break
    return offset, after_docstring


def _member_key(member: str) -> tuple[int, str]:
    """isort's order-by-type: CONSTANTS, then Classes, then everything else."""
    name = member.split(" as ")[0].strip()
    kind = 0 if name.isupper() and len(name) > 1 else 1 if name[:1].isupper() else 2
    return kind, name.lower()


def _extend_from(doc: ParsedDocument, node: Node, imp: Import) -> TextEdit | None:
    """Add `imp`'s member to an existing `from module import ...` in sorted position."""
    members = node.children_by_field_name("name")
    if not members:
        return None
    new = imp.member()
    for member in members:
        if _member_key(doc.node_text(member)) > _member_key(new):
            return TextEdit(member.start_byte, member.start_byte, f"{new}, ")
    return TextEdit(members[-1].end_byte, members[-1].end_byte, f", {new}")


def insertion_edits(doc: ParsedDocument, imports: list[Import], root: Path | None = None) -> list[TextEdit]:
    """Edits adding `imports` to the file, each once, merged into existing from-imports or in isort order."""
    nl = newline_of(doc)
    existing = _existing(doc, root)
    table = collect_imports(doc)
    points: dict[int, list[str]] = {}
    new_sections: dict[str, list[Import]] = {}
    edits: list[TextEdit] = []
    seen: set[Import] = set()
    for imp in sorted(set(imports), key=lambda i: (*_sort_key(i.is_from, i.module), i.name)):
        if imp in seen or _already_imported(table, imp):
            continue
        seen.add(imp)
        if imp.is_from:
            same = next((e for e in existing if e.is_from and e.module == imp.module and
                         e.node.type == "import_from_statement" and "*" not in doc.node_text(e.node)), None)
            if same is not None:
                extension = _extend_from(doc, same.node, imp)
                if extension is not None:
                    edits.append(extension)
                    continue
        section = section_of(imp.module, root)
        members = [e for e in existing if e.section == section]
        if not members:
            new_sections.setdefault(section, []).append(imp)
            continue
        key = _sort_key(imp.is_from, imp.module)
        later = next((e for e in members if _sort_key(e.is_from, e.module) > key), None)
        point = _line_begin(doc, later.node) if later is not None else _line_after(doc, members[-1].node)
        points.setdefault(point, []).append(imp.render() + nl)
    for point, lines in points.items():
        text = "".join(lines)
        if point == len(doc.data) and doc.data and not doc.data.endswith(b"\n"):
            text = nl + text
        edits.append(TextEdit(point, point, text))
    if new_sections:
        edits.extend(_new_section_edits(doc, existing, new_sections, nl))
    return edits


def _already_imported(table: ImportTable, imp: Import) -> bool:
    if imp.is_from:
        local = imp.alias or imp.name
        return table.names.get(local) == f"{imp.module}.{imp.name}"
    head = imp.module.split(".")[0]
    return table.names.get(head) == head and "." not in imp.module


def _new_section_edits(doc: ParsedDocument, existing: list[_Existing], sections: dict[str, list[Import]],
                       nl: str) -> list[TextEdit]:
    """New isort sections: before the first later section, after the last import, or atop an import-less file."""
    blocks: dict[int, list[tuple[int, str]]] = {}
    for section, imps in sections.items():
        order = SECTIONS.index(section)
        body = "".join(i.render() + nl for i in sorted(imps, key=lambda i: _sort_key(i.is_from, i.module)))
        later = next((e for e in existing if SECTIONS.index(e.section) > order), None)
        if not existing:
            point = _header_end(doc)[0]
        elif later is not None:
            point = _line_begin(doc, later.node)
        else:
            point = _line_after(doc, existing[-1].node)
        blocks.setdefault(point, []).append((order, body))
    edits = []
    for point, parts in blocks.items():
        joined = nl.join(body for _, body in sorted(parts))
        rest = doc.data[point:]
        rest_blank = rest.startswith(b"\n") or rest.startswith(b"\r\n") or not rest.strip()
        if not existing:
            prefix = nl if _header_end(doc)[1] else ""
            edits.append(TextEdit(point, point, prefix + joined + ("" if rest_blank else nl)))
        elif any(_line_begin(doc, e.node) == point for e in existing):
            edits.append(TextEdit(point, point, joined + nl))
        else:
            lead = "" if doc.data[:point].endswith(b"\n") else nl
            edits.append(TextEdit(point, point, lead + nl + joined))
    return edits


def removal_edits(doc: ParsedDocument, names: list[str], edits: list[TextEdit]) -> list[TextEdit]:
    """Edits dropping imports of `names` that the patched file (`edits` applied) no longer uses."""
    removals: list[TextEdit] = []
    for name in dict.fromkeys(names):
        if _still_used(doc, name, edits):
            continue
        removal = _remove_binding(doc, name)
        if removal is not None:
            removals.append(removal)
    return removals


def _still_used(doc: ParsedDocument, name: str, edits: list[TextEdit]) -> bool:
    pattern = re.compile(rf"(?<![\w.]){re.escape(name)}\b")
    if any(pattern.search(e.new_text) for e in edits):
        return True
    stack = [doc.tree.root_node]
    while stack:
        node = stack.pop()
        if node.type in IMPORT_TYPES:
            continue
        if node.type == "identifier" and doc.node_text(node) == name:
            inside = any(e.start_byte <= node.start_byte and node.end_byte <= e.end_byte for e in edits)
            parent = node.parent
            is_attr = parent is not None and parent.type == "attribute" and \
                parent.child_by_field_name("attribute") == node
            if not inside and not is_attr:
                return True
        if node.type == "string" and name in doc.node_text(node) and "__all__" in doc.text:
            return True
        stack.extend(node.children)
    return False


def _remove_binding(doc: ParsedDocument, name: str) -> TextEdit | None:
    for child in doc.tree.root_node.named_children:
        if child.type not in {"import_statement", "import_from_statement"}:
            continue
        bound = []
        for member in (child.children_by_field_name("name")):
            if member.type == "aliased_import":
                alias = member.child_by_field_name("alias")
                local = doc.node_text(alias) if alias is not None else ""
            else:
                local = doc.node_text(member).split(".")[0] if child.type == "import_statement" \
                    else doc.node_text(member)
            bound.append((member, local))
        hits = [m for m, local in bound if local == name]
        if not hits:
            continue
        if len(bound) == 1:
            start = _line_begin(doc, child)
            end = _line_after(doc, child)
            if doc.data[start:child.start_byte].strip():
                return None
            return TextEdit(start, end, "")
        member = hits[0]
        members = [m for m, _ in bound]
        index = members.index(member)
        if index > 0:
            return TextEdit(members[index - 1].end_byte, member.end_byte, "")
        return TextEdit(member.start_byte, members[1].start_byte, "")
    return None


@dataclass
class Helper:
    """A module-level definition a fix adds once (a function or a constant), named `name`."""

    name: str
    code: str
    imports: list[Import] = field(default_factory=list)


def helper_edit(doc: ParsedDocument, helpers: list[Helper]) -> TextEdit | None:
    """One edit adding module-level helpers (those not yet defined) after the import block."""
    defined = defined_names(doc)
    todo = [h for h in helpers if h.name not in defined]
    if not todo:
        return None
    nl = newline_of(doc)
    existing = [c for c in doc.tree.root_node.named_children if c.type in IMPORT_TYPES]
    data = doc.data
    point = _line_after(doc, existing[-1]) if existing else _header_end(doc)[0]
    blank_before = 0
    while point < len(data):
        end = data.find(b"\n", point)
        end = len(data) if end == -1 else end + 1
        if data[point:end].strip():
            break
        blank_before += 1
        point = end
    gap = 2 if any(h.code.lstrip().startswith(("def ", "class ", "async def ")) for h in todo) else 1
    body = (nl * gap).join(h.code.replace("\n", nl).rstrip() + nl for h in todo)
    lead = nl * max(0, gap - blank_before) if point > 0 else ""
    if point > 0 and not data[:point].endswith(b"\n"):
        lead = nl + lead
    tail = nl * max(gap, blank_before) if point < len(data) else ""  # keep the spacing the next code had
    return TextEdit(point, point, lead + body + tail)

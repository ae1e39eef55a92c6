"""One tree-sitter query per document, shared by the non-flow checks: calls, assignments, comparisons,
functions, with call names qualified through the imports and module-level object types."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from tree_sitter import Node, Query, QueryCursor

from ai_core.analysis.imports import ImportTable
from ai_core.parsing import ParsedDocument
from ai_core.parsing.document import python_language

_DOTTED = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*\Z")
_QUERY = """
(call) @call
(assignment) @assign
(comparison_operator) @cmp
(function_definition) @def
"""


@cache
def _query() -> Query:
    return Query(python_language(), _QUERY)


@dataclass(eq=False)
class CallSite:
    """A call with its dotted callee text and qualified name."""

    node: Node
    fn: Node
    name: str
    index: DocIndex
    _args: list[Node] | None = None
    _qualified: str | None = None
    _keywords: dict[bytes | None, Node | None] | None = None

    @property
    def qualified(self) -> str:
        """The callee's qualified name ('' when the callee is not a plain dotted name)."""
        if self._qualified is None:
            self._qualified = self.index.qualify(self.name) if self.name else ""
        return self._qualified

    @property
    def method(self) -> str:
        """The last component of the callee name."""
        return self.name.rsplit(".", 1)[-1]

    @property
    def receiver(self) -> str:
        """The callee text before the method ('' for plain functions)."""
        return self.name.rpartition(".")[0]

    def arguments(self) -> list[Node]:
        """The argument nodes (keyword arguments included)."""
        if self._args is None:
            args = self.node.child_by_field_name("arguments")
            self._args = [c for c in args.named_children if c.type != "comment"] if args is not None else []
        return self._args

    def positional(self) -> list[Node]:
        """Positional argument nodes."""
        return [a for a in self.arguments() if a.type not in {"keyword_argument", "list_splat",
                                                               "dictionary_splat"}]

    def keyword(self, name: str) -> Node | None:
        """The value of keyword argument `name`."""
        if self._keywords is None:
            keywords: dict[bytes | None, Node | None] = {}
            for arg in self.arguments():
                if arg.type == "keyword_argument":
                    key = arg.child_by_field_name("name")
                    if key is not None:
                        keywords.setdefault(key.text, arg.child_by_field_name("value"))
            self._keywords = keywords
        return self._keywords.get(name.encode())

    def arg(self, name: str, position: int | None) -> Node | None:
        """An argument by keyword, else by position."""
        found = self.keyword(name)
        if found is None and position is not None:
            positional = self.positional()
            if position < len(positional):
                found = positional[position]
        return found


class DocIndex:
    """The document's calls, assignments, comparisons and functions, in source order (built on first use)."""

    def __init__(self, doc: ParsedDocument, imports: ImportTable) -> None:
        self.doc = doc
        self.imports = imports
        self._built = False
        self._calls: list[CallSite] = []
        self._assignments: list[Node] = []
        self._comparisons: list[Node] = []
        self._functions: list[Node] = []
        self._kinds: dict[str, str] | None = None

    def _build(self) -> None:
        self._built = True
        captures = QueryCursor(_query()).captures(self.doc.tree.root_node)
        data = self.doc.data
        for call in captures.get("call", []):
            fn = call.child_by_field_name("function")
            if fn is None or fn.type not in {"identifier", "attribute"}:
                continue
            raw = data[fn.start_byte:fn.end_byte]
            if not _DOTTED.match(raw):
                raw = re.sub(rb"\s+", b"", raw)
                if not _DOTTED.match(raw):
                    self._calls.append(CallSite(call, fn, "", self))
                    continue
            self._calls.append(CallSite(call, fn, raw.decode("ascii"), self))
        self._calls.sort(key=lambda c: c.node.start_byte)
        self._assignments = sorted(captures.get("assign", []), key=lambda n: n.start_byte)
        self._comparisons = sorted(captures.get("cmp", []), key=lambda n: n.start_byte)
        self._functions = sorted(captures.get("def", []), key=lambda n: n.start_byte)

    @property
    def calls(self) -> list[CallSite]:
        """Every call with a plain or dotted callee name, in source order."""
        if not self._built:
            self._build()
        return self._calls

    @property
    def assignments(self) -> list[Node]:
        """Every assignment node."""
        if not self._built:
            self._build()
        return self._assignments

    @property
    def comparisons(self) -> list[Node]:
        """Every comparison node."""
        if not self._built:
            self._build()
        return self._comparisons

    @property
    def functions(self) -> list[Node]:
        """Every function definition node."""
        if not self._built:
            self._build()
        return self._functions

    @property
    def kinds(self) -> dict[str, str]:
        """Module-level names bound to a constructor call: name -> qualified callee (app -> flask.Flask)."""
        if self._kinds is None:
            self._kinds = {}
            data = self.doc.data
            for stmt in self.doc.tree.root_node.named_children:
                assign = stmt.named_children[0] if stmt.type == "expression_statement" and \
                    stmt.named_child_count else None
                if assign is None or assign.type != "assignment":
                    continue
                left = assign.child_by_field_name("left")
                right = assign.child_by_field_name("right")
                if left is None or right is None or left.type != "identifier" or right.type != "call":
                    continue
                fn = right.child_by_field_name("function")
                if fn is not None and _DOTTED.match(data[fn.start_byte:fn.end_byte]):
                    self._kinds[self.text(left)] = self.imports.qualify(self.text(fn))
        return self._kinds

    def text(self, node: Node) -> str:
        """Source text of a node."""
        return self.doc.data[node.start_byte:node.end_byte].decode("utf-8", errors="replace")

    def qualify(self, dotted: str) -> str:
        """Qualified name through the imports and module-level object types."""
        head, sep, rest = dotted.partition(".")
        kind = self.kinds.get(head)
        if kind is not None:
            return kind + sep + rest
        return self.imports.qualify(dotted)

    def calls_to(self, *names: str) -> list[CallSite]:
        """Calls whose qualified name is one of `names` (or ends with '.x' for '*.x' names)."""
        exact = {n for n in names if not n.startswith("*.")}
        suffixes = tuple(n[1:] for n in names if n.startswith("*."))
        lasts = {n.rsplit(".", 1)[-1] for n in names}
        return [c for c in self.calls if c.name and c.name.rsplit(".", 1)[-1] in lasts and (
            c.qualified in exact or (suffixes and ("." + c.qualified).endswith(suffixes)))]

    @staticmethod
    def module_level(node: Node) -> bool:
        """True for a statement at module level (not inside a function or class)."""
        parent = node.parent
        while parent is not None and parent.type in {"expression_statement"}:
            parent = parent.parent
        return parent is not None and parent.type == "module"


def build_index(doc: ParsedDocument, imports: ImportTable) -> DocIndex:
    """The shared index of a document (its query runs on first use)."""
    return DocIndex(doc, imports)




def literal_int(index: DocIndex, node: Node | None) -> int | None:
    """The value of integer arithmetic on literals (60 * 60 * 24, 0o777), else None."""
    if node is None:
        return None
    kind = node.type
    if kind == "integer":
        try:
            return int(index.text(node).replace("_", ""), 0)
        except ValueError:
            return None
    if kind == "parenthesized_expression" and node.named_child_count:
        return literal_int(index, node.named_children[0])
    if kind == "binary_operator":
        left = literal_int(index, node.child_by_field_name("left"))
        right = literal_int(index, node.child_by_field_name("right"))
        operator = node.child_by_field_name("operator")
        if left is None or right is None or operator is None:
            return None
        op = operator.type
        if op == "*":
            return left * right
        if op == "+":
            return left + right
        if op == "-":
            return left - right
        if op == "//" and right:
            return left // right
        if op == "|":
            return left | right
    return None


def timedelta_seconds(index: DocIndex, node: Node | None) -> int | None:
    """Seconds of `timedelta(days=..., hours=...)` / `datetime.timedelta(...)` with literal values, or an int."""
    if node is None:
        return None
    value = literal_int(index, node)
    if value is not None:
        return value
    if node.type != "call":
        return None
    fn = node.child_by_field_name("function")
    if fn is None or not index.text(fn).endswith("timedelta"):
        return None
    units = {"weeks": 604800, "days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}
    total = 0
    args = node.child_by_field_name("arguments")
    for position, arg in enumerate(args.named_children if args is not None else []):
        if arg.type == "keyword_argument":
            key = arg.child_by_field_name("name")
            amount = literal_int(index, arg.child_by_field_name("value"))
            if key is None or amount is None or index.text(key) not in units:
                return None
            total += amount * units[index.text(key)]
        else:
            amount = literal_int(index, arg)
            if amount is None or position > 0:
                return None
            total += amount * units["days"]
    return total

"""What one module defines and imports: functions (with parameters and fingerprints), classes, globals.

Built in one walk over the module's top level and class bodies; nested functions are found on demand.
A function's fingerprint (hash of its text + start offset) decides whether cached results still hold.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tree_sitter import Node

from ai_core.analysis.wordlist import alternation
from ai_core.parsing import ParsedDocument

SOURCE_TOKENS = re.compile(rb"\b(?:" + alternation((
    "request", "req", "argv", "stdin", "raw_input", "parse_args", "parse_known_args", "environ", "environb", "getenv",
    "recv", "recvfrom", "recv_into", "rfile", "namelist", "infolist", "getnames", "getmembers", "format_exc",
    "format_exception", "format_tb", "extract_tb", "Request", "HttpRequest", "WebSocket")).encode()
    + rb"\b|input\s*\()|self\.kwargs")
"""Words without which a function cannot read a built-in source (a cheap prefilter on bytes)."""


@dataclass(eq=False)
class ParamInfo:
    """One parameter: name, position, annotation text, default value node, '*'/'**' marker."""

    name: str
    index: int
    annotation: str = ""
    default: Node | None = None
    star: str = ""
    node: Node | None = None


@dataclass(eq=False)
class FunctionInfo:
    """A function or method definition."""

    module: ModuleInfo
    name: str
    qualname: str
    node: Node
    decorators: list[Node]
    class_name: str | None
    static: bool
    fingerprint: str
    _tokens: bool | None = None
    _params: list[ParamInfo] | None = None
    _method: bool | None = None

    @property
    def params(self) -> list[ParamInfo]:
        """The parameters in order (read from the tree on first use: most functions indexed are never analyzed)."""
        if self._params is None:
            self._params = _params(self.module, self.node)
        return self._params

    @property
    def is_method(self) -> bool:
        """A method called on an instance (not a staticmethod, and it takes `self`)."""
        if self._method is None:
            self._method = self.class_name is not None and not self.static and bool(self.params)
        return self._method

    @is_method.setter
    def is_method(self, value: bool) -> None:
        self._method = value

    @property
    def key(self) -> str:
        """A project-wide id: module path and qualified name."""
        return f"{self.module.key}::{self.qualname}"

    @property
    def body(self) -> Node | None:
        """The function's block."""
        return self.node.child_by_field_name("body")

    def has_source_tokens(self, extra: re.Pattern[bytes] | None = None) -> bool:
        """True when the function's text mentions a word a source needs (cheap prefilter)."""
        if self._tokens is None:
            self._tokens = self.module.mentions(SOURCE_TOKENS, self.node.start_byte, self.node.end_byte)
        if self._tokens:
            return True
        if extra is None:
            return False
        return bool(extra.search(self.module.doc.data[self.node.start_byte:self.node.end_byte]))

    def param(self, name: str) -> ParamInfo | None:
        """The parameter called `name`."""
        for param in self.params:
            if param.name == name:
                return param
        return None


@dataclass(eq=False)
class ClassInfo:
    """A class definition: base class names (as written), methods and class-level assignments."""

    module: ModuleInfo
    name: str
    node: Node
    bases: list[str]
    methods: dict[str, FunctionInfo] = field(default_factory=dict)
    attributes: dict[str, Node] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """A project-wide id usable as the type of an instance."""
        return f"{self.module.key}::{self.name}"


@dataclass(eq=False)
class ModuleInfo:
    """One parsed module with its definitions and imports."""

    key: str
    """Normalised path used as the module's id (absolute when known)."""
    path: str
    """The path findings and taint steps show for this module."""
    file: Path | None
    doc: ParsedDocument
    imports: dict[str, str] = field(default_factory=dict)
    """Local name -> dotted target; relative imports keep their leading dots ('.db.run')."""
    module_imports: set[str] = field(default_factory=set)
    """Local names bound by `import x` (modules rather than attributes)."""
    functions: dict[str, FunctionInfo] = field(default_factory=dict)
    """Top-level functions by name and methods by 'Class.method'."""
    classes: dict[str, ClassInfo] = field(default_factory=dict)
    globals: dict[str, Node] = field(default_factory=dict)
    """Module-level names assigned once or more (the last value node)."""
    statements: list[Node] = field(default_factory=list)
    """Module-level statements other than imports and definitions (the module's own code)."""
    header_hash: str = ""
    """Hash of everything outside function bodies: imports, globals, class attributes, signatures."""

    @property
    def data(self) -> bytes:
        """The module's bytes."""
        return self.doc.data

    @property
    def folder(self) -> str:
        """The directory of the module's file (its key's dirname)."""
        folder = self.__dict__.get("_folder")
        if folder is None:
            folder = self.__dict__["_folder"] = os.path.dirname(self.key)
        return folder

    def text(self, node: Node) -> str:
        """Source text of a node of this module."""
        return self.doc.data[node.start_byte:node.end_byte].decode("utf-8", errors="replace")

    def mentions(self, pattern: re.Pattern[bytes], start: int, end: int) -> bool:
        """True when `pattern` matches inside bytes [start, end) (searched once per pattern and range: only the
        functions a prefilter reaches are read, and only up to the first match)."""
        cache: dict[tuple[re.Pattern[bytes], int, int], bool] = self.__dict__.setdefault("_mentions", {})
        key = (pattern, start, end)
        found = cache.get(key)
        if found is None:
            found = cache[key] = pattern.search(self.doc.data, start, end) is not None
        return found

    def all_functions(self) -> list[FunctionInfo]:
        """Every top-level function and method."""
        return list(self.functions.values())


def _hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=12).hexdigest()


def build_module(doc: ParsedDocument, key: str, path: str, file: Path | None) -> ModuleInfo:
    """Index a parsed document's top level: imports, functions, classes, globals."""
    module = ModuleInfo(key=key, path=path, file=file, doc=doc)
    data = doc.data
    header = hashlib.blake2b(digest_size=12)
    _index_block(module, doc.tree.root_node, None, header, data)
    module.header_hash = header.hexdigest()
    return module


def _index_block(module: ModuleInfo, block: Node, cls: ClassInfo | None, header: Any, data: bytes) -> None:
    for stmt in block.named_children:
        kind = stmt.type
        decorators: list[Node] = []
        target = stmt
        if kind == "decorated_definition":
            decorators = [c for c in stmt.named_children if c.type == "decorator"]
            inner = stmt.child_by_field_name("definition")
            if inner is None:
                continue
            target = inner
            kind = inner.type
            for dec in decorators:
                header.update(data[dec.start_byte:dec.end_byte])
        if kind == "function_definition":
            info = function_info(module, target, decorators, cls)
            sig_end = target.child_by_field_name("body")
            header.update(data[target.start_byte:sig_end.start_byte if sig_end is not None else target.end_byte])
            if cls is None:
                module.functions[info.name] = info
            else:
                cls.methods[info.name] = info
                module.functions[info.qualname] = info
        elif kind == "class_definition" and cls is None:
            name_node = target.child_by_field_name("name")
            body = target.child_by_field_name("body")
            if name_node is None or body is None:
                continue
            supers = target.child_by_field_name("superclasses")
            bases = [module.text(b) for b in supers.named_children if b.type in {"identifier", "attribute"}] \
                if supers is not None else []
            info_cls = ClassInfo(module, module.text(name_node), target, bases)
            module.classes[info_cls.name] = info_cls
            header.update(data[target.start_byte:body.start_byte])
            _index_block(module, body, info_cls, header, data)
        elif kind in {"import_statement", "import_from_statement", "future_import_statement"}:
            header.update(data[stmt.start_byte:stmt.end_byte])
            if cls is None:
                _bind_imports(module, stmt)
        elif kind == "expression_statement":
            header.update(data[stmt.start_byte:stmt.end_byte])
            assign = stmt.named_children[0] if stmt.named_child_count else None
            if assign is not None and assign.type == "assignment":
                _bind_assignment(module, assign, cls)
            if cls is None:
                module.statements.append(stmt)
        elif kind != "comment":
            header.update(data[stmt.start_byte:stmt.end_byte])
            if cls is None:
                module.statements.append(stmt)
                if kind in {"if_statement", "try_statement", "with_statement"}:
                    _index_nested_imports(module, stmt)


def _index_nested_imports(module: ModuleInfo, node: Node) -> None:
    """Imports inside module-level if/try blocks (`try: import ujson as json except ImportError: ...`)."""
    stack = [node]
    while stack:
        current = stack.pop()
        for child in current.named_children:
            if child.type in {"import_statement", "import_from_statement"}:
                _bind_imports(module, child)
            elif child.type in {"block", "if_statement", "try_statement", "except_clause", "else_clause",
                                "elif_clause", "finally_clause", "with_statement"}:
                stack.append(child)


def _bind_assignment(module: ModuleInfo, assign: Node, cls: ClassInfo | None) -> None:
    left = assign.child_by_field_name("left")
    right = assign.child_by_field_name("right")
    while right is not None and right.type == "assignment":  # a = b = value
        right = right.child_by_field_name("right")
    if left is None or right is None or left.type != "identifier":
        return
    name = module.text(left)
    if cls is None:
        module.globals[name] = right
    else:
        cls.attributes[name] = right


def _bind_imports(module: ModuleInfo, stmt: Node) -> None:
    if stmt.type == "import_statement":
        for child in stmt.named_children:
            if child.type == "aliased_import":
                name = child.child_by_field_name("name")
                alias = child.child_by_field_name("alias")
                if name is not None and alias is not None:
                    module.imports[module.text(alias)] = module.text(name)
                    module.module_imports.add(module.text(alias))
            elif child.type == "dotted_name":
                full = module.text(child)
                head = full.split(".")[0]
                module.imports.setdefault(head, head)
                module.module_imports.add(head)
        return
    source = stmt.child_by_field_name("module_name")
    base = module.text(source).replace(" ", "") if source is not None else ""
    for child in stmt.children_by_field_name("name"):
        if child.type == "aliased_import":
            name = child.child_by_field_name("name")
            alias = child.child_by_field_name("alias")
            if name is not None and alias is not None:
                module.imports[module.text(alias)] = _join(base, module.text(name))
        else:
            local = module.text(child)
            module.imports[local.split(".")[-1]] = _join(base, local)


def _join(base: str, name: str) -> str:
    if base.endswith("."):
        return base + name
    return f"{base}.{name}" if base else name


def function_info(module: ModuleInfo, node: Node, decorators: list[Node], cls: ClassInfo | None,
                  prefix: str = "") -> FunctionInfo:
    """Describe one function_definition node (a method when `cls` is given)."""
    name_node = node.child_by_field_name("name")
    name = module.text(name_node) if name_node is not None else "<lambda>"
    static = any(module.text(d).strip() in {"@staticmethod"} for d in decorators)
    qualname = f"{prefix}{cls.name}.{name}" if cls is not None else f"{prefix}{name}"
    start = node.start_byte
    fingerprint = _hash(module.doc.data[start:node.end_byte] + start.to_bytes(8, "little")
                        + b"".join(module.doc.data[d.start_byte:d.end_byte] for d in decorators))
    return FunctionInfo(module=module, name=name, qualname=qualname, node=node, decorators=decorators,
                        class_name=cls.name if cls is not None else None, static=static, fingerprint=fingerprint)


def _params(module: ModuleInfo, node: Node) -> list[ParamInfo]:
    params_node = node.child_by_field_name("parameters")
    result: list[ParamInfo] = []
    if params_node is None:
        return result
    for child in params_node.named_children:
        kind = child.type
        info: ParamInfo | None = None
        if kind == "identifier":
            info = ParamInfo(module.text(child), len(result))
        elif kind in {"default_parameter", "typed_default_parameter"}:
            name = child.child_by_field_name("name")
            annotation = child.child_by_field_name("type")
            if name is not None:
                info = ParamInfo(module.text(name), len(result),
                                 module.text(annotation) if annotation is not None else "",
                                 child.child_by_field_name("value"))
        elif kind == "typed_parameter":
            ident = next((c for c in child.named_children if c.type in {"identifier", "list_splat_pattern",
                                                                          "dictionary_splat_pattern"}), None)
            annotation = child.child_by_field_name("type")
            if ident is not None:
                star = "*" if ident.type == "list_splat_pattern" else "**" if ident.type != "identifier" else ""
                text = module.text(ident).lstrip("*")
                info = ParamInfo(text, len(result), module.text(annotation) if annotation is not None else "",
                                 star=star)
        elif kind in {"list_splat_pattern", "dictionary_splat_pattern"}:
            star = "*" if kind == "list_splat_pattern" else "**"
            info = ParamInfo(module.text(child).lstrip("*"), len(result), star=star)
        if info is not None:
            info.node = child
            result.append(info)
    return result

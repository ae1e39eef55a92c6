"""Insecure randomness (CWE-338, 330): `random`/`uuid1` values used as secrets (see spec.py for when).

The use decides: the value (or a string built from it) is assigned to a secret-looking name, returned
from a function with such a name, passed as such a keyword, stored in the session or set as a cookie; or a
project function returns it and a secret-looking name is bound to that function's result (both ends reported).
Test files are left alone.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from typing import Any

from tree_sitter import Node

from ai_core.analysis.context import AnalysisContext
from ai_core.analysis.rules import Check, Rule
from ai_core.analysis.specs import table
from ai_core.analysis.symbols import FunctionInfo, ModuleInfo
from ai_core.findings import Finding, Severity, VulnClass
from ai_core.parsing.tree import enclosing_function, nodes_of_type, string_value

RANDOM_TABLE = table(VulnClass.INSECURE_RANDOMNESS)

WEAK_SECRET = Rule("randomness.predictable-secret", VulnClass.INSECURE_RANDOMNESS, Severity.MEDIUM, 0.8,
                   "secret made with a predictable random generator", cwe=338)

_SECRET = re.compile(RANDOM_TABLE["secret_names"])
_NOT_SECRET = re.compile(RANDOM_TABLE["not_secret_names"])
_STOP = frozenset({"expression_statement", "if_statement", "for_statement", "while_statement", "block", "module",
                   "with_statement", "lambda", "function_definition", "class_definition", "assert_statement",
                   "for_in_clause", "if_clause", "comparison_operator", "boolean_operator", "subscript"})
_SECRET_HINT = re.compile(rb"secret|token|password|passwd|_key|key\s*=|salt|nonce|otp")
"""Bytes (lower case) a file binding a secret contains."""
_TEST_PATH = re.compile(r"(^|/)(tests?|testing)/|(^|/)(test_[^/]*|[^/]*_test|conftest)\.py$")


def is_secret_name(name: str) -> bool:
    """True for names that hold secrets (reset_token, api_key, otp) and not for their metadata (token_length)."""
    return bool(name) and bool(_SECRET.search(name)) and not _NOT_SECRET.search(name)


def _name_of(ctx: AnalysisContext, target: Node) -> str:
    if target.type == "identifier":
        return ctx.index.text(target)
    if target.type == "attribute":
        attr = target.child_by_field_name("attribute")
        return ctx.index.text(attr) if attr is not None else ""
    if target.type == "subscript":
        key = string_value(target.child_by_field_name("subscript"))
        value = target.child_by_field_name("value")
        container = ctx.index.text(value) if value is not None else ""
        if container in RANDOM_TABLE["session_names"] or container.endswith(".session"):
            return f"session[{key!r}]"
        return key or ""
    return ""


def secret_use(ctx: AnalysisContext, node: Node) -> str:
    """Where the value of `node` ends up when that is a secret ('reset_token', "session['sid']", 'a cookie')."""
    current = node
    while current.parent is not None:
        parent = current.parent
        kind = parent.type
        if kind in {"assignment", "augmented_assignment"}:
            left = parent.child_by_field_name("left")
            if left is None or left.start_byte == current.start_byte:
                return ""
            name = _name_of(ctx, left)
            return name if name.startswith("session[") or is_secret_name(name) else ""
        if kind == "keyword_argument":
            key = parent.child_by_field_name("name")
            name = ctx.index.text(key) if key is not None else ""
            if is_secret_name(name):
                return name
        elif kind == "call":
            fn = parent.child_by_field_name("function")
            method = ctx.index.text(fn).rsplit(".", 1)[-1] if fn is not None else ""
            if method in RANDOM_TABLE["cookie_calls"]:
                return "a cookie"
        elif kind == "return_statement":
            function = enclosing_function(parent)
            name_node = function.child_by_field_name("name") if function is not None else None
            name = ctx.index.text(name_node) if name_node is not None else ""
            return f"{name}()" if is_secret_name(name.removeprefix("generate_").removeprefix("make_")
                                                 .removeprefix("new_").removeprefix("create_")) else ""
        elif kind in _STOP:
            return ""
        current = parent
    return ""


def _weak_return(module: ModuleInfo, function: Node) -> tuple[Node, str] | None:
    """The weak random call a function's return value is made of (`return "".join(random.choice(cs) ...)`), with
    its callee's text."""
    weak = RANDOM_TABLE["weak_random"]
    for ret in nodes_of_type(function, "return_statement"):
        if enclosing_function(ret) != function:
            continue
        for call in nodes_of_type(ret, "call"):
            fn = call.child_by_field_name("function")
            text = module.text(fn) if fn is not None else ""
            head, sep, rest = text.partition(".")
            target = module.imports.get(head)
            if target is not None and f"{target}{sep}{rest}" in weak:
                return call, text
    return None


def _project(ctx: AnalysisContext) -> tuple[Any, ModuleInfo] | None:
    project = ctx.project
    if project is None or not hasattr(project, "view_for"):
        return None
    view, module = project.view_for(ctx.doc, ctx.path)
    return view, module


def _secret_from_helper(ctx: AnalysisContext) -> Iterator[Finding]:
    """`SECRET_KEY = random_string(16)` where the project's random_string() returns values of `random`."""
    found = _project(ctx)
    if found is None:
        return
    project, module = found
    for assign in ctx.index.assignments:
        left, right = assign.child_by_field_name("left"), assign.child_by_field_name("right")
        if left is None or right is None or right.type != "call" or not is_secret_name(_name_of(ctx, left)):
            continue
        fn = right.child_by_field_name("function")
        name = ctx.index.text(fn) if fn is not None else ""
        target = module.imports.get(name.partition(".")[0])
        helper = module.functions.get(name) if target is None else project.resolve(
            module, target + name[len(name.partition(".")[0]):])
        if not isinstance(helper, FunctionInfo):
            continue
        weak = _weak_return(helper.module, helper.node)
        if weak is not None:
            where = project.display_of(helper.module.key)
            yield WEAK_SECRET.finding(ctx, assign, f"{_name_of(ctx, left)} comes from {helper.name}() ({where} line "
                                                   f"{weak[0].start_point[0] + 1}), which draws it from {weak[1]}(); "
                                                   "use the secrets module")


def _helpers_used_for_secrets(ctx: AnalysisContext) -> Iterator[Finding]:
    """The other end: a function of this file returning `random` values that a project file binds to a secret
    (one pass over the project's files for all such functions of the file)."""
    found = _project(ctx)
    if found is None:
        return
    project, module = found
    weak_functions: dict[str, tuple[Node, str]] = {}
    for function in ctx.index.functions:
        weak = _weak_return(module, function)
        name_node = function.child_by_field_name("name")
        if weak is not None and name_node is not None:
            weak_functions.setdefault(ctx.index.text(name_node), weak)
    if not weak_functions:
        return
    encoded = [name.encode() for name in sorted(weak_functions)]
    names = b"|".join(re.escape(name) for name in encoded)
    use = re.compile(rb"([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?:[A-Za-z_][A-Za-z0-9_.]*\.)?(" + names + rb")\s*\(")
    bound: dict[str, tuple[str, str]] = {}
    for key in sorted(project.files()):
        data = project.source_bytes(key)
        if not any(name in data for name in encoded):
            continue
        for match in use.finditer(data):
            secret, name = match.group(1).decode(), match.group(2).decode()
            if name not in bound and is_secret_name(secret):
                bound[name] = (secret, key)
    for name, (secret, key) in sorted(bound.items()):
        call, callee = weak_functions[name]
        yield WEAK_SECRET.finding(ctx, call, f"{callee}() is predictable, and {name}() becomes {secret} in "
                                             f"{project.display_of(key)}; use the secrets module")


def run(ctx: AnalysisContext) -> Iterator[Finding]:
    """Calls of random/uuid1 whose value becomes a token, password, key, OTP, salt or session id."""
    data = ctx.doc.data
    if _TEST_PATH.search(ctx.path.replace("\\", "/")):
        return
    if b"random" in data and b"def " in data:
        yield from _helpers_used_for_secrets(ctx)
    if b"(" in data and _SECRET_HINT.search(ctx.lowered):
        yield from _secret_from_helper(ctx)
    if b"random" not in data and b"uuid1" not in data:
        return
    weak = RANDOM_TABLE["weak_random"]
    for site in ctx.index.calls:
        cwe = weak.get(site.qualified)
        if cwe is None:
            continue
        use = secret_use(ctx, site.node)
        if not use:
            continue
        rule = WEAK_SECRET if cwe == WEAK_SECRET.cwe else dataclasses.replace(WEAK_SECRET, cwe=cwe)
        yield rule.finding(ctx, site.node, f"{site.name}() is predictable, and its value becomes {use}; use the "
                                           "secrets module")


CHECK = Check("randomness", (WEAK_SECRET,), run)

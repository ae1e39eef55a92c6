"""Error details sent to the client, and SQL echoed to the logs (CWE-209, CWE-532).

- A request handler that catches an exception and returns its text (`return str(e)`, `jsonify(error=str(e))`,
  `f"failed: {e}"`, `e.args`): internals (paths, SQL, hostnames) go to whoever sent the request;
- `create_engine(..., echo=True)` in code that is not a test logs every statement with its parameters
  (review tier: it may be a development setting).

Fix: log the exception server-side and return a generic message; leave `echo` off outside development.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from tree_sitter import Node

from ai_core.analysis.context import AnalysisContext
from ai_core.analysis.rules import Rule
from ai_core.classes._shared.config_reader import is_dev_path
from ai_core.findings import Finding, Severity, VulnClass
from ai_core.parsing.tree import nodes_of_type

SDE = VulnClass.SENSITIVE_DATA_EXPOSURE
ERROR_DETAILS = Rule("exposure.exception-in-response", SDE, Severity.MEDIUM, 0.65,
                     "exception details returned to the client", cwe=209)
SQL_ECHO = Rule("exposure.sql-echo.review", SDE, Severity.LOW, 0.35, "SQL statements echoed to the logs", cwe=532)
HANDLER_DECORATOR = re.compile(rb"\.(?:route|get|post|put|patch|delete|api_route|websocket)\(|api_view|"
                               rb"require_http_methods|login_required|view_config|\.expose\(")


def _is_handler(ctx: AnalysisContext, function: Node) -> bool:
    parent = function.parent
    if parent is not None and parent.type == "decorated_definition":
        return bool(HANDLER_DECORATOR.search(ctx.doc.data[parent.start_byte:function.start_byte]))
    params = function.child_by_field_name("parameters")
    first = next((p for p in params.named_children if p.type == "identifier"), None) if params else None
    return first is not None and ctx.index.text(first) in {"request", "req"}


def exception_responses(ctx: AnalysisContext) -> Iterator[Finding]:
    """`except ... as e:` in a request handler whose body returns the exception's text."""
    index = ctx.index
    for node in nodes_of_type(ctx.doc.tree.root_node, "except_clause"):
        name = _bound_name(ctx, node)
        function = node.parent
        while function is not None and function.type != "function_definition":
            function = function.parent
        if not name or function is None or not _is_handler(ctx, function):
            continue
        mention = re.compile(rf"(?:\b(?:str|repr|format)\(\s*{name}\s*\)|\{{{name}(?:!r|!s)?\}}|\b{name}\.args\b|"
                             rf"\b{name}\.message\b|%\s*\(?\s*{name}\b)")
        inner = [node]
        while inner:
            current = inner.pop()
            inner.extend(c for c in current.named_children if c.type not in {"function_definition", "lambda"})
            if current.type == "return_statement" and mention.search(index.text(current)):
                yield ERROR_DETAILS.finding(ctx, current, f"the text of exception '{name}' goes back to the "
                                                          "client; log it and return a generic message")


def _bound_name(ctx: AnalysisContext, clause: Node) -> str:
    text = ctx.index.text(clause).split(":", 1)[0]
    match = re.search(r"\bas\s+([A-Za-z_]\w*)\s*$", text)
    return match.group(1) if match else ""


def sql_echo(ctx: AnalysisContext) -> Iterator[Finding]:
    """`create_engine(url, echo=True)` outside development settings."""
    if is_dev_path(ctx.path):
        return
    for site in ctx.index.calls_to("sqlalchemy.create_engine", "sqlalchemy.ext.asyncio.create_async_engine"):
        echo = site.keyword("echo")
        if echo is not None and ctx.index.text(echo) in {"True", '"debug"', "'debug'"}:
            yield SQL_ECHO.finding(ctx, site.node, "echo=True logs every SQL statement and its parameters; turn it "
                                                   "off outside development", tier="review")


RULES = (ERROR_DETAILS, SQL_ECHO)


def run(ctx: AnalysisContext) -> Iterator[Finding]:
    """Exception text in responses and SQL echo."""
    data = ctx.doc.data
    if b"except" in data and b" as " in data:
        yield from exception_responses(ctx)
    if b"echo" in data and b"create_" in data:
        yield from sql_echo(ctx)

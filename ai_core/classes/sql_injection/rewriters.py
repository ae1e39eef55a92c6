"""SQL injection: bound parameters (sqlite3 `?`, DB-API `%s`, SQLAlchemy `:name` via `bindparams`); a column
allowlist where a value is a name (ORDER BY / GROUP BY)."""

from __future__ import annotations

import re

from tree_sitter import Node

from ai_core.fixes.calls import append_argument, keyword, positional
from ai_core.fixes.context import Draft, FixContext, Rewriter, source_independent
from ai_core.fixes.imports import Helper
from ai_core.fixes.layout import guard_statement, insert_before
from ai_core.fixes.names import single_assignment, uses_of
from ai_core.fixes.strings import Built, Expr, Piece, built_string, merge_literals, render_fstring, render_str
from ai_core.parsing.tree import enclosing, scope_of, walk

EXECUTE_METHODS = frozenset({"execute", "executemany", "exec_driver_sql"})
RAW_METHODS = frozenset({"raw"})
READ_SQL = frozenset({"pandas.read_sql", "pandas.read_sql_query", "pd.read_sql", "pd.read_sql_query"})
TEXT_CALLS = frozenset({"sqlalchemy.text", "sqlalchemy.sql.text", "sqlalchemy.sql.expression.text"})
FORMAT_DRIVERS = ("psycopg2", "psycopg", "pymysql", "MySQLdb", "mysql", "django", "pgdb", "asyncpg")
_IDENTIFIER_CONTEXT = re.compile(
    r"(?:\bFROM|\bJOIN|\bINTO|\bUPDATE|\bTABLE|\bORDER\s+BY|\bGROUP\s+BY|\bIN|\bSELECT|\.)\s*\(?\s*$",
    re.IGNORECASE)


class Unparameterizable(ValueError):
    """The value sits where SQL cannot take a parameter (a table or column name, an IN list...)."""


def _param_name(expr: Expr, index: int, taken: set[str]) -> str:
    node = expr.node
    name = ""
    if node.type == "identifier":
        name = expr.source
    elif node.type == "attribute":
        attr = node.child_by_field_name("attribute")
        name = text_of_node(attr) if attr is not None else ""
    elif node.type in {"subscript", "call"}:
        match = re.search(r"""["']([A-Za-z_]\w*)["']""", expr.source)
        name = match.group(1) if match else ""
    if not name or not name.isidentifier():
        name = f"p{index}"
    base, n = name, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name


def text_of_node(node: Node) -> str:
    """Raw text of a node (no document needed)."""
    return node.text.decode("utf-8", errors="replace") if node.text else ""


def _unwrap_str(expr: Expr) -> Expr:
    """`str(x)` as a parameter is just `x`."""
    node = expr.node
    if node.type == "call":
        fn = node.child_by_field_name("function")
        args = node.child_by_field_name("arguments")
        if fn is not None and text_of_node(fn) == "str" and args is not None and args.named_child_count == 1:
            inner = args.named_children[0]
            if inner.type not in {"keyword_argument", "list_splat", "dictionary_splat"}:
                return Expr(text_of_node(inner), inner)
    return expr


def parameterize(built: Built, style: str, existing: bool = False
                 ) -> tuple[str, list[tuple[str, Expr | list[Piece] | int]]]:
    """SQL text with placeholders, and the bound values (an expression, or the pieces of a quoted string).

    `style` is "qmark" (?), "format" (%s) or "named" (:name). A value quoted in the SQL (`'{name}'`) loses its
    quotes; text around it inside the quotes (`'%{term}%'`) becomes part of the bound value. With `existing`, the
    query already has placeholders of that style: each appears in the result as the index of its value.
    """
    sql = ""
    params: list[tuple[str, Expr | list[Piece] | int]] = []
    taken: set[str] = set()
    quote = ""
    quote_at = 0
    group: list[Piece] = []
    group_has_expr = False
    seen_existing = 0

    def placeholder(value: Expr | list[Piece]) -> str:
        merged = merge_literals(value) if isinstance(value, list) else value
        if isinstance(merged, list) and len(merged) == 1 and isinstance(merged[0], Expr):
            value = merged[0]
        first = value if isinstance(value, Expr) else next(p for p in value if isinstance(p, Expr))
        name = _param_name(first, len(params) + 1, taken)
        params.append((name, value))
        return {"qmark": "?", "format": "%s", "named": f":{name}"}[style]

    for piece in built.pieces:
        if isinstance(piece, Expr):
            if quote in {'"', "`"}:
                raise Unparameterizable("value inside a quoted identifier")
            if quote:
                group.append(piece)
                group_has_expr = True
                continue
            if _IDENTIFIER_CONTEXT.search(sql):
                raise Unparameterizable("value in a position that names a table, column or list")
            sql += placeholder(_unwrap_str(piece))
            continue
        index = 0
        while index < len(piece):
            ch = piece[index]
            index += 1
            if quote:
                if ch == quote:
                    if group_has_expr:
                        sql = sql[:quote_at] + placeholder(list(group))
                    else:
                        sql += "".join(p for p in group if isinstance(p, str)) + ch
                    quote, group, group_has_expr = "", [], False
                else:
                    group.append(ch)
                continue
            if ch in "'\"`":
                quote, quote_at, group, group_has_expr = ch, len(sql), [], False
                sql += ch
                continue
            if existing and style == "qmark" and ch == "?":
                params.append(("", seen_existing))
                seen_existing += 1
                sql += ch
            elif existing and style == "format" and ch == "%":
                following = piece[index:index + 1]
                if following == "s":
                    params.append(("", seen_existing))
                    seen_existing += 1
                sql += ch + following
                index += 1
            elif style == "format" and ch == "%":
                sql += "%%"
            else:
                sql += ch
    if quote:
        if group_has_expr:
            raise Unparameterizable("unterminated SQL string around a value")
        sql += "".join(p for p in group if isinstance(p, str))
    if style == "format" and not existing:
        sql = _double_percent_in_strings(sql)
    return sql, params


def _double_percent_in_strings(sql: str) -> str:
    """`%` inside SQL string literals must be doubled too when the driver formats with %s."""
    out = []
    quote = ""
    for ch in sql:
        if quote:
            out.append("%%" if ch == "%" else ch)
            if ch == quote:
                quote = ""
        else:
            if ch in "'\"":
                quote = ch
            out.append(ch)
    return "".join(out)


def _render_value(value: Expr | list[Piece] | int, quote: str) -> str:
    if isinstance(value, Expr):
        return value.source
    if isinstance(value, int):
        raise ValueError("an existing parameter has no expression of its own")
    return render_fstring(value, quote)


def _style_for(ctx: FixContext, call: Node) -> str:
    """Placeholder style of the driver behind a call."""
    name = ctx.qualified(ctx.text(call.child_by_field_name("function") or call))
    if name.startswith("sqlite3.") or ".sqlite3." in name:
        return "qmark"
    file_modules = {target.split(".")[0] for target in ctx.imports.names.values()}
    if "sqlite3" in file_modules or "aiosqlite" in file_modules:
        return "qmark"
    if any(d in file_modules for d in FORMAT_DRIVERS):
        return "format"
    if ctx.project.uses("sqlite3") and not any(ctx.project.uses(d) for d in FORMAT_DRIVERS):
        return "qmark"
    if any(ctx.project.uses(d) for d in FORMAT_DRIVERS):
        return "format"
    return "qmark"


def _query_source(ctx: FixContext, query: Node) -> tuple[Node, Built] | None:
    built = built_string(ctx.doc, query)
    if built is not None:
        return query, built
    if query.type == "identifier":
        value = single_assignment(ctx.doc, query)
        if value is None or len(uses_of(ctx.doc, scope_of(query), ctx.text(query))) != 1:
            return None
        built = built_string(ctx.doc, value)
        if built is not None:
            return value, built
    return None


def _candidate_calls(ctx: FixContext) -> list[Node]:
    found: list[Node] = []
    for node in [enclosing(ctx.sink_node, "call"), *[n for n in walk(ctx.node) if n.type == "call"],
                 enclosing(ctx.node, "call")]:
        if node is not None and all(node.start_byte != f.start_byte or node.end_byte != f.end_byte for f in found):
            found.append(node)
    return found


def _rewrite_text_call(ctx: FixContext, text_call: Node) -> Draft | None:
    """`text(f"... {x}")` -> `text("... :x").bindparams(x=x)`."""
    args = positional(text_call)
    if len(args) != 1:
        return None
    found = _query_source(ctx, args[0])
    if found is None:
        return None
    source, built = found
    if not built.exprs:
        return None
    try:
        sql, params = parameterize(built, "named")
    except Unparameterizable:
        return None
    binds = ", ".join(f"{name}={_render_value(value, built.quote)}" for name, value in params)
    edits = [ctx.replace(source, render_str(sql, built.quote)),
             ctx.replace(text_call, f"{ctx.text(text_call)}.bindparams({binds})")]
    if source.start_byte >= text_call.start_byte and source.end_byte <= text_call.end_byte:
        new_call = ctx.text(text_call).replace(ctx.text(source), render_str(sql, built.quote), 1)
        edits = [ctx.replace(text_call, f"{new_call}.bindparams({binds})")]
    return Draft("Bind the values as SQLAlchemy parameters", edits)


@source_independent
def bound_parameters(ctx: FixContext) -> Draft | None:
    """Parameterize the query of an execute/raw/read_sql/text() call instead of formatting values into it."""
    for call in _candidate_calls(ctx):
        fn = call.child_by_field_name("function")
        if fn is None:
            continue
        callee = ctx.text(fn)
        qualified = ctx.qualified(callee)
        method = callee.rsplit(".", 1)[-1]
        if qualified in TEXT_CALLS:
            drafted = _rewrite_text_call(ctx, call)
            if drafted is not None:
                return drafted
            continue
        args = positional(call)
        query: Node | None
        existing: Node | None = None
        if method in EXECUTE_METHODS | RAW_METHODS:
            if not args or keyword(call, "params") is not None or keyword(call, "parameters"):
                continue
            if len(args) > 1:
                existing = args[1]
                if len(args) > 2 or existing.type not in {"tuple", "list"}:
                    continue
            query = args[0]
        elif qualified in READ_SQL:
            query_kw = keyword(call, "sql")
            query = args[0] if args else (query_kw.child_by_field_name("value") if query_kw else None)
            if query is None or keyword(call, "params") is not None:
                continue
        else:
            continue
        if query is None:
            continue
        if query.type == "call":
            inner = query.child_by_field_name("function")
            if inner is not None and ctx.qualified(ctx.text(inner)) in TEXT_CALLS:
                drafted = _rewrite_text_call(ctx, query)
                if drafted is not None:
                    return drafted
                continue
        found = _query_source(ctx, query)
        if found is None:
            continue
        source, built = found
        if not built.exprs:
            continue
        uses_sqlalchemy = ctx.uses_module("sqlalchemy") and not any(
            target.split(".")[0] in {"sqlite3", *FORMAT_DRIVERS} for target in ctx.imports.names.values())
        style = "format" if method in RAW_METHODS else "named" if uses_sqlalchemy else _style_for(ctx, call)
        if existing is not None and style == "named":
            continue
        try:
            sql, params = parameterize(built, style, existing=existing is not None)
        except Unparameterizable:
            continue
        literal = render_str(sql, built.quote)
        old_values = [ctx.text(c) for c in existing.named_children if c.type != "comment"] if existing else []
        if existing is not None and sum(isinstance(v, int) for _, v in params) != len(old_values):
            continue  # placeholders and values do not line up: leave it alone
        values = [old_values[value] if isinstance(value, int) else _render_value(value, built.quote)
                  for _, value in params]
        inline = source.start_byte == query.start_byte and source.end_byte == query.end_byte
        if style == "named":
            text_fn = ctx.ref("sqlalchemy", "text")
            mapping = "{" + ", ".join(f"{render_str(n)}: {v}" for (n, _), v in zip(params, values, strict=True)) + "}"
            if inline:
                edits = [ctx.replace(source, f"{text_fn}({literal})")]
            else:
                edits = [ctx.replace(source, literal), ctx.replace(query, f"{text_fn}({ctx.text(query)})")]
            extra = append_argument(ctx.doc, call, mapping)
        else:
            as_list = method in RAW_METHODS or (existing is not None and existing.type == "list")
            container = "[" + ", ".join(values) + "]" if as_list else \
                "(" + ", ".join(values) + ("," if len(values) == 1 else "") + ")"
            edits = [ctx.replace(source, literal)]
            if existing is not None:
                edits.append(ctx.replace(existing, container))
                extra = None
            else:
                extra = append_argument(ctx.doc, call, f"params={container}" if qualified in READ_SQL else container)
        if extra is None and existing is None:
            continue
        if extra is not None:
            edits.append(extra)
        placeholder = {"qmark": "?", "format": "%s", "named": ":name"}[style]
        return Draft(f"Pass the values as bound parameters ({placeholder} placeholders)", edits)
    return None


_SORT_CONTEXT = re.compile(r"\b(?:ORDER|GROUP)\s+BY\s+(?:[\w.]+\s*(?:ASC|DESC)?\s*,\s*)*$|"
                           r"\b(?:ORDER|GROUP)\s+BY\s+[\w.\"`]+\s+$", re.IGNORECASE)
_DIRECTION_NAMES = re.compile(r"(?:^|_)(?:dir|direction|order|asc|desc|sort_?order)$", re.IGNORECASE)
COLUMNS_NAME = "SORTABLE_COLUMNS"


def _identifier_exprs(built: Built) -> list[Expr] | None:
    """The interpolated values of a query that all sit where a column name (or ASC/DESC) goes: after ORDER BY or
    GROUP BY. None when some value sits elsewhere (that is bound_parameters' shape)."""
    sql = ""
    found: list[Expr] = []
    for piece in built.pieces:
        if isinstance(piece, Expr):
            if not _SORT_CONTEXT.search(sql):
                return None
            found.append(piece)
            sql += "x"
        else:
            sql += piece
    return found or None


def _literal_defaults(ctx: FixContext, name: str, before: int) -> list[str]:
    """Column names the code itself offers for `name`: string defaults of `.get("key", "default")` assigned to it."""
    values: list[str] = []
    for node in walk(ctx.doc.tree.root_node):
        if node.start_byte >= before or node.type != "assignment":
            continue
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        if left is None or right is None or ctx.text(left) != name or right.type != "call":
            continue
        args = positional(right)
        if len(args) == 2 and args[1].type == "string" and re.fullmatch(r"[\"'][\w.]+[\"']", ctx.text(args[1])):
            values.append(ctx.text(args[1])[1:-1])
    return values


def _selected_columns(built: Built) -> list[str]:
    """The plain column names the query itself selects (`SELECT id, name FROM`), a start for the allowlist."""
    sql = "".join(p for p in built.pieces if isinstance(p, str))
    match = re.search(r"\bSELECT\s+(.+?)\s+FROM\b", sql, re.IGNORECASE | re.DOTALL)
    if match is None:
        return []
    names = [c.strip() for c in match.group(1).split(",")]
    return [n for n in names if re.fullmatch(r"[A-Za-z_]\w*", n)]


def column_allowlist(ctx: FixContext) -> Draft | None:
    """`ORDER BY {sort}`: a column name cannot be a bound parameter, so it must be one of a fixed set:
    `if sort not in SORTABLE_COLUMNS: raise ValueError(...)` before the query is built (ASC/DESC alike)."""
    for call in _candidate_calls(ctx):
        fn = call.child_by_field_name("function")
        args = positional(call)
        if fn is None or not args or ctx.text(fn).rsplit(".", 1)[-1] not in EXECUTE_METHODS | RAW_METHODS:
            continue
        found = _query_source(ctx, args[0])
        if found is None:
            continue
        source, built = found
        exprs = _identifier_exprs(built)
        statement = guard_statement(ctx.doc, source)
        if exprs is None or statement is None or any(e.node.type != "identifier" for e in exprs):
            continue
        lines: list[str] = []
        helpers: list[Helper] = []
        for name in dict.fromkeys(e.source for e in exprs):
            if _DIRECTION_NAMES.search(name):
                allowed, what = '("ASC", "DESC", "asc", "desc")', "sort direction"
            else:
                defaults = [*_selected_columns(built), *_literal_defaults(ctx, name, statement.start_byte)]
                allowed, what = COLUMNS_NAME, "column"
                listed = ", ".join(render_str(v) for v in dict.fromkeys(defaults))
                helpers = [Helper(COLUMNS_NAME, f"{COLUMNS_NAME} = frozenset({{{listed}}})\n"
                                                 '"""Columns a query may be sorted or grouped by (add yours)."""')]
            lines += [f"if {name} not in {allowed}:",
                      f'    raise ValueError(f"refusing to sort by {{{name}!r}}: not an allowed {what}")']
        title = "Allow only known columns in ORDER BY" + (f" (list yours in {COLUMNS_NAME})" if helpers else "")
        return Draft(title, [insert_before(ctx.doc, statement, lines)], helpers=helpers,
                     note=f"Every column users may sort by must be listed in {COLUMNS_NAME}; others are refused."
                     if helpers else "")
    return None


REWRITERS: tuple[Rewriter, ...] = (bound_parameters, column_allowlist)
"""Tried in order for an SQL injection finding."""

"""Template XSS rewriters (.html Jinja2/Django): escape a |safe value, autoescaping on again, script values as JS.

Each edits the template at the finding (an output `{{ ... }}` or an `{% autoescape %}` tag), read with jinja2's
own lexer and never rendered; verification lexes and parses the patched template again and re-analyses it.
All three escape whatever the value holds, so they are right whatever the data's source: markup a value was
meant to carry shows as text afterwards, and each title says so.
"""

from __future__ import annotations

import re

import jinja2
from jinja2 import nodes

from ai_core.analysis.templates.syntax import environment
from ai_core.analysis.templates.usages import SAFE_IN_SCRIPT
from ai_core.files import is_template
from ai_core.findings import TextEdit
from ai_core.fixes.context import Draft, FixContext, source_independent

_OUTPUT = re.compile(r"\{\{([-+]?)(.*?)([-+]?)\}\}", re.DOTALL)
_JINJA_CONSTRUCT = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_SCRIPT_OPEN = re.compile(r"(?i)<script\b[^>]*>")
_AUTOESCAPE_OFF = re.compile(r"(autoescape\s+)(false|False|off)\b")
_SWITCHED_ON = {"false": "true", "False": "True", "off": "on"}
JINJA_MODULES = ("flask", "jinja2", "quart", "fastapi", "starlette", "aiohttp_jinja2", "sanic")
_SIMPLE = (nodes.Name, nodes.Getattr, nodes.Getitem, nodes.Filter, nodes.Call, nodes.Const)
"""Expressions a filter can follow without parentheses (`a ~ b|tojson` would filter only `b`)."""


class _Template:
    """The template's text with conversions between the finding's byte offsets and character offsets."""

    def __init__(self, ctx: FixContext) -> None:
        self.data = ctx.doc.data
        self.text = self.data.decode("utf-8", errors="surrogatepass")
        self.start = self.char(ctx.finding.span.start_byte)
        self.end = self.char(ctx.finding.span.end_byte)

    def char(self, byte: int) -> int:
        """The character offset of a byte offset."""
        return len(self.data[:byte].decode("utf-8", errors="surrogatepass"))

    def edit(self, start: int, end: int, new_text: str) -> TextEdit:
        """Replace characters start..end."""
        encode = len(self.text[:start].encode("utf-8", errors="surrogatepass"))
        return TextEdit(encode, encode + len(self.text[start:end].encode("utf-8", errors="surrogatepass")), new_text)


def _output_at(ctx: FixContext) -> tuple[_Template, re.Match[str]] | None:
    """The template and the `{{ ... }}` the finding covers, in a template file."""
    if not is_template(ctx.finding.path):
        return None
    template = _Template(ctx)
    match = _OUTPUT.fullmatch(template.text, template.start, template.end)
    return (template, match) if match is not None else None


def _tokens(chunk: str) -> list[tuple[str, str, int]]:
    """(type, value, character offset) of the tokens of one output, by jinja2's lexer."""
    found: list[tuple[str, str, int]] = []
    pos = 0
    try:
        for _line, kind, value in environment().lex(chunk):
            start = chunk.find(value, pos) if value else pos
            start = pos if start < 0 else start
            found.append((kind, value, start))
            pos = start + len(value)
    except jinja2.TemplateSyntaxError:
        return []
    return found


def _filter_names(chunk: str, name: str, on_values_only: bool = False) -> list[tuple[int, int]]:
    """Character ranges of `|name` (the pipe and the filter's name) in one output; with `on_values_only`, only
    where it filters a value (`x.y|safe`), not what another filter or a call made (`x|linkify|safe`)."""
    tokens = [t for t in _tokens(chunk) if t[0] != "whitespace"]
    ranges = []
    for index, (kind, value, start) in enumerate(tokens):
        if kind == "operator" and value == "|" and index + 1 < len(tokens):
            following = tokens[index + 1]
            if following[0] != "name" or following[1] != name:
                continue
            before = tokens[index - 1] if index else None
            made = before is not None and (before[1] == ")" or (
                before[0] == "name" and index >= 2 and tokens[index - 2][1] == "|"))
            if not (on_values_only and made):
                ranges.append((start, following[2] + len(following[1])))
    return ranges


def _flavour(ctx: FixContext, text: str) -> str:
    """"django" or "jinja": `{% load %}` says Django; otherwise the framework the project imports."""
    if re.search(r"\{%-?\s*load\s", text):
        return "django"
    if any(ctx.project.uses(module) for module in JINJA_MODULES):
        return "jinja"
    return "django" if ctx.project.uses("django") else "jinja"


@source_independent
def escape_safe_filter(ctx: FixContext) -> Draft | None:
    """`{{ value|safe }}` -> `{{ value|escape }}` (Jinja2 and Django alike; a value marked safe in the code is
    not escaped twice). Left alone: `|safe` on what another filter or a call produced (`x|linkify|safe`)."""
    found = _output_at(ctx)
    if found is None:
        return None
    template, match = found
    chunk = match.group(0)
    ranges = _filter_names(chunk, "safe", on_values_only=True)
    if not ranges:
        return None  # markup a filter or a call of the template made: the template's own HTML
    edits = [template.edit(match.start() + end - len("safe"), match.start() + end, "escape") for _s, end in ranges]
    name = _OUTPUT.fullmatch(chunk)
    shown = name.group(2).strip() if name else chunk
    shown = shown.split("|", 1)[0].strip()
    return Draft(f"Escape {shown} instead of marking it |safe (markup it holds now shows as text)", edits)


@source_independent
def autoescape_block_on(ctx: FixContext) -> Draft | None:
    """`{% autoescape false %}` (Jinja2) / `{% autoescape off %}` (Django) around the output -> true / on."""
    if not is_template(ctx.finding.path):
        return None
    template = _Template(ctx)
    tag = _enclosing_autoescape_off(template.text, template.start)
    if tag is None:
        return None
    start, end = tag
    switched = _AUTOESCAPE_OFF.search(template.text, start, end)
    if switched is None:
        return None
    word = switched.group(2)
    return Draft("Turn autoescaping on for this template block (values in it that hold markup now show as text)",
                 [template.edit(switched.start(2), switched.end(2), _SWITCHED_ON[word])])


def _enclosing_autoescape_off(text: str, at: int) -> tuple[int, int] | None:
    """Character range of the `{% autoescape false/off %}` tag at `at` or of the innermost one open at `at`."""
    open_tags: list[tuple[int, int, bool]] = []
    pos = 0
    block: list[str] | None = None
    block_start = 0
    try:
        for _line, kind, value in environment().lex(text):
            start = text.find(value, pos) if value else pos
            start = pos if start < 0 else start
            pos = start + len(value)
            if start > at and kind == "block_begin":
                break
            if kind == "block_begin":
                block, block_start = [], start
            elif kind == "block_end" and block is not None:
                if block and block[0] == "autoescape":
                    open_tags.append((block_start, pos, len(block) > 1 and block[1].lower() in {"false", "off"}))
                elif block and block[0] == "endautoescape" and open_tags:
                    open_tags.pop()
                block = None
            elif block is not None and kind == "name":
                block.append(value)
    except jinja2.TemplateSyntaxError:
        return None
    for start, end, off in reversed(open_tags):
        return (start, end) if off else None
    return None


@source_independent
def script_value_as_js(ctx: FixContext) -> Draft | None:
    """A value output inside `<script>`: Jinja2 `{{ value|tojson }}` (a JSON value; inside a JS string the
    string is closed around it, inside a template literal it goes in `${...}`); Django `{{ value|escapejs }}`
    inside a JS string. Also drops a |safe on that value."""
    found = _output_at(ctx)
    if found is None:
        return None
    template, match = found
    text = template.text
    opening = next(reversed(list(_SCRIPT_OPEN.finditer(text, 0, match.start()))), None)
    if opening is None or re.search(r"(?i)</script\s*>", text[opening.end():match.start()]):
        return None
    state = js_state(_JINJA_CONSTRUCT.sub(lambda m: "0" if m.group(0).startswith("{{") else "",
                                          text[opening.end():match.start()]))
    if state == "comment":
        return None
    if any(_filter_names(match.group(0), name) for name in SAFE_IN_SCRIPT):
        return None  # already a JS value
    trim_left, expr, trim_right = match.group(1), match.group(2).strip(), match.group(3)
    for start, end in reversed(_filter_names(f"{{{{ {expr} }}}}", "safe")):
        expr = (expr[:start - 3] + expr[end - 3:]).strip()
    flavour = _flavour(ctx, text)
    if flavour == "django":
        if state not in {"'", '"', "`"}:
            return None  # a bare value needs json_script and a change in the view: not a template-only rewrite
        value = f"{{{{{trim_left} {expr}|escapejs {trim_right}}}}}"
        replacement, title = (value if state != "`" else f'${{"{value}"}}'), "Escape {} for JavaScript (|escapejs)"
        return Draft(title.format(_shown(expr)), [template.edit(match.start(), match.end(), replacement)])
    wrapped = expr if _simple(expr) else f"({expr})"
    value = f"{{{{{trim_left} {wrapped}|tojson {trim_right}}}}}"
    start, end = match.start(), match.end()
    if state and text[start - 1:start] == state and text[end:end + 1] == state:
        start, end, replacement = start - 1, end + 1, value  # the whole string literal: the JSON string instead
    elif state == "`":
        replacement = f"${{ {value} }}"
    elif state:
        replacement = f"{state} + {value} + {state}"
    else:
        replacement = value
    root = re.match(r"\w+", expr)
    escaped_here = root is not None and re.search(r"\{%-?\s*set\s+" + root.group(0) + r"\s*=[^%]*\breplace\(", text)
    note = (f"{root.group(0)} is set with replace() filters that escape it for a JS string; |tojson escapes it "
            "now, so drop them or they show in the page") if root is not None and escaped_here else ""
    return Draft(f"Output {_shown(expr)} as a JSON value in the script (|tojson)",
                 [template.edit(start, end, replacement)], note=note)


def _shown(expr: str) -> str:
    return expr.split("|", 1)[0].strip() or expr


def _simple(expr: str) -> bool:
    """True when `expr` is one name, attribute, item, call or filter chain (a filter after it applies to all)."""
    try:
        body = environment().parse(f"{{{{ {expr} }}}}").body
    except jinja2.TemplateSyntaxError:
        return False
    return len(body) == 1 and isinstance(body[0], nodes.Output) and len(body[0].nodes) == 1 and \
        isinstance(body[0].nodes[0], _SIMPLE)


def js_state(js: str) -> str:
    """Where JavaScript text ends: "" in code, "comment" in a comment, or the quote of the string it ends in."""
    stack = [""]
    i = 0
    while i < len(js):
        c, top = js[i], stack[-1]
        if top in {"'", '"', "`"}:
            if c == "\\":
                i += 2
                continue
            if c == top or (c == "\n" and top != "`"):
                stack.pop()
            elif top == "`" and js.startswith("${", i):
                stack.append("${")
                i += 1
            i += 1
            continue
        if js.startswith("//", i) or js.startswith("/*", i):
            close = js.find("\n" if js[i + 1] == "/" else "*/", i + 2)
            if close < 0:
                return "comment"
            i = close + (1 if js[i + 1] == "/" else 2)
            continue
        if c in "'\"`":
            stack.append(c)
        elif c == "{":
            stack.append("{")
        elif c == "}" and len(stack) > 1:
            stack.pop()
        i += 1
    return stack[-1] if stack[-1] in {"'", '"', "`"} else ""


TEMPLATE_REWRITERS = (escape_safe_filter, autoescape_block_on, script_value_as_js)
"""Tried first for an XSS finding (each returns None outside a template)."""

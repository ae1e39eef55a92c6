"""Unsafe outputs of one template, read with jinja2's lexer (Django templates lex well enough for these tokens).

Reported: `{{ x|safe }}`; every output inside `{% autoescape false %}` (Jinja2) or `{% autoescape off %}` (Django);
`{{ x }}` inside a `<script>` block without `|tojson`/`|escapejs`; `{{ x }}` as an unquoted attribute value
(`<a href={{ x }}>`), where escaping quotes does not stop a space from starting a new attribute.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import jinja2

from ai_core.analysis.templates.syntax import environment

log = logging.getLogger(__name__)

SAFE_IN_SCRIPT = frozenset({"tojson", "escapejs", "json_script", "int", "float", "length", "count"})
"""Filters after which a value is safe inside a script block."""
ESCAPING = frozenset({"e", "escape", "forceescape", "urlencode", "striptags", "int", "float", "length", "count"})
"""Filters after which a value is escaped again (or is a number)."""
DEVELOPER_TEXT = frozenset({"help_text"})
"""Attributes whose text the developer writes (a form field's help text), rendered |safe by design."""
_UNQUOTED_ATTRIBUTE = re.compile(r"\s[A-Za-z_:][-A-Za-z0-9_:.]*\s*=\s*$")
_SCRIPT_OPEN = re.compile(r"(?i)<script\b[^>]*>")
_SCRIPT_CLOSE = re.compile(r"(?i)</script\s*>")

KINDS = {
    "safe-filter": "the |safe filter turns HTML escaping off for this value",
    "autoescape-off": "autoescaping is switched off around this output",
    "script-variable": "a value inside <script> is HTML-escaped, not JavaScript-escaped; use |tojson",
    "unquoted-attribute": "an unquoted attribute value: a space in the value starts a new attribute; quote it",
}


@dataclass(frozen=True, slots=True)
class Usage:
    """One unsafe output: where it is, what it outputs (the variable's root name) and why it is unsafe."""

    kind: str
    variable: str
    line: int
    """1-based line of the output."""
    start: int
    end: int
    """Character offsets of the `{{ ... }}` (or the autoescape tag) in the template's text."""


class _Output:
    def __init__(self, line: int, start: int, in_script: bool, unquoted: bool, autoescape_off: bool) -> None:
        self.line = line
        self.start = start
        self.in_script = in_script
        self.unquoted = unquoted
        self.autoescape_off = autoescape_off
        self.names: list[str] = []
        self.filters: list[str] = []
        self.after_pipe = False


def unsafe_usages(text: str, name: str = "template") -> list[Usage]:
    """The unsafe outputs of a template's text; a template the lexer cannot read yields what was read so far."""
    usages: list[Usage] = []
    pos = 0
    in_script = False
    autoescape_stack: list[bool] = []
    block: list[str] | None = None
    output: _Output | None = None
    last_data = ""
    try:
        for line, kind, value in environment().lex(text, name):  # lexed, never rendered
            found = text.find(value, pos) if value else pos
            start = found if found >= 0 else pos
            pos = start + len(value)
            if kind == "data":
                last_data = value
                for match in re.finditer(r"(?i)<script\b[^>]*>|</script\s*>", value):
                    in_script = bool(_SCRIPT_OPEN.fullmatch(match.group(0)))
            elif kind == "variable_begin":
                inside_tag = last_data.rfind("<") > last_data.rfind(">")
                output = _Output(line, start, in_script,
                                 not in_script and inside_tag and bool(_UNQUOTED_ATTRIBUTE.search(last_data)),
                                 bool(autoescape_stack and autoescape_stack[-1]))
            elif kind == "variable_end" and output is not None:
                judged = _judge(output, pos)
                if judged and judged[0].kind == "autoescape-off" and usages and \
                        usages[-1].kind == "autoescape-off" and not usages[-1].variable:
                    usages.pop()  # the outputs inside stand for the tag
                usages.extend(judged)
                output = None
                last_data = ""
            elif output is not None:
                if kind == "operator" and value == "|":
                    output.after_pipe = True
                elif kind == "name":
                    (output.filters if output.after_pipe else output.names).append(value)
                    output.after_pipe = False
            elif kind == "block_begin":
                block = []
                block_start = start
            elif kind == "block_end" and block is not None:
                _tag(block, autoescape_stack, usages, line, block_start, pos)
                block = None
            elif block is not None and kind in {"name", "string"}:
                block.append(value)
    except jinja2.TemplateSyntaxError as exc:
        log.info("%s: template lexing stopped at line %s: %s", name, exc.lineno, exc.message)
    return usages


def _tag(words: list[str], stack: list[bool], usages: list[Usage], line: int, start: int, end: int) -> None:
    if not words:
        return
    if words[0] == "autoescape":
        off = len(words) > 1 and words[1].lower() in {"false", "off"}
        stack.append(off)
        if off:
            usages.append(Usage("autoescape-off", "", line, start, end))
    elif words[0] == "endautoescape" and stack:
        stack.pop()


def _judge(output: _Output, end: int) -> list[Usage]:
    variable = output.names[0] if output.names else ""
    filters = set(output.filters)
    if "safe" in filters and not _escaped_first(output.filters) and not _developer_text(output.names):
        return [Usage("safe-filter", variable, output.line, output.start, end)]
    if output.autoescape_off and not filters & ESCAPING:
        return [Usage("autoescape-off", variable, output.line, output.start, end)]
    if output.in_script and not filters & SAFE_IN_SCRIPT:
        return [Usage("script-variable", variable, output.line, output.start, end)]
    if output.unquoted and not filters & {"urlencode", "int", "float", "length", "count"}:
        return [Usage("unquoted-attribute", variable, output.line, output.start, end)]
    return []


def _escaped_first(filters: list[str]) -> bool:
    """`x|escape|nbsp|safe`: the value is escaped before it is marked safe."""
    return "safe" in filters and any(f in ESCAPING for f in filters[:filters.index("safe")])


def _developer_text(names: list[str]) -> bool:
    """`form.field.help_text|safe`: text written in the form definition, not by a visitor."""
    return len(names) > 1 and names[-1] in DEVELOPER_TEXT

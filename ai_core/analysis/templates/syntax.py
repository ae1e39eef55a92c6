"""Reading a template as jinja2 does, never rendering it: the one Environment the lexer and the checks share."""

from __future__ import annotations

from functools import cache

import jinja2

EXTENSIONS = ("jinja2.ext.i18n", "jinja2.ext.do", "jinja2.ext.loopcontrols")
"""Tags that Flask apps commonly enable ({% trans %}, {% do %}, {% break %}), so their templates parse."""


@cache
def environment() -> jinja2.Environment:
    """The Environment templates are lexed and parsed with (autoescaping, as Flask sets it for .html)."""
    return jinja2.Environment(autoescape=True, extensions=list(EXTENSIONS))


def lex_error(text: str, name: str = "template") -> str | None:
    """Why jinja2's lexer refuses the text (None when it reads to the end)."""
    try:
        for _token in environment().lex(text, name):
            pass
    except jinja2.TemplateSyntaxError as exc:
        return f"line {exc.lineno}: {exc.message}"
    return None


def parse_error(text: str, name: str = "template") -> str | None:
    """Why jinja2's parser refuses the text (None when it parses; Django-only tags such as {% load %} do not)."""
    try:
        environment().parse(text, name)
    except jinja2.TemplateSyntaxError as exc:
        return f"line {exc.lineno}: {exc.message}"
    return None


def still_reads(before: str, after: str, name: str = "template") -> str | None:
    """Why `after` no longer lexes, or no longer parses where `before` did (None when it still reads)."""
    problem = lex_error(after, name)
    if problem is not None and lex_error(before, name) is None:
        return f"does not lex as a template ({problem})"
    if parse_error(before, name) is None:
        problem = parse_error(after, name)
        if problem is not None:
            return f"does not parse as a template ({problem})"
    return None

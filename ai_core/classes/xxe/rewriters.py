"""XXE: lxml parsers without entity resolution or network access; defusedxml for the standard library parsers."""

from __future__ import annotations

from tree_sitter import Node

from ai_core.classes._shared.edit_helpers import calls_near
from ai_core.classes.xxe.spec import DEFUSED
from ai_core.findings import TextEdit
from ai_core.fixes.calls import append_argument, keyword, positional
from ai_core.fixes.context import Draft, FixContext, Rewriter

LXML_PARSERS = frozenset({"lxml.etree.XMLParser", "lxml.etree.XMLPullParser", "lxml.objectify.makeparser"})
LXML_PARSE = frozenset({"lxml.etree.parse", "lxml.etree.fromstring", "lxml.etree.XML", "lxml.etree.fromstringlist",
                        "lxml.objectify.parse", "lxml.objectify.fromstring", "lxml.objectify.XML"})
SAFE_FLAGS = (("resolve_entities", "False"), ("no_network", "True"))


def _callee(ctx: FixContext, call: Node) -> str:
    fn = call.child_by_field_name("function")
    return ctx.qualified(ctx.text(fn)) if fn is not None else ""


def _flag_edits(ctx: FixContext, call: Node) -> list[TextEdit] | None:
    """Edits that make `call`'s keywords say resolve_entities=False, no_network=True (None if it cannot)."""
    edits: list[TextEdit] = []
    missing: list[str] = []
    for flag, safe in SAFE_FLAGS:
        existing = keyword(call, flag)
        value = existing.child_by_field_name("value") if existing is not None else None
        if value is None:
            missing.append(f"{flag}={safe}")
        elif ctx.text(value) != safe:
            edits.append(ctx.replace(value, safe))
    if missing:
        appended = append_argument(ctx.doc, call, ", ".join(missing))
        if appended is None:
            return None
        edits.append(appended)
    return edits


def lxml_parser_flags(ctx: FixContext) -> Draft | None:
    """`etree.XMLParser(resolve_entities=True)` -> `etree.XMLParser(resolve_entities=False, no_network=True)`."""
    for call in calls_near(ctx):
        if _callee(ctx, call) not in LXML_PARSERS | {"lxml.etree.iterparse"}:
            continue
        edits = _flag_edits(ctx, call)
        if edits:
            return Draft("Parse without resolving entities or fetching from the network", edits)
    return None


def lxml_safe_parser(ctx: FixContext) -> Draft | None:
    """`etree.fromstring(data)` -> `etree.fromstring(data, parser=XMLParser(resolve_entities=False, ...))`."""
    for call in calls_near(ctx):
        name = _callee(ctx, call)
        if name not in LXML_PARSE or keyword(call, "parser") is not None or len(positional(call)) != 1:
            continue
        local = ctx.text(call.child_by_field_name("function"))  # type: ignore[arg-type]
        prefix = local.rpartition(".")[0]
        factory = f"{prefix}.XMLParser" if prefix else ctx.ref(name.rsplit(".", 1)[0], "XMLParser")
        parser = f"{factory}(resolve_entities=False, no_network=True)"
        edit = append_argument(ctx.doc, call, f"parser={parser}")
        if edit is not None:
            return Draft("Parse with an lxml parser that resolves no entities", [edit])
    return None


def defusedxml_parser(ctx: FixContext) -> Draft | None:
    """`ElementTree.fromstring(data)` / `minidom.parseString(data)` -> the defusedxml function of the same name."""
    for call in calls_near(ctx):
        name = _callee(ctx, call)
        module, _, function = name.rpartition(".")
        defused = DEFUSED.get(module)
        fn = call.child_by_field_name("function")
        if defused is None or fn is None:
            continue
        local = ctx.text(fn)
        replacement = f"{ctx.ref(defused)}.{function}" if "." in local else ctx.ref(defused, function)
        return Draft(f"Parse with {defused}.{function} (refuses entities and DTDs)",
                     [ctx.replace(fn, replacement)], drop_imports=[local.split(".")[0]],
                     note="defusedxml must be installed (add it to the project's dependencies).")
    return None


REWRITERS: tuple[Rewriter, ...] = (lxml_parser_flags, lxml_safe_parser, defusedxml_parser)
"""Tried in order for an XXE finding."""

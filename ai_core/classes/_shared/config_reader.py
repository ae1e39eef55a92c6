"""Shared helpers for checks that read configuration: settings modules, config classes, app.config writes.

A "setting" is a (name, value node, site) triple from a module-level assignment in a settings module
(Django settings, Flask config.py), a class-level assignment in a config class, `app.config["X"] = v`,
`app.config.update(X=v)` / `.update({"X": v})` / `.from_mapping(X=v)`. Development and test settings
(modules or classes named dev/local/test...) are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from tree_sitter import Node

from ai_core.analysis.context import AnalysisContext
from ai_core.analysis.specs import table
from ai_core.findings import VulnClass
from ai_core.parsing.tree import enclosing, string_value

MISCONF = table(VulnClass.SECURITY_MISCONFIGURATION)
_DEV = re.compile(MISCONF["dev_names"])
_MARKERS = tuple(MISCONF["settings_markers"])


@dataclass(frozen=True, slots=True)
class Setting:
    """One configuration value as written in the code."""

    name: str
    value: Node
    site: Node


def is_settings_module(ctx: AnalysisContext) -> bool:
    """A Django settings module or a Flask config module (by file name or by Django markers)."""
    name = ctx.path.replace("\\", "/").rsplit("/", 1)[-1].lower()
    if "settings" in name or "config" in name or name in {"conf.py", "base.py", "production.py", "prod.py"}:
        return True
    return any(m.encode() + b" =" in ctx.doc.data or m.encode() + b"=" in ctx.doc.data for m in _MARKERS)


def is_dev_path(path: str) -> bool:
    """True for development/test settings files (settings/dev.py, local_settings.py, test_config.py)."""
    parts = path.replace("\\", "/").split("/")
    names = [parts[-1].rsplit(".", 1)[0]]
    if len(parts) > 1 and parts[-2] in {"settings", "config", "conf", "envs", "environments"}:
        names.append(parts[-2])
    return any(_DEV.search(name) for name in names if name not in {"settings", "config", "conf"})


def in_dev_settings(ctx: AnalysisContext, node: Node) -> bool:
    """True for a value in development/test settings: a dev settings file or a class such as DevelopmentConfig."""
    if is_dev_path(ctx.path):
        return True
    cls = enclosing(node, "class_definition", stop=("function_definition",))
    name = cls.child_by_field_name("name") if cls is not None else None
    return name is not None and bool(_DEV.search(ctx.index.text(name)))


def settings(ctx: AnalysisContext) -> Iterator[Setting]:
    """Every configuration value the document writes (see the module docstring)."""
    index = ctx.index
    settings_module = is_settings_module(ctx) and not is_dev_path(ctx.path)
    for assign in index.assignments:
        left = assign.child_by_field_name("left")
        right = assign.child_by_field_name("right")
        if left is None or right is None:
            continue
        if left.type == "identifier":
            name = index.text(left)
            if not name.isupper():
                continue
            if index.module_level(assign):
                if settings_module:
                    yield Setting(name, right, assign)
                continue
            cls = enclosing(assign, "class_definition", stop=("function_definition",))
            if cls is not None and settings_module:
                cls_name = cls.child_by_field_name("name")
                if cls_name is not None and not _DEV.search(index.text(cls_name)):
                    yield Setting(name, right, assign)
        elif left.type == "subscript":
            container = left.child_by_field_name("value")
            key = string_value(left.child_by_field_name("subscript"))
            if container is not None and key and key.isupper() and index.text(container).endswith("config"):
                yield Setting(key, right, assign)
        elif left.type == "attribute":
            attr = left.child_by_field_name("attribute")
            if attr is not None and index.text(attr) in {"debug", "secret_key", "permanent_session_lifetime"}:
                yield Setting(index.text(attr).upper(), right, assign)
    for site in index.calls:
        if site.method not in {"update", "from_mapping"} or not site.receiver.endswith("config"):
            continue
        for arg in site.arguments():
            if arg.type == "keyword_argument":
                key_node = arg.child_by_field_name("name")
                value = arg.child_by_field_name("value")
                if key_node is not None and value is not None:
                    yield Setting(index.text(key_node), value, arg)
            elif arg.type == "dictionary":
                for pair in arg.named_children:
                    if pair.type == "pair":
                        key_text = string_value(pair.child_by_field_name("key"))
                        value = pair.child_by_field_name("value")
                        if key_text and value is not None:
                            yield Setting(key_text, value, pair)


def literal_text(ctx: AnalysisContext, node: Node) -> str:
    """The source text of a value node."""
    return ctx.index.text(node)


def contains_wildcard(ctx: AnalysisContext, node: Node | None, wildcards: tuple[str, ...] = ("*",)) -> bool:
    """A string or list/tuple/set literal containing one of `wildcards`."""
    if node is None:
        return False
    if node.type in {"string", "concatenated_string"}:
        return string_value(node) in wildcards
    if node.type in {"list", "tuple", "set"}:
        return any(contains_wildcard(ctx, child, wildcards) for child in node.named_children)
    return False

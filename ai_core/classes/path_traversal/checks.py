"""Path checks that do not contain (CWE-22): sanitizers and containment tests that look right and are not.

- `name.replace("../", "")` removes each `../` once: `....//` becomes `../` again (a loop until none is left
  does work, and so does removing `..` itself);
- `os.path.commonprefix([base, target]) == base` compares characters, not path components: `/data/x-evil`
  starts with `/data/x`. An archive extracted after such a check (the widely copied CVE-2007-4559 patch) writes
  outside its folder.

Fix: `os.path.basename`/`secure_filename` for names; for paths, `os.path.realpath` then
`os.path.commonpath([base, target]) == base` or `Path.is_relative_to`; `tar.extractall(dest, filter="data")`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from tree_sitter import Node

from ai_core.analysis.context import AnalysisContext
from ai_core.analysis.rules import Check, Rule
from ai_core.findings import Finding, Severity, VulnClass
from ai_core.parsing.tree import enclosing, nodes_of_type

PATH = VulnClass.PATH_TRAVERSAL

ONE_PASS_STRIP = Rule("path.one-pass-dotdot-strip", PATH, Severity.HIGH, 0.7,
                      "'../' removed in one pass: '....//' becomes '../' again", cwe=22)
PREFIX_CHECK = Rule("path.commonprefix-containment", PATH, Severity.MEDIUM, 0.65,
                    "containment checked with os.path.commonprefix (characters, not path components)", cwe=22)

ONE_PASS_PATTERN = re.compile(r"""^[rbuf]*['"]\.\.(?:/|\\\\|\{os\.(?:path\.)?sep\}|\{sep\})['"]$"""
                         r"""|^['"]\.\.['"]\s*\+\s*os\.(?:path\.)?sep$|^os\.pardir\s*\+\s*os\.(?:path\.)?sep$""")
"""The first argument of a replace that strips one parent step: '../', '..\\', f'..{os.path.sep}'."""
_EXTRACT = frozenset({"extractall", "extract", "unpack_archive"})


def outermost_function(node: Node) -> Node | None:
    """The outermost function definition around `node` (None at module level)."""
    found = None
    parent = node.parent
    while parent is not None:
        if parent.type == "function_definition":
            found = parent
        parent = parent.parent
    return found


def _one_pass_strips(ctx: AnalysisContext) -> Iterator[Finding]:
    for call in nodes_of_type(ctx.doc.tree.root_node, "call"):
        fn, args = call.child_by_field_name("function"), call.child_by_field_name("arguments")
        attr = fn.child_by_field_name("attribute") if fn is not None and fn.type == "attribute" else None
        if attr is None or args is None or ctx.index.text(attr) != "replace" or not args.named_child_count:
            continue
        first = args.named_children[0]
        if not ONE_PASS_PATTERN.match(ctx.index.text(first)):
            continue
        loop = enclosing(call, "while_statement", stop=("function_definition",))
        condition = loop.child_by_field_name("condition") if loop is not None else None
        if condition is not None and ".." in ctx.index.text(condition):
            continue  # while '../' in name: name = name.replace('../', '') -- repeated until none is left
        yield ONE_PASS_STRIP.finding(ctx, call, f"replace({ctx.index.text(first)}, ...) removes each '../' once, so "
                                                "'....//' still climbs out; keep the base name or resolve the path "
                                                "and check containment")


def _prefix_checks(ctx: AnalysisContext) -> Iterator[Finding]:
    prefix_calls = [site for site in ctx.index.calls if site.qualified in {"os.path.commonprefix",
                                                                           "posixpath.commonprefix"}]
    reported: set[int] = set()
    for prefix in prefix_calls:
        function = outermost_function(prefix.node)
        if function is None or function.start_byte in reported:
            continue
        reported.add(function.start_byte)
        extracts = [site for site in ctx.index.calls if site.method in _EXTRACT and site.receiver
                    and function.start_byte <= site.node.start_byte < function.end_byte]
        for site in extracts or [prefix]:
            yield PREFIX_CHECK.finding(ctx, site.node, "the containment check uses os.path.commonprefix, which "
                                                       "compares characters: '/dest-evil/x' passes a check for "
                                                       "'/dest'; use os.path.commonpath on real paths (or "
                                                       "filter='data')")


def run(ctx: AnalysisContext) -> Iterator[Finding]:
    """One-pass '../' stripping and commonprefix containment checks."""
    data = ctx.doc.data
    if b"replace" in data and b".." in data:
        yield from _one_pass_strips(ctx)
    if b"commonprefix" in data:
        yield from _prefix_checks(ctx)


CHECK = Check("path-checks", (ONE_PASS_STRIP, PREFIX_CHECK), run)

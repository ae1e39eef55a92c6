"""XML parsers configured to resolve external entities (CWE-611), whatever the data.

- `lxml.etree.XMLParser(resolve_entities=True)` or `XMLParser(no_network=False)`: documents parsed with it
  may read local files or fetch URLs through entities and DTDs;
- `parser.setFeature(feature_external_ges, True)` on a SAX parser: external general (or parameter)
  entities are fetched.

Fix: `XMLParser(resolve_entities=False, no_network=True)`; leave the SAX features off (or use defusedxml).
"""

from __future__ import annotations

from collections.abc import Iterator

from ai_core.analysis.context import AnalysisContext
from ai_core.analysis.rules import Check, Rule
from ai_core.analysis.specs import table
from ai_core.findings import Finding, Severity, VulnClass

XXE_TABLE = table(VulnClass.XXE)

LXML_PARSER = Rule("xxe.lxml-parser-entities", VulnClass.XXE, Severity.HIGH, 0.85,
                   "lxml parser resolves external entities", cwe=611)
SAX_FEATURE = Rule("xxe.sax-external-entities", VulnClass.XXE, Severity.HIGH, 0.85,
                   "SAX parser fetches external entities", cwe=611)


def _lxml_parsers(ctx: AnalysisContext) -> Iterator[Finding]:
    index = ctx.index
    for site in index.calls_to(*XXE_TABLE["lxml_parsers"]):
        for flag, bad in XXE_TABLE["unsafe_parser_flags"]:
            value = site.keyword(flag)
            if value is not None and index.text(value) == bad:
                yield LXML_PARSER.finding(ctx, site.node, f"{site.name}({flag}={bad}): parsed documents can read "
                                                          "local files or fetch URLs through entities")
                break


def _sax_features(ctx: AnalysisContext) -> Iterator[Finding]:
    index = ctx.index
    features = tuple(XXE_TABLE["sax_external_features"])
    for site in index.calls:
        if site.method != "setFeature":
            continue
        args = site.positional()
        if len(args) == 2 and index.text(args[1]) in {"True", "1"} and \
                any(feature in index.text(args[0]) for feature in features):
            yield SAX_FEATURE.finding(ctx, site.node, "this SAX parser fetches external entities named in the "
                                                      "document (XXE)")


def run(ctx: AnalysisContext) -> Iterator[Finding]:
    """Entity-resolving lxml parsers and SAX parsers with external entities on."""
    data = ctx.doc.data
    if b"Parser" in data or b"makeparser" in data:
        yield from _lxml_parsers(ctx)
    if b"setFeature" in data:
        yield from _sax_features(ctx)


CHECK = Check("xxe", (LXML_PARSER, SAX_FEATURE), run)

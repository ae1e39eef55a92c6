"""XML external entities (CWE-611, and entity expansion CWE-776): XML parsers that resolve entities.

An XML document with `<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>` makes a resolving parser
read local files or fetch URLs (SSRF) and paste them into the result; nested entities ("billion laughs")
exhaust memory. lxml resolves entities unless told otherwise (`resolve_entities=False`), and an
`XMLParser(no_network=False)` also fetches remote DTDs. The standard library parsers (`xml.etree`,
`xml.dom.minidom`, `xml.sax`) do not fetch external entities on current Python, but still expand
internal ones on untrusted input.

Fix: parse untrusted XML with `defusedxml` (`defusedxml.ElementTree.fromstring`,
`defusedxml.minidom.parseString`), or give lxml a parser `XMLParser(resolve_entities=False, no_network=True)`.
"""

from __future__ import annotations

from ai_core.analysis.specs.spec_types import ArgTest, ClassSpec, Sanitizer, Sink
from ai_core.findings import Severity, VulnClass

XXE = VulnClass.XXE

_LXML = ("lxml.etree.parse", "lxml.etree.fromstring", "lxml.etree.XML", "lxml.etree.iterparse",
         "lxml.etree.fromstringlist", "lxml.objectify.parse", "lxml.objectify.fromstring", "lxml.objectify.XML")
_STDLIB = ("xml.etree.ElementTree.parse", "xml.etree.ElementTree.fromstring", "xml.etree.ElementTree.XML",
           "xml.etree.ElementTree.iterparse", "xml.etree.ElementTree.fromstringlist",
           "xml.etree.cElementTree.parse", "xml.etree.cElementTree.fromstring", "xml.dom.minidom.parse",
           "xml.dom.minidom.parseString", "xml.dom.pulldom.parse", "xml.dom.pulldom.parseString",
           "xml.sax.parse", "xml.sax.parseString", "xml.dom.expatbuilder.parseString")

DEFUSED: dict[str, str] = {
    "xml.etree.ElementTree": "defusedxml.ElementTree", "xml.etree.cElementTree": "defusedxml.ElementTree",
    "xml.dom.minidom": "defusedxml.minidom", "xml.dom.pulldom": "defusedxml.pulldom", "xml.sax": "defusedxml.sax",
    "xml.dom.expatbuilder": "defusedxml.expatbuilder",
}
"""The defusedxml module that replaces each standard library parser module (same function names)."""

SPEC = ClassSpec(
    vuln_class=XXE,
    sinks=(
        Sink(
            id="xxe.lxml-parse",
            vuln_class=XXE,
            patterns=_LXML,
            args=(0, "source", "text"),
            unless=(ArgTest("parser", position=1),),
            passes_data=True,
            severity=Severity.HIGH,
            confidence=0.8,
            reason="lxml's default parser resolves entities: an uploaded document can read local files "
                   "(file:///etc/passwd) into the parsed tree.",
            example="root = etree.fromstring(request.data)",
            title="untrusted XML parsed by lxml with entity resolution",
        ),
        Sink(
            id="xxe.stdlib-parse",
            vuln_class=XXE,
            patterns=_STDLIB,
            args=(0, "source", "string", "file"),
            cwe=776,
            passes_data=True,
            severity=Severity.MEDIUM,
            confidence=0.7,
            reason="The standard library XML parsers expand entities defined in the document (billion laughs) "
                   "and are not hardened against malicious XML; defusedxml is.",
            example="doc = minidom.parseString(request.body)",
            title="untrusted XML parsed without defusedxml",
        ),
    ),
    sanitizers=(
        Sanitizer(
            id="xxe.sanitize.defusedxml",
            patterns=("defusedxml.ElementTree.fromstring", "defusedxml.ElementTree.parse",
                      "defusedxml.ElementTree.XML", "defusedxml.ElementTree.iterparse", "defusedxml.minidom.parse",
                      "defusedxml.minidom.parseString", "defusedxml.sax.parseString", "defusedxml.sax.parse",
                      "defusedxml.pulldom.parseString", "defusedxml.lxml.fromstring", "defusedxml.lxml.parse"),
            classes=frozenset({XXE}),
            reason="defusedxml's parsers refuse DTDs, entity declarations and external references.",
            example="root = defusedxml.ElementTree.fromstring(request.data)",
        ),
    ),
    tables={
        "lxml_parsers": ("lxml.etree.XMLParser", "lxml.etree.XMLPullParser", "lxml.objectify.makeparser",
                         "lxml.etree.XMLTreeBuilder"),
        "unsafe_parser_flags": (("resolve_entities", "True"), ("no_network", "False")),
        "sax_external_features": ("feature_external_ges", "feature_external_pes",
                                  "http://xml.org/sax/features/external-general-entities",
                                  "http://xml.org/sax/features/external-parameter-entities"),
        "defused_modules": DEFUSED,
    },
)

"""Declarative specs, one `spec.py` per class (ai_core/classes/<class>/), compiled into one fast lookup table.

`spec_set(settings)` returns the built-in specs plus the user's `extra_sources`, `extra_sinks` and
`extra_sanitizers` (same shape as the built-in entries; see specs/spec_types.py). The entries every class
shares (sources.py, common.py) and the spec types (spec_types.py) live here. Invalid user entries are
logged and skipped; they never stop an analysis.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from ai_core.analysis.rules import Rule
from ai_core.analysis.specs import common, sources
from ai_core.analysis.specs.spec_types import (
    ALL,
    FLOW_CLASSES,
    INJECTION_CLASSES,
    NORMALIZED,
    REVIEW_CLASSES,
    ArgTest,
    ClassSpec,
    Propagator,
    Sanitizer,
    Sink,
    Source,
    SpecError,
    sanitizer_from_mapping,
    sink_from_mapping,
    source_from_mapping,
)
from ai_core.analysis.wordlist import alternation
from ai_core.classes import class_parts
from ai_core.config import Settings
from ai_core.findings import VulnClass

log = logging.getLogger(__name__)

_VERSIONS = itertools.count(1)

CLASS_SPECS: dict[VulnClass, ClassSpec] = {module.SPEC.vuln_class: module.SPEC for _, module in class_parts("spec")}
"""Every class's spec, by class; each spec.py's docstring is the class's user documentation."""


def table(vuln_class: VulnClass) -> Mapping[str, Any]:
    """The non-flow data table of a class (names, formats, settings)."""
    return CLASS_SPECS[vuln_class].tables


class _Index:
    """Entries by exact pattern and by the last component of `*.` patterns."""

    def __init__(self) -> None:
        self.exact: dict[str, list[Any]] = {}
        self.wild: dict[str, list[tuple[str, Any]]] = {}

    def add(self, pattern: str, entry: Any) -> None:
        if pattern.startswith("*."):
            suffix = pattern[1:]
            self.wild.setdefault(suffix.rsplit(".", 1)[-1], []).append((suffix, entry))
        else:
            self.exact.setdefault(pattern, []).append(entry)

    def lookup(self, qualified: str) -> list[Any]:
        found = self.exact.get(qualified)
        if found:
            return found
        last = qualified.rsplit(".", 1)[-1]
        candidates = self.wild.get(last)
        if not candidates:
            return []
        dotted = "." + qualified
        return [entry for suffix, entry in candidates if dotted.endswith(suffix)]


class SpecSet:
    """All sources, sinks, sanitizers and propagators, indexed for lookups by qualified name."""

    def __init__(self, specs: Iterable[ClassSpec], extra_sources: Iterable[Source] = (),
                 extra_sinks: Iterable[Sink] = (), extra_sanitizers: Iterable[Sanitizer] = ()) -> None:
        specs = list(specs)
        self.sources_list: list[Source] = [*sources.SOURCES]
        self.sinks_list: list[Sink] = []
        self.sanitizers_list: list[Sanitizer] = [*common.SANITIZERS]
        self.propagators_list: list[Propagator] = [*common.TYPES, *common.PROPAGATORS]
        for spec in specs:
            self.sources_list.extend(spec.sources)
            self.sinks_list.extend(spec.sinks)
            self.sanitizers_list.extend(spec.sanitizers)
            self.propagators_list.extend(spec.propagators)
        self.sources_list.extend(extra_sources)
        self.sinks_list.extend(extra_sinks)
        self.sanitizers_list.extend(extra_sanitizers)
        self._sources = _Index()
        self._sinks = _Index()
        self._special_sinks: dict[str, list[Sink]] = {}
        self._sanitizers = _Index()
        self._attr_sanitizers = _Index()
        self._guards = _Index()
        self._propagators = _Index()
        for source in self.sources_list:
            for pattern in source.patterns:
                self._sources.add(pattern, source)
        for sink in self.sinks_list:
            for pattern in sink.patterns:
                if pattern.startswith("<"):
                    self._special_sinks.setdefault(pattern, []).append(sink)
                else:
                    self._sinks.add(pattern, sink)
        for sanitizer in self.sanitizers_list:
            index = {"call": self._sanitizers, "attribute": self._attr_sanitizers,
                     "guard": self._guards}.get(sanitizer.kind)
            if index is not None:
                for pattern in sanitizer.patterns:
                    if not pattern.startswith("<"):
                        index.add(pattern, sanitizer)
        for propagator in self.propagators_list:
            for pattern in propagator.patterns:
                self._propagators.add(pattern, propagator)
        self.rules: dict[str, Rule] = {}
        for sink in self.sinks_list:
            self.rules.setdefault(sink.id, sink.rule)
        self.version = next(_VERSIONS)
        """Distinguishes cached analysis results computed with different specs."""
        self.structural_tokens = _words(
            word for sink in self.sinks_list if sink.structural
            for word in ([t.name for t in sink.when if t.truthy] or sink.patterns))
        """Words a function must contain to reach a structural sink (prefilter on bytes)."""
        self.review_tokens = _review_words(
            pattern for sink in self.sinks_list if not sink.structural and sink.vuln_class in REVIEW_CLASSES
            for pattern in sink.patterns)
        """Names a function must mention to reach a review-tier sink (prefilter on bytes; generic method names such
        as `get` or `open` only with their module, `requests.get`, so helpers are not all analysed)."""
        extra = list(extra_sources)
        self.extra_source_tokens = _words(p for source in extra for p in source.patterns) if extra else None
        """Words of user-defined sources (the built-in ones are in symbols.SOURCE_TOKENS)."""
        self._source_memo: dict[tuple[str, bool], Source | None] = {}
        self._sink_memo: dict[str, list[Sink]] = {}
        self._san_memo: dict[str, Sanitizer | None] = {}
        self._prop_memo: dict[str, Propagator | None] = {}

    def source(self, qualified: str, is_call: bool) -> Source | None:
        """The source a qualified attribute (or call) name reads from, matching pattern prefixes."""
        key = (qualified, is_call)
        if key in self._source_memo:
            return self._source_memo[key]
        found: Source | None = None
        parts = qualified.split(".")
        for end in range(len(parts), 0, -1):
            prefix = ".".join(parts[:end])
            for source in self._sources.exact.get(prefix, ()):
                if source.kind == "any" or (source.kind == "call") == (is_call and end == len(parts)):
                    found = source
                    break
            if found:
                break
        if found is None and is_call:
            for source in self._sources.lookup(qualified):
                if source.kind != "attribute":
                    found = source
                    break
        self._source_memo[key] = found
        return found

    def sinks(self, qualified: str) -> list[Sink]:
        """Sinks matching a qualified call name (exact patterns win over `*.method` ones)."""
        found = self._sink_memo.get(qualified)
        if found is None:
            found = self._sinks.lookup(qualified)
            self._sink_memo[qualified] = found
        return found

    def exact_sinks(self, qualified: str) -> list[Sink]:
        """Sinks whose pattern names exactly this qualified call."""
        return self._sinks.exact.get(qualified, [])

    def special_sinks(self, name: str) -> list[Sink]:
        """Sinks for returns of route handlers ('<route-return>') and header assignments."""
        return self._special_sinks.get(name, [])

    def sanitizer(self, qualified: str) -> Sanitizer | None:
        """The call sanitizer with this qualified name, if any."""
        if qualified in self._san_memo:
            return self._san_memo[qualified]
        found = self._sanitizers.lookup(qualified)
        result = found[0] if found else None
        self._san_memo[qualified] = result
        return result

    def attribute_sanitizer(self, qualified: str) -> Sanitizer | None:
        """The attribute sanitizer (e.g. pathlib.Path.name) with this qualified name, if any."""
        found = self._attr_sanitizers.lookup(qualified)
        return found[0] if found else None

    def guard(self, qualified: str) -> Sanitizer | None:
        """The guard sanitizer (a check used in an `if`) with this qualified name, if any."""
        found = self._guards.lookup(qualified)
        return found[0] if found else None

    def propagator(self, qualified: str) -> Propagator | None:
        """How a library call passes taint on (propagate, clean, mutate, or a result type)."""
        if qualified in self._prop_memo:
            return self._prop_memo[qualified]
        found = self._propagators.lookup(qualified)
        result = found[0] if found else None
        self._prop_memo[qualified] = result
        return result


def _words(patterns: Iterable[str]) -> re.Pattern[bytes]:
    words = {p.rsplit(".", 1)[-1] for p in patterns if not p.startswith("<")}
    return re.compile(rb"\b" + alternation(words).encode() + rb"\b")


_GENERIC_NAMES = frozenset({
    "get", "post", "put", "patch", "delete", "head", "options", "request", "open", "run", "call", "text", "load",
    "loads", "read_text", "read_bytes", "write_text", "write_bytes", "unlink", "remove", "rmdir", "mkdir",
    "makedirs", "removedirs", "rename", "replace", "Response", "Template", "Request", "FTP", "SMTP", "serve",
    "HTTPConnection", "HTTPSConnection", "create_connection", "from_string", "sudo", "raw", "extra", "copy", "glob",
    "listdir", "iterdir", "walk", "scandir", "stat"})
"""Method names too common to mark a function as reaching a sink on their own."""


def _review_words(patterns: Iterable[str]) -> re.Pattern[bytes]:
    words: set[str] = set()
    for pattern in patterns:
        parts = pattern.split(".")
        if pattern.startswith("<") or (parts[-1] in _GENERIC_NAMES and (len(parts) < 2 or parts[-2] == "*")):
            continue
        words.add(".".join(parts[-2:]) if parts[-1] in _GENERIC_NAMES else parts[-1])
    return re.compile(rb"\b" + alternation(words).encode() + rb"\s*\(")


def _parse_all(raw: Iterable[Mapping[str, Any]], parse: Any, what: str) -> list[Any]:
    entries = []
    for item in raw:
        try:
            entries.append(parse(item))
        except (SpecError, TypeError, ValueError) as exc:
            log.warning("ignoring %s entry %r: %s", what, dict(item), exc)
    return entries


@lru_cache(maxsize=16)
def _cached(key: str) -> SpecSet:
    extras = json.loads(key)
    return SpecSet(
        CLASS_SPECS.values(),
        _parse_all(extras["sources"], source_from_mapping, "extra_sources"),
        _parse_all(extras["sinks"], sink_from_mapping, "extra_sinks"),
        _parse_all(extras["sanitizers"], sanitizer_from_mapping, "extra_sanitizers"),
    )


def spec_set(settings: Settings | None = None) -> SpecSet:
    """The compiled specs for `settings` (built-ins plus its extra entries); cached per distinct extras."""
    settings = settings or Settings()
    key = json.dumps({"sources": [dict(e) for e in settings.extra_sources],
                      "sinks": [dict(e) for e in settings.extra_sinks],
                      "sanitizers": [dict(e) for e in settings.extra_sanitizers]}, sort_keys=True, default=str)
    return _cached(key)


def builtin_rules() -> list[Rule]:
    """The rules of every built-in sink (stable ids)."""
    return list(spec_set().rules.values())


__all__ = [
    "ALL", "CLASS_SPECS", "FLOW_CLASSES", "INJECTION_CLASSES", "NORMALIZED", "ArgTest", "ClassSpec",
    "Propagator", "Sanitizer", "Sink", "Source", "SpecError", "SpecSet", "builtin_rules", "spec_set", "table",
]

"""Insecure deserialization (CWE-502): untrusted bytes given to pickle or yaml.load rebuild arbitrary objects.

Fix: use `yaml.safe_load` / `json.loads`, or sign and verify data before unpickling.
"""

from __future__ import annotations

from collections.abc import Iterator

from ai_core.analysis.context import AnalysisContext
from ai_core.analysis.imports import is_literal, iter_calls, keyword_argument, positional_arguments
from ai_core.analysis.rules import Check, Rule
from ai_core.findings import Finding, Severity, VulnClass

PICKLE_LOADS = Rule("deserialization.pickle-loads", VulnClass.INSECURE_DESERIALIZATION,
                    Severity.HIGH, 0.8, "pickle.loads of non-literal data")
YAML_LOAD = Rule("deserialization.yaml-load", VulnClass.INSECURE_DESERIALIZATION,
                 Severity.HIGH, 0.85, "yaml.load without a safe loader")

_PICKLE_CALLS = frozenset({"pickle.loads", "pickle.load", "cPickle.loads", "cPickle.load",
                           "_pickle.loads", "dill.loads", "marshal.loads"})
_SAFE_YAML_LOADERS = ("SafeLoader", "CSafeLoader", "BaseLoader")


def run(ctx: AnalysisContext) -> Iterator[Finding]:
    """Flag pickle-family loads of non-literal data and yaml.load without a safe Loader."""
    for call, name in iter_calls(ctx.doc, ctx.imports):
        args = positional_arguments(call)
        if name in _PICKLE_CALLS and args and not is_literal(args[0]):
            yield PICKLE_LOADS.finding(ctx, call, f"{name}() rebuilds arbitrary objects from its input; "
                                       "untrusted data here allows code execution")
        elif name in {"yaml.load", "yaml.load_all"}:
            loader = keyword_argument(call, "Loader")
            if loader is None and len(args) > 1:
                loader = args[1]
            if loader is None or not ctx.doc.node_text(loader).endswith(_SAFE_YAML_LOADERS):
                yield YAML_LOAD.finding(ctx, call, f"{name}() without a safe Loader can construct "
                                        "arbitrary Python objects; use yaml.safe_load()")


CHECK = Check("deserialization", (PICKLE_LOADS, YAML_LOAD), run)

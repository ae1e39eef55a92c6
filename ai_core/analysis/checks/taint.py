"""Data-flow findings of every class: untrusted data (request data, argv, sockets...) reaching a sink.

The sinks, sources, sanitizers and propagators are the declarative specs in ai_core/analysis/specs;
each sink entry is a rule with a stable id (e.g. "sql.dbapi-execute", "deserialization.pickle-loads").
Structural sinks (pickle, yaml.load, shell=True, os.system, tar extraction) are also reported when
their argument is not a constant and its origin is unknown, as Bandit would.
"""

from __future__ import annotations

from ai_core.analysis.context import AnalysisContext
from ai_core.analysis.project import Project
from ai_core.analysis.rules import Check
from ai_core.analysis.specs import builtin_rules, spec_set
from ai_core.analysis.taint import TaintAnalysis
from ai_core.findings import Finding


def run(ctx: AnalysisContext) -> list[Finding]:
    """Taint findings of the document, resolving calls through the context's project when it has one."""
    base = ctx.project if isinstance(ctx.project, Project) else Project()
    project, module = base.view_for(ctx.doc, ctx.path)
    return TaintAnalysis(project, spec_set(ctx.settings)).analyze(module)


CHECK = Check("taint", tuple(builtin_rules()), run)

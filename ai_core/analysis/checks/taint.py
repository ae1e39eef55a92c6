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
from ai_core.analysis.tiers import settle_tiers
from ai_core.findings import Finding


def run(ctx: AnalysisContext) -> list[Finding]:
    """Taint findings of the document, resolving calls through the context's project when it has one."""
    base = ctx.project if isinstance(ctx.project, Project) else Project()
    project, module = base.view_for(ctx.doc, ctx.path)
    analysis = TaintAnalysis(project, spec_set(ctx.settings))
    findings = analysis.analyze(module)
    if not any(f.tier == "review" for f in findings):
        return findings
    # a flow found in another file that ends at one of our sinks hides its review finding (the editor sees one
    # file at a time; `coderev scan` settles the whole run again)
    arriving = [f for result in project.cached_values(analysis.kind) for f in getattr(result, "findings", ())
                if f.tier == "flow" and f.path != module.path and f.taint_path is not None
                and f.taint_path.sink.path == module.path]
    kept = {id(f) for f in settle_tiers([*findings, *arriving])}
    return [f for f in findings if id(f) in kept]


CHECK = Check("taint", tuple(builtin_rules()), run)

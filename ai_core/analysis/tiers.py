"""Finding tiers: a proven flow hides the review finding of the same sink, and settings choose the tiers shown."""

from __future__ import annotations

from collections.abc import Iterable

from ai_core.findings import REVIEW_SUFFIX, Finding


def settle_tiers(findings: Iterable[Finding]) -> list[Finding]:
    """Drop review findings whose sink a flow finding also reaches (at its own site or as its path's last step),
    so a sink is never reported in both tiers."""
    items = list(findings)
    proven: set[tuple[str, int, int, str]] = set()
    for f in items:
        if f.tier == "review":
            continue
        proven.add((f.path, f.span.start_byte, f.span.end_byte, f.rule))
        if f.taint_path is not None:
            sink = f.taint_path.sink
            proven.add((sink.path, sink.span.start_byte, sink.span.end_byte, f.rule))
    if not proven:
        return items
    return [f for f in items if f.tier != "review"
            or (f.path, f.span.start_byte, f.span.end_byte, f.rule.removesuffix(REVIEW_SUFFIX)) not in proven]


def shown_tiers(findings: Iterable[Finding], tiers: Iterable[str]) -> list[Finding]:
    """The findings of the tiers a user asked to see."""
    wanted = frozenset(tiers)
    return [f for f in findings if f.tier in wanted]

"""What the model sees for each finding: the code slice around the sink, the taint path and context."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from ai_core.findings import Finding
from ai_core.parsing import ParsedDocument

SLICE_CONTEXT_LINES = 6


@dataclass(frozen=True, slots=True)
class Candidate:
    """One finding (or one function, in function-level mode) rendered as model input."""

    code: str
    taint: str = ""
    context: str = ""
    finding: Finding | None = None

    def render(self) -> str:
        """The text the classifier reads."""
        parts = [self.code]
        if self.taint:
            parts.append(f"# taint: {self.taint}")
        if self.context:
            parts.append(f"# context:\n{self.context}")
        return "\n".join(parts)


@dataclass(frozen=True, slots=True)
class Score:
    """The model's judgement: its most likely label and the probability of each label."""

    label: str
    confidence: float
    probabilities: dict[str, float]


class Scorer(Protocol):
    """Anything that judges candidates in batches (the LoRA classifier implements this)."""

    def score(self, candidates: Sequence[Candidate]) -> list[Score]:
        """One Score per candidate, in order."""
        ...


def code_slice(doc: ParsedDocument, finding: Finding, context_lines: int = SLICE_CONTEXT_LINES) -> str:
    """The lines around a finding (the enclosing function when it is short)."""
    first = max(0, finding.span.start_line - context_lines)
    last = min(doc.positions.line_count - 1, finding.span.end_line + context_lines)
    lines = [doc.positions.line_bytes(n).decode("utf-8", errors="replace") for n in range(first, last + 1)]
    return "\n".join(lines)


def candidate_for(doc: ParsedDocument, finding: Finding) -> Candidate:
    """The model input for one rule finding."""
    taint = finding.taint_path.render() if finding.taint_path else ""
    return Candidate(code=code_slice(doc, finding), taint=taint, finding=finding)

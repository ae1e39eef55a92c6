"""Training inputs exactly as the diagnostic loop renders them, labelled by what the generated file really holds.

Each generated file (no decoy twin, so its truth is known) goes through the real rules: every rule finding
of the family's class becomes a `candidate_for` input, labelled with the class in a vulnerable file and
`safe` in a safe one (a rule false positive the model should learn to drop); every function the rules
left alone becomes a function-level input, labelled with the class only if it holds the vulnerable sink.
The model thus learns the two questions the loop asks it, on the inputs it will see.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from ai_core.analysis import Analyzer
from ai_core.config import Settings
from ai_core.findings import SAFE_LABEL, Span
from ai_core.model.candidates import candidate_for, function_candidates
from ai_core.model.data.generator import Example, Family, generate
from ai_core.parsing import ParsedDocument
from ai_core.parsing.tree import enclosing_function, node_at

SAMPLE_PATH = "sample.py"


def _function_lines(doc: ParsedDocument, span: Span) -> tuple[int, int]:
    """First and last line of the function whose name sits at `span`."""
    # with its decorators: a decorator can be the sink (csrf_exempt, a route without auth)
    node = enclosing_function(node_at(doc, span), include_decorators=True)
    if node is None:
        return span.start_line, span.end_line
    return node.start_point[0], node.end_point[0]


def loop_examples(family: Family, count: int, rng: random.Random, analyzer: Analyzer | None = None,
                  evidence: bool = False) -> Iterator[Example]:
    """Rule-finding and function-level inputs from `count` vulnerable and `count` safe files of `family`."""
    analyzer = analyzer or Analyzer(Settings(model_enabled=False))
    label = family.vuln_class.value
    for safe in (False, True):
        for _ in range(count):
            sample = generate(family, safe, rng, twin=False)
            doc = ParsedDocument("\n".join(sample.lines) + "\n", path=SAMPLE_PATH)
            findings = analyzer.analyze(doc, SAMPLE_PATH)
            for finding in findings:
                if finding.vuln_class is not family.vuln_class:
                    continue  # incidental findings of other classes: their truth is unknown here
                yield Example(candidate_for(doc, finding).render(evidence=evidence), SAFE_LABEL if safe else label,
                              family.name, "loop", finding.confidence)
            for candidate in function_candidates(doc, findings):
                assert candidate.span is not None
                first, last = _function_lines(doc, candidate.span)
                holds_sink = first <= sample.sink <= last
                yield Example(candidate.render(), label if holds_sink and not safe else SAFE_LABEL,
                              family.name, "loop-function")

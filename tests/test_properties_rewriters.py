"""Properties of the fixers: on generated vulnerable programs every verified fix parses (hypothesis)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ai_core.analysis import Analyzer
from ai_core.config import Settings
from ai_core.fixes import Fixer
from ai_core.parsing import ParsedDocument
from tests.test_fixes_rewriters import CASES

PROPERTY = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
FILLER = ["", "# a comment", "value = 1", "def helper(a):\n    return a", "import json",
          "items = [1, 2, 3]", "if True:\n    pass", "text = 'x = (' ", '"""doc\nstring"""']
"""Statements inserted between the lines of a vulnerable file (they change layout, never meaning)."""


@st.composite
def vulnerable_files(draw: st.DrawFn) -> tuple[str, str]:
    """A rewriter case's vulnerable file with filler statements inserted at top-level line starts."""
    case = draw(st.sampled_from(CASES))
    lines = case.source.splitlines()
    top_level = [i for i, line in enumerate(lines) if line and not line[0].isspace() and not line.startswith(
        ("@", ")", "]", "}")) and (i == 0 or not lines[i - 1].rstrip().endswith(("(", ",", "\\")))]
    for index in sorted(draw(st.lists(st.sampled_from(top_level), max_size=3)), reverse=True):
        lines.insert(index, draw(st.sampled_from(FILLER)))
    return case.filename, "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    """Rules only, as in the rewriter specifications."""
    return Analyzer(Settings(model_enabled=False))


@PROPERTY
@given(file=vulnerable_files())
def test_every_verified_fix_parses(analyzer: Analyzer, file: tuple[str, str], tmp_path: Path):
    filename, source = file
    path = str(tmp_path / filename)
    doc = ParsedDocument(source, path=path)
    fixer = Fixer(analyzer, tmp_path)
    for finding in analyzer.analyze(doc, path)[:4]:
        proposal = fixer.propose(doc, finding)
        if proposal.fix is not None and proposal.fix.verified:
            ast.parse(proposal.after)
            for _other, _before, after in proposal.files:
                ast.parse(after)

"""Properties of the Analyzer (rules and taint engine) over arbitrary text and generated programs (hypothesis)."""

from __future__ import annotations

import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ai_core.analysis import Analyzer
from ai_core.config import Settings
from ai_core.parsing import ParsedDocument

PROPERTY = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

STATEMENTS = [
    "x = request.args.get('q')", "x = request.form['name']", "x = input()", "x = sys.argv[1]",
    "y = x", "x = x + 'suffix'", "x = f'select * from t where a = {x}'", "x = '%s' % x", "x = '{}'.format(x)",
    "x = shlex.quote(x)", "x = int(x)", "x = escape(x)", "x = [a for a in x]", "x += y",
    "cursor.execute(x)", "cursor.execute('select %s', (x,))", "os.system(x)", "subprocess.run(x, shell=True)",
    "subprocess.run([x])", "eval(x)", "exec(x)", "pickle.loads(x)", "yaml.load(x)", "open(x).read()",
    "requests.get(x)", "redirect(x)", "render_template_string(x)", "etree.fromstring(x)", "random.random()",
    "hashlib.md5(x)", "password = 'hunter2hunter2'", "app.run(debug=True)", "return x", "y = f(x)",
    "del x", "global x", "x, y = y, x", "x = lambda: x", "with open(x) as h:\n    y = h.read()",
    "try:\n    os.system(x)\nexcept Exception:\n    pass", "if x:\n    os.system(x)\nelse:\n    x = ''",
    "for item in x:\n    cursor.execute(item)", "while x:\n    x = x[1:]", "def f(a):\n    return a",
    "async def g(a):\n    await a", "class C:\n    def m(self, a):\n        os.system(a)", "x = (", "))", ":",
    "@app.route('/')", "import os, subprocess, pickle", "from flask import request", "x = C().m(x)",
]
"""Statements that exercise sources, propagation, sanitizers and sinks (and a few broken ones)."""


def indent(block: str, depth: int) -> str:
    """`block` indented by `depth` levels."""
    return "\n".join("    " * depth + line for line in block.splitlines())


PROGRAMS = st.lists(st.tuples(st.sampled_from(STATEMENTS), st.integers(0, 2)), max_size=25).map(
    lambda parts: "from flask import Flask, request\napp = Flask(__name__)\n\n@app.route('/r')\ndef view():\n"
    + "\n".join(indent(s, depth + 1) for s, depth in parts) + "\n")
"""Flask views built from those statements, at random depths (so many do not even parse)."""


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    """Every class enabled, rules and taint only."""
    return Analyzer(Settings(model_enabled=False))


def analyze_cleanly(analyzer: Analyzer, text: str, caplog: pytest.LogCaptureFixture) -> None:
    """Analyze `text`; no exception escapes, no check fails (logs an error) and every finding lies in the text."""
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="ai_core"):
        doc = ParsedDocument(text, path="/w/app.py")
        findings = analyzer.analyze(doc, "/w/app.py")
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    for finding in findings:
        assert 0 <= finding.span.start_byte <= finding.span.end_byte <= len(doc.data)
        assert 0.0 <= finding.confidence <= 1.0


@PROPERTY
@given(text=st.text(max_size=400))
def test_arbitrary_text_never_raises_or_breaks_a_check(analyzer: Analyzer, text: str,
                                                       caplog: pytest.LogCaptureFixture):
    analyze_cleanly(analyzer, text, caplog)


@PROPERTY
@given(program=PROGRAMS)
def test_generated_programs_never_raise_or_break_a_check(analyzer: Analyzer, program: str,
                                                         caplog: pytest.LogCaptureFixture):
    analyze_cleanly(analyzer, program, caplog)


@PROPERTY
@given(program=PROGRAMS)
def test_analysis_is_deterministic(analyzer: Analyzer, program: str):
    first = [(f.rule, f.span.start_byte, f.fingerprint) for f in analyzer.analyze_text(program, "/w/app.py")]
    again = [(f.rule, f.span.start_byte, f.fingerprint) for f in analyzer.analyze_text(program, "/w/app.py")]
    assert first == again

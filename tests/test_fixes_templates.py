"""Template XSS fixes (.html): each vulnerable template becomes the exact fixed template through the real Fixer
(verified by jinja2's lexer/parser and a re-analysis), its safe twin gets no fix; and `coderev fix --apply` on a
project leaves a template whose rescan is clean."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ai_core.analysis import Analyzer
from ai_core.classes.xss.template_rewriters import escape_safe_filter, js_state, script_value_as_js
from ai_core.config import Settings
from ai_core.findings import Finding, Severity, Span, VulnClass
from ai_core.fixes import Fixer
from ai_core.fixes.context import FixContext, ProjectInfo
from ai_core.fixes.engine import REVIEW_TITLE, make_fixer
from ai_core.fixes.verify import Verifier
from ai_core.parsing import ParsedDocument
from ai_core.scan import scan_path

FLASK = ProjectInfo(modules=frozenset({"flask"}))
DJANGO = ProjectInfo(modules=frozenset({"django"}))


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    """Rules only: the model is not part of these specifications."""
    return Analyzer(Settings(model_enabled=False))


def fix(analyzer: Analyzer, template: str, path: Path, project: ProjectInfo = FLASK) -> tuple[Finding, str, str]:
    """The first finding of the template, its verified fix's text and title (fails when none is verified)."""
    doc = ParsedDocument(template, path=str(path))
    finding = analyzer.analyze(doc, str(path))[0]
    proposal = Fixer(analyzer, path.parent, project=project).propose(doc, finding)
    assert proposal.fix is not None and proposal.fix.verified, proposal.rejected
    return finding, proposal.after, proposal.fix.title


def at(text: str, needle: str, path: Path) -> tuple[ParsedDocument, Finding]:
    """A document and a finding placed on `needle` (to ask a rewriter about a twin that has no finding)."""
    start = text.index(needle)
    line = text.count("\n", 0, start)
    col = start - (text.rfind("\n", 0, start) + 1)
    span = Span(start, start + len(needle), line, col, line, col + len(needle))
    return ParsedDocument(text, path=str(path)), Finding(
        vuln_class=VulnClass.XSS,
        rule="xss.template-safe-filter.review", path=str(path), span=span, snippet=needle, tier="review",
        message="twin", severity=Severity.MEDIUM, confidence=0.45)


def test_a_safe_filter_becomes_escape_and_the_title_says_markup_now_shows_as_text(analyzer, tmp_path):
    before = '<div class="bio">{{ user.bio|safe }}</div>\n'
    finding, after, title = fix(analyzer, before, tmp_path / "profile.html")
    assert finding.rule == "xss.template-safe-filter.review"
    assert after == '<div class="bio">{{ user.bio|escape }}</div>\n'
    assert "markup it holds now shows as text" in title and title.endswith(REVIEW_TITLE)
    assert analyzer.analyze_text(after, str(tmp_path / "profile.html")) == []


def test_an_output_without_safe_gets_no_safe_filter_fix(analyzer, tmp_path):
    twin = '<div class="bio">{{ user.bio }}</div>\n'
    assert analyzer.analyze_text(twin, str(tmp_path / "profile.html")) == []
    doc, finding = at(twin, "{{ user.bio }}", tmp_path / "profile.html")
    assert escape_safe_filter(FixContext(doc, finding, FLASK)) is None


def test_a_jinja2_autoescape_false_block_is_turned_on(analyzer, tmp_path):
    before = "{% autoescape false %}<p>{{ note }}</p>{% endautoescape %}\n"
    finding, after, title = fix(analyzer, before, tmp_path / "note.html")
    assert finding.rule == "xss.template-autoescape-off.review"
    assert after == "{% autoescape true %}<p>{{ note }}</p>{% endautoescape %}\n"
    assert "now show as text" in title


def test_a_django_autoescape_off_block_is_turned_on_in_a_template_jinja2_cannot_parse(analyzer, tmp_path):
    before = "{% load static %}\n{% autoescape off %}{{ body }}{% endautoescape %}\n"
    _finding, after, _title = fix(analyzer, before, tmp_path / "mail.html", DJANGO)
    assert after == "{% load static %}\n{% autoescape on %}{{ body }}{% endautoescape %}\n"


@pytest.mark.parametrize(("script", "fixed"), [
    ('var name = "{{ user.name }}";', "var name = {{ user.name|tojson }};"),
    ("var greeting = 'Hi {{ user.name }}!';", "var greeting = 'Hi ' + {{ user.name|tojson }} + '!';"),
    ("fetch(`/items/{{ item.id }}`);", "fetch(`/items/${ {{ item.id|tojson }} }`);"),
    ("var data = {{ data }};", "var data = {{ data|tojson }};"),
    ("var pick = {{ a if b else c }};", "var pick = {{ (a if b else c)|tojson }};"),
    ("var raw = {{ html|safe }};", "var raw = {{ html|tojson }};"),
])
def test_a_jinja2_value_inside_script_becomes_a_json_value(analyzer, tmp_path, script, fixed):
    _finding, after, title = fix(analyzer, f"<script>\n  {script}\n</script>\n", tmp_path / "page.html")
    assert after == f"<script>\n  {fixed}\n</script>\n"
    assert "|tojson" in title
    assert analyzer.analyze_text(after, str(tmp_path / "page.html")) == []


def test_a_value_already_json_in_the_script_has_no_finding_and_no_fix(analyzer, tmp_path):
    twin = "<script>\n  var data = {{ data|tojson }};\n</script>\n"
    assert analyzer.analyze_text(twin, str(tmp_path / "page.html")) == []
    doc, finding = at(twin, "{{ data|tojson }}", tmp_path / "page.html")
    assert script_value_as_js(FixContext(doc, finding, FLASK)) is None


def test_a_django_value_inside_a_js_string_gets_escapejs(analyzer, tmp_path):
    before = '{% load static %}\n<script>\n  var name = "{{ user.name }}";\n</script>\n'
    _finding, after, title = fix(analyzer, before, tmp_path / "page.html", DJANGO)
    assert after == '{% load static %}\n<script>\n  var name = "{{ user.name|escapejs }}";\n</script>\n'
    assert "|escapejs" in title


def test_a_bare_django_value_inside_script_gets_no_template_only_fix(analyzer, tmp_path):
    before = "{% load static %}\n<script>\n  var data = {{ data }};\n</script>\n"
    doc, finding = at(before, "{{ data }}", tmp_path / "page.html")
    assert script_value_as_js(FixContext(doc, finding, DJANGO)) is None


def test_js_state_follows_strings_template_literals_and_comments():
    assert js_state('var a = "x') == '"'
    assert js_state("var a = `x ${y} ") == "`"
    assert js_state("var a = `x ${ f('") == "'"
    assert js_state('var a = "x\\"y') == '"'
    assert js_state("var a = 1; // it's") == "comment"
    assert js_state("/* it's */ var a = ") == ""


def test_a_patched_template_that_no_longer_lexes_is_refused(analyzer, tmp_path):
    before = "<p>{{ bio|safe }}</p>\n"
    path = str(tmp_path / "p.html")
    target = analyzer.analyze_text(before, path)
    verdict = Verifier(analyzer, tmp_path).verify(before, "<p>{{ bio|escape(\"x }}</p>\n", path, target)
    assert not verdict.ok and "does not lex as a template" in verdict.reason


def test_a_patched_template_that_no_longer_parses_is_refused(analyzer, tmp_path):
    before = "{% if a %}<p>{{ bio|safe }}</p>{% endif %}\n"
    path = str(tmp_path / "p.html")
    target = analyzer.analyze_text(before, path)
    verdict = Verifier(analyzer, tmp_path).verify(before, "{% if a %}<p>{{ bio }}</p>\n", path, target)
    assert not verdict.ok and "does not parse as a template" in verdict.reason


PAGE = """<html><body>
<div class="bio">{{ user.bio|safe }}</div>
<script>
  var name = "{{ user.name }}";
</script>
</body></html>
"""
VIEWS = """from flask import Flask, render_template

app = Flask(__name__)


@app.route("/profile")
def profile():
    return render_template("profile.html", user=None)
"""


def coderev(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "server.cli", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300, env={**os.environ, "HF_HUB_OFFLINE": "1"})


def test_coderev_fix_apply_fixes_a_template_and_its_rescan_is_clean(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "site"\n', encoding="utf-8")
    (tmp_path / "app" / "templates").mkdir(parents=True)
    (tmp_path / "app" / "views.py").write_text(VIEWS, encoding="utf-8")
    (tmp_path / "app" / "templates" / "profile.html").write_text(PAGE, encoding="utf-8")
    scan = coderev("scan", ".", "--no-model", "--format", "json", cwd=tmp_path)
    assert {f["rule"] for f in json.loads(scan.stdout)} == {"xss.template-safe-filter.review",
                                                            "xss.template-script-variable.review"}
    dry = coderev("fix", ".", cwd=tmp_path)
    assert "Escape user.bio instead of marking it |safe" in dry.stderr and REVIEW_TITLE in dry.stderr
    result = coderev("fix", ".", "--apply", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "fixed app/templates/profile.html: 2 finding(s)" in result.stdout
    assert (tmp_path / "app" / "templates" / "profile.html").read_text(encoding="utf-8") == PAGE.replace(
        "|safe", "|escape").replace('"{{ user.name }}"', "{{ user.name|tojson }}")
    rescan = coderev("scan", ".", "--no-model", "--format", "json", cwd=tmp_path)
    assert rescan.returncode == 0 and json.loads(rescan.stdout) == []


def test_a_views_render_finding_is_fixed_in_the_template_it_renders(tmp_path):
    (tmp_path / "app" / "templates").mkdir(parents=True)
    (tmp_path / "app" / "templates" / "hello.html").write_text("<p>{{ name|safe }}</p>\n", encoding="utf-8")
    view = ('from flask import Flask, render_template, request\n\napp = Flask(__name__)\n\n\n@app.route("/hello")\n'
            'def hello():\n    return render_template("hello.html", name=request.args["name"])\n')
    (tmp_path / "app" / "views.py").write_text(view, encoding="utf-8")
    settings = Settings(model_enabled=False)
    finding = next(f for f in scan_path(tmp_path, settings).findings if f.rule == "xss.template-render-unescaped")
    proposal = make_fixer(tmp_path, settings).propose(ParsedDocument(view, path=finding.path), finding)
    assert proposal.fix is not None and proposal.fix.verified, proposal.rejected
    assert proposal.fix.title.endswith("(in hello.html)") and REVIEW_TITLE not in proposal.fix.title
    [(other, _before, after)] = proposal.files
    assert other.endswith("hello.html") and after == "<p>{{ name|escape }}</p>\n"


@pytest.mark.parametrize("output", ["{{ (url|escapedlink(name))|safe }}", "{{ bio|markdown|safe }}",
                                    "{{ render_bio(user)|safe }}"])
def test_safe_on_markup_a_filter_or_call_made_gets_no_escape_fix(tmp_path, output):
    doc, finding = at(f"<p>{output}</p>\n", output, tmp_path / "p.html")
    assert escape_safe_filter(FixContext(doc, finding, FLASK)) is None

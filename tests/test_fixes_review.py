"""Review-tier fixes that are right whatever the data's source: escaping what is marked safe, and the auth
decorator a route's siblings carry. Each vulnerable file becomes the exact fixed file through the real Fixer;
its safe twin gets no fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from ai_core.analysis import Analyzer
from ai_core.classes.broken_auth.rewriters import sibling_auth_decorator
from ai_core.classes.xss.rewriters import escape_marked_input
from ai_core.config import Settings
from ai_core.findings import Finding
from ai_core.fixes import Fixer
from ai_core.fixes.context import FixContext, is_source_independent
from ai_core.fixes.engine import REVIEW_TITLE
from ai_core.parsing import ParsedDocument

MARK_SAFE_FILTER = '''from django import template
from django.utils.safestring import mark_safe


def linkify(text):
    """Ticket numbers as links."""
    text = "%s <a href='/t/1'>#1</a>" % (text,)
    return mark_safe(text)


register = template.Library()
register.filter(linkify)
'''

MARK_SAFE_FILTER_FIXED = '''from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe


def linkify(text):
    """Ticket numbers as links."""
    text = conditional_escape(text)
    text = "%s <a href='/t/1'>#1</a>" % (text,)
    return mark_safe(text)


register = template.Library()
register.filter(linkify)
'''

MARKUP_VALUE = '''from markupsafe import Markup


def note_html(note):
    html = "<p>%s</p>" % note.body
    return Markup(html)
'''

MARKUP_VALUE_FIXED = '''from markupsafe import Markup, escape


def note_html(note):
    html = "<p>%s</p>" % str(escape(note.body))
    return Markup(html)
'''

MARKUP_LITERAL = '''from markupsafe import Markup

ICON = Markup("<i class='icon'></i>")
'''

ROUTES = '''from flask import Flask
from flask_login import login_required

app = Flask(__name__)


@app.route("/projects")
@login_required
def projects():
    return "projects"


@app.route("/projects/<int:pid>", methods=["DELETE"])
@login_required
def delete_project(pid):
    return "deleted"


@app.route("/projects/<int:pid>/rename", methods=["POST"])
def rename_project(pid):
    return "renamed"
'''

ROUTES_FIXED = ROUTES.replace('''methods=["POST"])
def rename_project''', '''methods=["POST"])
@login_required
def rename_project''')


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    """Rules only: the model is not part of these specifications."""
    return Analyzer(Settings(model_enabled=False))


def review_finding(analyzer: Analyzer, source: str, path: Path, rule: str) -> tuple[ParsedDocument, Finding]:
    doc = ParsedDocument(source, path=str(path))
    finding = next(f for f in analyzer.analyze(doc, str(path)) if f.rule == rule)
    assert finding.tier == "review"
    return doc, finding


def test_a_filter_that_marks_its_input_safe_escapes_the_input_on_entry(analyzer, tmp_path):
    doc, finding = review_finding(analyzer, MARK_SAFE_FILTER, tmp_path / "tags.py", "xss.mark-safe.review")
    proposal = Fixer(analyzer, tmp_path).propose(doc, finding)
    assert proposal.source == "rewriter:escape_marked_input", proposal.rejected
    assert proposal.after == MARK_SAFE_FILTER_FIXED
    assert proposal.fix is not None and proposal.fix.title.endswith(REVIEW_TITLE)
    assert "values marked safe are unchanged" in proposal.fix.title


def test_the_values_put_into_marked_up_html_are_escaped_and_the_markup_kept(analyzer, tmp_path):
    doc, finding = review_finding(analyzer, MARKUP_VALUE, tmp_path / "notes.py", "xss.mark-safe.review")
    proposal = Fixer(analyzer, tmp_path).propose(doc, finding)
    assert proposal.source == "rewriter:escape_marked_input", proposal.rejected
    assert proposal.after == MARKUP_VALUE_FIXED


def test_markup_of_a_literal_has_no_finding_and_no_fix(analyzer, tmp_path):
    path = tmp_path / "icons.py"
    assert [f for f in analyzer.analyze_text(MARKUP_LITERAL, str(path)) if f.vuln_class.value == "xss"] == []
    _doc, finding = review_finding(analyzer, MARKUP_VALUE, tmp_path / "notes.py", "xss.mark-safe.review")
    literal = ParsedDocument(MARKUP_LITERAL, path=str(path))
    assert escape_marked_input(FixContext(literal, finding)) is None


def test_a_route_missing_its_siblings_login_decorator_gets_it(analyzer, tmp_path):
    doc, finding = review_finding(analyzer, ROUTES, tmp_path / "views.py", "auth.missing-auth-check.review")
    proposal = Fixer(analyzer, tmp_path).propose(doc, finding)
    assert proposal.source == "rewriter:sibling_auth_decorator", proposal.rejected
    assert proposal.after == ROUTES_FIXED
    assert proposal.fix is not None
    assert proposal.fix.title.startswith("Add @login_required to rename_project(), as 2 sibling routes have it "
                                         "(the route now requires login)")
    assert "meant to be public" in proposal.note


def test_a_route_that_has_the_decorator_gets_no_auth_fix(analyzer, tmp_path):
    assert [f for f in analyzer.analyze_text(ROUTES_FIXED, str(tmp_path / "views.py"))
            if f.rule == "auth.missing-auth-check.review"] == []
    _doc, finding = review_finding(analyzer, ROUTES, tmp_path / "views.py", "auth.missing-auth-check.review")
    guarded = ParsedDocument(ROUTES_FIXED, path=str(tmp_path / "views.py"))
    assert sibling_auth_decorator(FixContext(guarded, finding)) is None


def test_both_rewriters_are_offered_for_review_findings():
    assert is_source_independent(escape_marked_input) and is_source_independent(sibling_auth_decorator)


def test_markup_built_with_a_numeric_conversion_gets_no_escaping_fix(analyzer, tmp_path):
    source = ('from markupsafe import Markup\n\n\ndef badge(count, label):\n'
              '    return Markup("<b>%d</b> %s" % (count, label))\n')
    doc, finding = review_finding(analyzer, source, tmp_path / "badges.py", "xss.mark-safe.review")
    assert escape_marked_input(FixContext(doc, finding)) is None  # an escaped str cannot fill %d

"""Templates are code: unsafe outputs found with jinja2's lexer, joined to the views that render them (both ends)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from ai_core.analysis.templates.usages import unsafe_usages
from ai_core.config import Settings
from ai_core.scan import ScanResult, scan_path


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))


def scan(root: Path, **settings: object) -> ScanResult:
    return scan_path(root, Settings(model_enabled=False, **settings), workers=1)  # type: ignore[arg-type]


def located(result: ScanResult) -> list[tuple[str, int, str, str, str]]:
    return sorted((f.path, f.span.start_line + 1, f.vuln_class.value, f.rule, f.tier) for f in result.findings
                  if f.vuln_class.value == "xss")


@pytest.mark.parametrize(("unsafe", "safe", "kind"), [
    ("<div>{{ bio|safe }}</div>", "<div>{{ bio }}</div>", "safe-filter"),
    ("{% autoescape false %}<div>{{ bio }}</div>{% endautoescape %}",
     "{% autoescape true %}<div>{{ bio }}</div>{% endautoescape %}", "autoescape-off"),
    ("{% autoescape off %}<div>{{ bio }}</div>{% endautoescape %}",
     "{% autoescape on %}<div>{{ bio }}</div>{% endautoescape %}", "autoescape-off"),
    ("<script>var bio = '{{ bio }}';</script>", "<script>var bio = {{ bio|tojson }};</script>", "script-variable"),
    ("<a href={{ bio }}>me</a>", '<a href="{{ bio }}">me</a>', "unquoted-attribute"),
])
def test_each_unsafe_output_is_found_and_its_safe_twin_is_not(unsafe: str, safe: str, kind: str):
    assert [(u.kind, u.variable, u.line) for u in unsafe_usages("<h1>x</h1>\n" + unsafe)] == [(kind, "bio", 2)]
    assert unsafe_usages("<h1>x</h1>\n" + safe) == []


def test_django_templates_lex_with_jinja2s_lexer():
    text = '{% load static %}\n<p>{{ when|date:"Y" }}</p>\n<div>{{ bio|safe }}</div>\n{% url "home" %}\n'
    assert [(u.kind, u.line) for u in unsafe_usages(text)] == [("safe-filter", 3)]


FLASK_VIEWS = """
from flask import Flask, render_template, request

app = Flask(__name__)


@app.route("/profile")
def profile():
    bio = request.args.get("bio", "")
    return render_template("profile.html", bio=bio, title="Profile")


@app.route("/about")
def about():
    return render_template("about.html", bio=load_bio())
"""


def test_request_data_rendered_unescaped_is_reported_at_the_template_and_at_the_view(tmp_path: Path):
    write(tmp_path, {"app/views.py": FLASK_VIEWS,
                     "app/templates/profile.html": "<h1>{{ title }}</h1>\n<div>{{ bio|safe }}</div>\n",
                     "app/templates/about.html": "<div>{{ bio }}</div>\n"})
    result = scan(tmp_path)
    assert located(result) == [
        ("app/templates/profile.html", 2, "xss", "xss.template-safe-filter", "flow"),
        ("app/views.py", 9, "xss", "xss.template-render-unescaped", "flow"),
    ]
    template = next(f for f in result.findings if f.path.endswith(".html"))
    assert template.taint_path is not None
    assert [(step.path, step.span.start_line + 1) for step in template.taint_path.steps] == [
        ("app/views.py", 8), ("app/views.py", 9), ("app/templates/profile.html", 2)]


def test_an_unsafe_output_no_view_fills_with_request_data_is_review_tier(tmp_path: Path):
    write(tmp_path, {"app/views.py": FLASK_VIEWS, "app/templates/about.html": "<div>{{ bio|safe }}</div>\n"})
    assert located(scan(tmp_path)) == [("app/templates/about.html", 1, "xss", "xss.template-safe-filter.review",
                                        "review")]
    assert located(scan(tmp_path, tiers=("flow",))) == []


def test_django_render_with_a_context_dict_connects_the_variable(tmp_path: Path):
    write(tmp_path, {"blog/views.py": """
        from django.shortcuts import render


        def search(request):
            query = request.GET.get("q", "")
            return render(request, "blog/search.html", {"query": query, "count": 3})
        """, "blog/templates/blog/search.html": "{% autoescape off %}<p>{{ query }}</p>{% endautoescape %}\n"})
    assert located(scan(tmp_path)) == [
        ("blog/templates/blog/search.html", 1, "xss", "xss.template-autoescape-off", "flow"),
        ("blog/views.py", 6, "xss", "xss.template-render-unescaped", "flow"),
    ]


def test_a_template_never_renders_or_runs_anything(tmp_path: Path):
    marker = tmp_path / "ran"
    write(tmp_path, {"t.html": "{{ cycler.__init__.__globals__.os.system('touch " + str(marker) + "') }}\n"
                               "<div>{{ x|safe }}</div>\n"})
    assert [f.span.start_line + 1 for f in scan(tmp_path).findings] == [2]
    assert not marker.exists()


def test_a_template_named_on_the_command_line_is_read_as_a_template_not_as_python(tmp_path: Path):
    write(tmp_path, {"about.html": "<p>{{ note }}</p>\n<div>{{ note|safe }}</div>\n"})
    assert located(scan(tmp_path / "about.html")) == [("about.html", 2, "xss", "xss.template-safe-filter.review",
                                                        "review")]


def test_the_analyzer_the_editor_uses_reads_an_open_template_as_a_template():
    from ai_core.analysis import Analyzer

    findings = Analyzer(Settings(model_enabled=False)).analyze_text("<h1>hi</h1>\n<div>{{ bio|safe }}</div>\n",
                                                                    "templates/profile.html")
    assert [(f.span.start_line + 1, f.rule, f.tier) for f in findings] == [
        (2, "xss.template-safe-filter.review", "review")]


@pytest.mark.parametrize(("unsafe", "safe"), [
    ("<p>{{ line.message|nbsp|safe }}</p>", "<p>{{ line.message|escape|nbsp|safe }}</p>"),
    ("<p>{{ form.bio.data|safe }}</p>", "<p>{{ form.password.help_text|safe }}</p>"),
])
def test_a_value_escaped_before_safe_and_a_fields_help_text_are_not_unsafe_outputs(unsafe: str, safe: str):
    assert [u.kind for u in unsafe_usages(unsafe)] == ["safe-filter"]
    assert unsafe_usages(safe) == []


def test_a_variable_every_view_fills_with_its_own_literal_text_is_not_reported(tmp_path: Path):
    write(tmp_path, {"notes/views.py": """
        from django.shortcuts import render
        from django.utils.translation import gettext as _


        def notes(request, context):
            notice = ""
            if request.GET.get("q"):
                notice = _("<p>Search is <strong>case sensitive</strong> here.</p>")
            return render(request, "notes/list.html", dict(context, notice=notice, bio=load_bio()))
        """, "notes/templates/notes/list.html": "<div>{{ notice|safe }}</div>\n<div>{{ bio|safe }}</div>\n"})
    assert located(scan(tmp_path)) == [("notes/templates/notes/list.html", 2, "xss",
                                        "xss.template-safe-filter.review", "review")]

"""Code injection (CWE-94, 95) and server-side template injection (CWE-1336): untrusted text run as code.

`eval`/`exec`/`compile` run their argument as Python; a template compiled from client text
(`render_template_string(user)`, `jinja2.Template(user)`, `Environment().from_string(user)`, mako and
Django `Template(user)`) runs its `{{ }}` expressions on the server (`{{ cycler.__init__.__globals__.os... }}`).

Fix: parse data with `ast.literal_eval` or `json.loads`, never `eval`; keep the template text fixed and
pass the client's values as variables (`render_template_string("<p>{{ name }}</p>", name=name)`).
"""

from __future__ import annotations

from ai_core.analysis.specs.spec_types import ClassSpec, Sink
from ai_core.findings import Severity, VulnClass

CODE = VulnClass.CODE_INJECTION

SPEC = ClassSpec(
    vuln_class=CODE,
    sinks=(
        Sink(
            id="code.eval",
            vuln_class=CODE,
            patterns=("eval", "exec", "compile", "builtins.eval", "builtins.exec", "builtins.compile"),
            args=(0, "source"),
            cwe=95,
            severity=Severity.CRITICAL,
            confidence=0.9,
            reason="eval/exec/compile run untrusted text as Python code (`__import__('os').system(...)`).",
            example="result = eval(request.args['expr'])",
            title="eval/exec of untrusted data",
        ),
        Sink(
            id="code.template-injection",
            vuln_class=CODE,
            patterns=("flask.render_template_string", "flask.templating.render_template_string",
                      "quart.render_template_string", "jinja2.Template", "jinja2.Environment.from_string",
                      "jinja2.environment.Environment.from_string", "jinja2.environment.Template",
                      "mako.template.Template", "django.template.Template", "django.template.base.Template",
                      "django.template.engines.from_string", "tornado.template.Template"),
            args=(0, "source"),
            cwe=1336,
            severity=Severity.CRITICAL,
            confidence=0.9,
            reason="A template compiled from client text evaluates its {{ }} expressions on the server "
                   "(server-side template injection: code execution, not only script injection).",
            example='render_template_string("<h1>Hello " + name + "</h1>")',
            title="template compiled from untrusted data",
        ),
    ),
    tables={
        "literal_parsers": ("ast.literal_eval", "json.loads"),
        "template_string_calls": ("flask.render_template_string", "flask.templating.render_template_string",
                                  "quart.render_template_string"),
    },
)

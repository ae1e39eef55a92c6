"""The declarative specs and how settings shape them: integrity, user extras, suppression, filters."""

from __future__ import annotations

import ast
import logging
import subprocess
import sys
import textwrap

import pytest

from ai_core.analysis import Analyzer
from ai_core.analysis.checks import default_registry
from ai_core.analysis.specs import CLASS_SPECS, spec_set
from ai_core.classes import CLASSES, class_parts, folder_of, template_files
from ai_core.config import Settings
from ai_core.findings import Severity, VulnClass


def test_every_class_has_a_spec_module_with_documentation():
    assert set(CLASS_SPECS) == set(VulnClass)
    for spec in CLASS_SPECS.values():
        assert spec.sinks or spec.tables, spec.vuln_class


def test_every_class_package_has_a_documented_spec_rewriters_and_data_templates():
    assert set(CLASSES) == set(VulnClass)
    for vuln_class in CLASSES:
        folder = folder_of(vuln_class)
        spec_doc = ast.get_docstring(ast.parse((folder / "spec.py").read_text(encoding="utf-8")))
        assert spec_doc and len(spec_doc) > 40, vuln_class
        assert (folder / "rewriters.py").is_file(), vuln_class
        assert template_files(vuln_class), vuln_class
    assert {vuln_class for vuln_class, _ in class_parts("rewriters")} == set(VulnClass)


def test_loading_the_specs_and_checks_never_imports_the_fixes_or_the_model():
    code = ("import sys; from ai_core.analysis.checks import default_registry; "
            "from ai_core.analysis.specs import spec_set; default_registry(); spec_set(); "
            "print(sorted(m for m in sys.modules if m.startswith(('ai_core.fixes', 'ai_core.model', "
            "'ai_core.retrieval')) or m.endswith('.rewriters')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_every_spec_entry_has_an_id_a_reason_and_an_example():
    specs = spec_set()
    entries = [*specs.sources_list, *specs.sinks_list, *specs.sanitizers_list, *specs.propagators_list]
    assert len(entries) > 100
    for entry in entries:
        assert entry.id and entry.patterns, entry
        assert len(entry.reason) > 15, entry.id
        assert entry.example, entry.id
    sink_ids = [sink.id for sink in specs.sinks_list]
    assert len(sink_ids) == len(set(sink_ids))


def test_registry_lists_rules_of_every_class_with_unique_ids():
    registry = default_registry()
    assert {rule.vuln_class for rule in registry.rules.values()} == set(VulnClass)
    assert "deserialization.pickle-loads" in registry.rules
    assert "command.subprocess-shell" in registry.rules


def test_extra_sources_sinks_and_sanitizers_from_settings_are_honoured():
    code = textwrap.dedent("""
        from mylib.inbox import read_message
        from mylib.db import run_sql
        from mylib.text import clean

        def handle():
            raw = read_message()
            run_sql("SELECT * FROM t WHERE a = '" + raw + "'")
            run_sql("SELECT * FROM t WHERE a = '" + clean(raw) + "'")
        """).lstrip()
    plain = Analyzer(Settings(model_enabled=False)).analyze_text(code, "handler.py")
    assert plain == []
    settings, warnings = Settings.from_mapping({
        "modelEnabled": False,
        "extraSources": [{"pattern": "mylib.inbox.read_message", "kind": "call", "reason": "queue messages"}],
        "extraSinks": [{"pattern": "mylib.db.run_sql", "class": "sql-injection", "args": [0], "id": "mylib.run-sql"}],
        "extraSanitizers": [{"pattern": "mylib.text.clean", "classes": ["sql-injection"]}],
    })
    assert warnings == []
    findings = Analyzer(settings).analyze_text(code, "handler.py")
    assert [(f.span.start_line + 1, f.rule, f.vuln_class.value) for f in findings] == [
        (7, "mylib.run-sql", "sql-injection")]


def test_invalid_extra_entries_are_skipped_with_a_warning(caplog: pytest.LogCaptureFixture):
    settings, _ = Settings.from_mapping({"extraSinks": [{"pattern": "x.y"}, {"class": "xss"},
                                                        {"pattern": "ok.sink", "class": "xss"}]})
    with caplog.at_level(logging.WARNING):
        specs = spec_set(settings)
    assert [s.id for s in specs.sinks_list if s.id.startswith("user.")] == ["user.sink.ok.sink"]
    assert sum("ignoring extra_sinks entry" in r.message for r in caplog.records) == 2


VULNERABLE = textwrap.dedent("""
    import pickle, subprocess

    def load(blob):
        return pickle.loads(blob){comment}

    def run(cmd):
        subprocess.run(cmd, shell=True)
    """).lstrip()


@pytest.mark.parametrize(("comment", "silenced"), [
    ("  # coderev: ignore[insecure-deserialization]", True),
    ("  # coderev: ignore[deserialization.pickle-loads]", True),
    ("  # coderev: ignore", True),
    ("  # coderev: ignore[xss]", False),
    ("  # nosec", False),
])
def test_suppression_comments_silence_their_line_only(comment: str, silenced: bool):
    findings = Analyzer(Settings(model_enabled=False)).analyze_text(VULNERABLE.format(comment=comment), "lib.py")
    lines = {f.span.start_line + 1 for f in findings}
    assert (4 not in lines) is silenced
    assert 7 in lines


def test_nosec_is_honoured_only_when_configured():
    code = VULNERABLE.format(comment="  # nosec")
    settings = Settings(model_enabled=False, honour_nosec=True)
    assert {f.span.start_line + 1 for f in Analyzer(settings).analyze_text(code, "lib.py")} == {7}


def test_enabled_classes_and_minimum_severity_filter_findings():
    code = VULNERABLE.format(comment="")
    only_cmd = Settings(model_enabled=False, enabled_classes=frozenset({VulnClass.COMMAND_INJECTION}))
    assert {f.vuln_class for f in Analyzer(only_cmd).analyze_text(code, "lib.py")} == {VulnClass.COMMAND_INJECTION}
    critical = Settings(model_enabled=False, min_severity=Severity.CRITICAL)
    assert Analyzer(critical).analyze_text(code, "lib.py") == []
    confident = Settings(model_enabled=False, min_confidence=0.75)
    assert {f.rule for f in Analyzer(confident).analyze_text(code, "lib.py")} == {"deserialization.pickle-loads"}


def test_broken_files_never_stop_the_analysis():
    code = "def f(:\n    os.system(sys.argv[1]\nimport pickle\npickle.loads(data)\n"
    findings = Analyzer(Settings(model_enabled=False)).analyze_text(code, "broken.py")
    assert all(f.path == "broken.py" for f in findings)


def test_absurdly_deep_expressions_skip_one_statement_not_the_file():
    code = ("import os, sys, pickle\nx = " + " + ".join(["sys.argv[1]"] * 3000) +
            "\nos.system(x)\n\ndef load(blob):\n    return pickle.loads(blob)\n")
    findings = Analyzer(Settings(model_enabled=False)).analyze_text(code, "deep.py")
    assert {(f.span.start_line + 1, f.rule) for f in findings} == {(3, "command.os-system"),
                                                                   (6, "deserialization.pickle-loads")}

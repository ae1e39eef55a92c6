"""Settings: both key styles, invalid values replaced by defaults with a warning, pyproject loading."""

from __future__ import annotations

from pathlib import Path

from ai_core.config import Settings, load_pyproject
from ai_core.findings import Severity, VulnClass


def test_camel_and_snake_case_keys_are_both_accepted():
    settings, warnings = Settings.from_mapping({"minSeverity": "high", "model_enabled": False})
    assert warnings == []
    assert settings.min_severity is Severity.HIGH
    assert settings.model_enabled is False


def test_invalid_values_keep_defaults_and_warn():
    settings, warnings = Settings.from_mapping(
        {"minConfidence": 7, "enabledClasses": ["nope"], "modelVariant": "int3", "debounceMs": "x", "bogus": 1})
    assert settings == Settings()
    assert len(warnings) == 5


def test_enabled_classes_restricts_the_set():
    settings, _ = Settings.from_mapping({"enabledClasses": ["sql-injection", "xss"]})
    assert settings.enabled_classes == {VulnClass.SQL_INJECTION, VulnClass.XSS}


def test_function_level_classes_default_to_those_without_flow_rules_and_are_configurable():
    assert VulnClass.BROKEN_AUTH in Settings().model_function_classes
    assert VulnClass.SQL_INJECTION not in Settings().model_function_classes
    settings, warnings = Settings.from_mapping({"modelFunctionClasses": ["sql-injection"]})
    assert warnings == [] and settings.model_function_classes == {VulnClass.SQL_INJECTION}
    _, warnings = Settings.from_mapping({"model_function_classes": ["sql"]})
    assert len(warnings) == 1


def test_pyproject_table_is_read(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text('[tool.coderev]\nmin_severity = "medium"\nexclude = ["gen/**"]\n')
    settings, warnings = load_pyproject(tmp_path)
    assert warnings == []
    assert settings.min_severity is Severity.MEDIUM
    assert settings.exclude == ("gen/**",)


def test_broken_pyproject_gives_defaults_and_a_warning(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text("[tool.coderev\n")
    settings, warnings = load_pyproject(tmp_path)
    assert settings == Settings()
    assert warnings and "cannot read" in warnings[0]


def test_allowed_hosts_are_host_names_and_anything_else_keeps_the_default_with_a_warning():
    settings, warnings = Settings.from_mapping({"allowedHosts": ["api.example.com", "10.0.0.1:8080", "[::1]"]})
    assert warnings == [] and settings.allowed_hosts == ("api.example.com", "10.0.0.1:8080", "[::1]")
    settings, warnings = Settings.from_mapping({"allowed_hosts": ["api.example.com", 'x"); import os; ("']})
    assert settings.allowed_hosts == () and len(warnings) == 1 and "not host names" in warnings[0]

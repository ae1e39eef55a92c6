"""The vulnerability classes, one package each: spec, non-flow checks, rewriters, training templates.

`CLASSES` is the one list of them. The spec set (`ai_core.analysis.specs`), the check registry
(`ai_core.analysis.checks`), the rewriter table (`ai_core.fixes.rewriters`) and the training templates
(`ai_core.model.data.templates`) are derived from it. Each layer imports only its own part of a class, so
nothing here imports a part itself (see README.md for how to add a rule or a class).
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from types import ModuleType

from ai_core.findings import VulnClass

CLASSES: tuple[VulnClass, ...] = (
    VulnClass.SQL_INJECTION, VulnClass.COMMAND_INJECTION, VulnClass.XSS, VulnClass.SSRF, VulnClass.BROKEN_AUTH,
    VulnClass.SESSION_FIXATION, VulnClass.SENSITIVE_DATA_EXPOSURE, VulnClass.HARDCODED_SECRET,
    VulnClass.SECURITY_MISCONFIGURATION, VulnClass.CORS_MISCONFIGURATION, VulnClass.PATH_TRAVERSAL,
    VulnClass.INSECURE_DESERIALIZATION, VulnClass.CODE_INJECTION, VulnClass.XXE, VulnClass.OPEN_REDIRECT,
    VulnClass.CSRF, VulnClass.INSECURE_RANDOMNESS,
)
"""Every built-in class, in the order their specs, checks and templates are listed."""

PARTS = ("spec", "checks", "rewriters")
"""The Python parts a class package may have (spec.py is required, the others optional)."""


def package_of(vuln_class: VulnClass) -> str:
    """The package of a class: `ai_core.classes.sql_injection` for `sql-injection`."""
    return f"{__name__}.{vuln_class.value.replace('-', '_')}"


def folder_of(vuln_class: VulnClass) -> Path:
    """The folder of a class's package."""
    return Path(__file__).with_name(vuln_class.value.replace("-", "_"))


def class_parts(part: str) -> list[tuple[VulnClass, ModuleType]]:
    """The `part` module ('spec', 'checks' or 'rewriters') of every class that has one, in `CLASSES` order."""
    if part not in PARTS:
        raise ValueError(f"unknown class part {part!r}; one of {', '.join(PARTS)}")
    found = []
    for vuln_class in CLASSES:
        name = f"{package_of(vuln_class)}.{part}"
        if importlib.util.find_spec(name) is not None:
            found.append((vuln_class, importlib.import_module(name)))
    return found


def template_files(vuln_class: VulnClass) -> list[Path]:
    """The training template files of a class (`templates/*.toml`), sorted by name."""
    return sorted((folder_of(vuln_class) / "templates").glob("*.toml"))

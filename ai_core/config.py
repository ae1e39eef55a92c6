"""One Settings object, read from `[tool.coderev]` in pyproject.toml or from an editor's settings."""

from __future__ import annotations

import dataclasses
import logging
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ai_core.findings import Severity, VulnClass

log = logging.getLogger(__name__)

MODEL_VARIANTS = ("auto", "fp32", "bf16", "int8", "nf4")
DIAGNOSTIC_MODES = ("auto", "push", "pull", "both")


MODEL_FUNCTION_CLASSES = frozenset({
    VulnClass.BROKEN_AUTH, VulnClass.SENSITIVE_DATA_EXPOSURE, VulnClass.HARDCODED_SECRET,
    VulnClass.SECURITY_MISCONFIGURATION,
})
"""Function-level mode's default classes: those without data-flow rules. On held-out families the model's guesses
of injection classes in functions where the taint engine proved no flow were false alarms (bench/model.py)."""


@dataclass(frozen=True)
class Settings:
    """Everything a user can configure; each field documents itself."""

    enabled_classes: frozenset[VulnClass] = frozenset(VulnClass)
    """Classes to report; the others are not even analysed."""
    min_severity: Severity = Severity.LOW
    """Findings below this severity are dropped."""
    min_confidence: float = 0.0
    """Findings below this confidence (0..1) are dropped."""
    honour_nosec: bool = False
    """Also treat bandit's `# nosec` comments as suppressions (besides `# coderev: ignore[...]`)."""
    exclude: tuple[str, ...] = ()
    """Glob patterns (relative to the scanned root, forward slashes) of files to skip."""
    extra_sources: tuple[Mapping[str, Any], ...] = ()
    """Extra taint sources, in the same shape as the built-in specs."""
    extra_sinks: tuple[Mapping[str, Any], ...] = ()
    """Extra taint sinks, in the same shape as the built-in specs."""
    extra_sanitizers: tuple[Mapping[str, Any], ...] = ()
    """Extra sanitizers, in the same shape as the built-in specs."""
    max_file_bytes: int = 8 * 1024 * 1024
    """Files larger than this are skipped with a logged reason."""
    model_enabled: bool = True
    """Score candidates with the LoRA classifier; off means rules alone."""
    model_threshold: float = 1.0
    """A rule finding the model judges safe with at least this probability is dropped; 1.0 never drops.

    Measured (bench/model.py): on held-out families and on our corpus no veto threshold beat keeping every
    rule finding, so by default the model only grades rule findings and adds function-level ones."""
    model_variant: str = "auto"
    """Which weights to run: auto (fastest measured within 1 F1 point of fp32), fp32, bf16, int8, nf4."""
    model_function_level: bool = False
    """Let the model flag whole functions where no rule fired (reported as model-only, lower severity).

    Off by default: measured (bench/model.py) it added no true positive on tests/holdout nor tests/corpus (and one
    false one), while scoring every security-relevant function made a scan ~10x slower."""
    show_model_dropped: bool = False
    """Report findings the model judged safe, as hints, instead of dropping them."""
    model_function_threshold: float = 0.9
    """Function-level mode flags a function only when the model's top class has at least this probability."""
    model_function_classes: frozenset[VulnClass] = MODEL_FUNCTION_CLASSES
    """Classes function-level mode may report (see MODEL_FUNCTION_CLASSES)."""
    adapter: str = ""
    """Adapter version to use; empty means the registry's active one."""
    adapter_registry: str = ".coderev/adapters"
    """Where user-created adapter versions live (relative to the workspace, or absolute)."""
    index_enabled: bool = True
    """Index the workspace into LanceDB for retrieval."""
    index_uri: str = ".coderev/index"
    """Where the LanceDB index lives: a folder (relative to the workspace) or a URI such as s3://…"""
    generative_endpoint: str = ""
    """An OpenAI-compatible endpoint for the generative fixer; empty keeps code on this machine."""
    generative_model: str = ""
    """The model name to ask the endpoint for, or a local Hugging Face directory."""
    generative_adapter: str = ""
    """A LoRA adapter directory for the local generative model (empty: the base model alone)."""
    generative_timeout_s: float = 30.0
    """Time limit for one request to the generative endpoint (retries and backoff come on top)."""
    run_tests_on_fix: bool = False
    """Run the workspace's tests (subprocess, timeout, no network) before offering a fix."""
    test_timeout_s: float = 60.0
    """Time limit for those tests."""
    debounce_ms: int = 150
    """How long the server waits after the last keystroke before analysing."""
    diagnostic_mode: str = "auto"
    """push, pull, both, or auto: pull for clients that declare pull diagnostics, else push (never both)."""

    def with_overrides(self, mapping: Mapping[str, Any]) -> tuple[Settings, list[str]]:
        """A copy with `mapping` applied; invalid values keep the current value and yield a warning."""
        return _parse(mapping, base=self)

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any] | None) -> tuple[Settings, list[str]]:
        """Settings from a dict (snake_case or camelCase keys), with warnings for what was ignored."""
        return _parse(mapping or {}, base=cls())


def load_pyproject(root: Path) -> tuple[Settings, list[str]]:
    """Settings from `root/pyproject.toml`'s `[tool.coderev]`, or defaults; never raises."""
    path = root / "pyproject.toml"
    if not path.is_file():
        return Settings(), []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return Settings(), [f"{path}: cannot read [tool.coderev] ({exc}); using defaults"]
    table = data.get("tool", {}).get("coderev", {})
    if not isinstance(table, dict):
        return Settings(), [f"{path}: [tool.coderev] is not a table; using defaults"]
    return Settings.from_mapping(table)


def _snake(key: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).replace("-", "_").lower()


_FIELDS = {f.name: f for f in dataclasses.fields(Settings)}


def _parse(mapping: Mapping[str, Any], base: Settings) -> tuple[Settings, list[str]]:
    values: dict[str, Any] = {}
    warnings: list[str] = []
    for raw_key, raw in mapping.items():
        key = _snake(str(raw_key))
        if key not in _FIELDS:
            warnings.append(f"unknown setting {raw_key!r} ignored")
            continue
        if raw is None:
            continue
        try:
            values[key] = _coerce(key, raw)
        except (TypeError, ValueError) as exc:
            warnings.append(f"setting {raw_key!r}: {exc}; keeping {getattr(base, key)!r}")
    for warning in warnings:
        log.warning("%s", warning)
    return dataclasses.replace(base, **values), warnings


def _coerce(key: str, raw: Any) -> Any:
    if key in {"enabled_classes", "model_function_classes"}:
        items = [raw] if isinstance(raw, str) else list(raw)
        return frozenset(VulnClass(str(item)) for item in items)
    if key == "min_severity":
        return Severity.parse(raw)
    if key in {"min_confidence", "model_threshold", "model_function_threshold"}:
        value = float(raw)
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{value} is not between 0 and 1")
        return value
    if key == "diagnostic_mode":
        if raw not in DIAGNOSTIC_MODES:
            raise ValueError(f"{raw!r} is not one of {', '.join(DIAGNOSTIC_MODES)}")
        return raw
    if key == "model_variant":
        if raw not in MODEL_VARIANTS:
            raise ValueError(f"{raw!r} is not one of {', '.join(MODEL_VARIANTS)}")
        return raw
    if key in {"exclude"}:
        items = [raw] if isinstance(raw, str) else list(raw)
        return tuple(str(item) for item in items)
    if key in {"extra_sources", "extra_sinks", "extra_sanitizers"}:
        items = [raw] if isinstance(raw, Mapping) else list(raw)
        if not all(isinstance(item, Mapping) for item in items):
            raise TypeError("expected a list of tables")
        return tuple(dict(item) for item in items if isinstance(item, Mapping))
    default = _FIELDS[key].default
    if isinstance(default, bool):
        if not isinstance(raw, bool):
            raise TypeError(f"expected true or false, got {raw!r}")
        return raw
    if isinstance(default, int):
        value = int(raw)
        if value < 0:
            raise ValueError(f"{value} is negative")
        return value
    if isinstance(default, float):
        value_f = float(raw)
        if value_f < 0:
            raise ValueError(f"{value_f} is negative")
        return value_f
    if isinstance(default, str):
        if not isinstance(raw, str):
            raise TypeError(f"expected a string, got {raw!r}")
        return raw
    raise TypeError(f"cannot read {raw!r}")  # pragma: no cover - every field type is handled above


__all__ = ["DIAGNOSTIC_MODES", "MODEL_VARIANTS", "Settings", "load_pyproject"]

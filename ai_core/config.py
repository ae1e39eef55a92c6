"""One Settings object, read from the user's config file, `[tool.coderev]` in pyproject.toml, or an editor's settings.

Trust: the settings in USER_ONLY run code or send it somewhere (the workspace's tests, the interpreter and
command that run them, the generative endpoint); a workspace's own `pyproject.toml` cannot set them (ignored
with a warning). They come from the user: the editor's settings, the user config file
(`$CODEREV_CONFIG`, else `$XDG_CONFIG_HOME/coderev/config.toml`, else `~/.config/coderev/config.toml`, a
`[coderev]` table or top-level keys), or a CLI flag. A workspace's `index_uri` and `adapter_registry` must be
relative paths inside it.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ai_core.findings import TIERS, Severity, VulnClass

log = logging.getLogger(__name__)

MODEL_VARIANTS = ("auto", "fp32", "bf16", "int8", "nf4", "student")
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
    allowed_hosts: tuple[str, ...] = ()
    """Hosts an SSRF fix lets requests go to (the fix adds them as a constant; see the README's rewriter table).
    The only reader of `allowed_hosts`: the Fixer hands these to the rewriters (`ProjectInfo.allowed_hosts`)."""
    tiers: tuple[str, ...] = TIERS
    """Which finding tiers are shown: "flow" (proven flows from untrusted input and rule matches) and "review"
    (dangerous sinks fed by data not proven safe, one severity step lower). Default: both, for the CLI and the
    editor alike: the better F1 on bench/realworld (0.40 vs 0.37 for flow alone, README)."""
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
    """Run the workspace's tests before a fix is applied (a copy of the tree, no network, rlimits); user only."""
    test_timeout_s: float = 60.0
    """Wall-clock (and CPU-time) limit for those tests; user only."""
    test_memory_mb: int = 4096
    """Address-space limit for those tests, in MiB; user only."""
    test_python: str = ""
    """The interpreter that runs those tests (e.g. `.venv/bin/python`, relative to the workspace); empty: the one
    running coderev. User only: the workspace's own interpreter is never picked by itself."""
    test_command: tuple[str, ...] = ()
    """Arguments after the interpreter (default `-m pytest -x -q -p no:cacheprovider`); user only."""
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


USER_ONLY = frozenset({"run_tests_on_fix", "test_timeout_s", "test_memory_mb", "test_python", "test_command",
                       "generative_endpoint"})
"""Settings that run code or send it off the machine: never taken from the workspace's own files."""
WORKSPACE_PATHS = frozenset({"index_uri", "adapter_registry"})
"""Settings naming where coderev writes: from the workspace, only relative paths that stay inside it."""
USER_CONFIG_ENV = "CODEREV_CONFIG"
HOST_NAME = re.compile(r"[A-Za-z0-9.:\-\[\]]+")
"""What an `allowed_hosts` entry may be: a host name, IPv4/IPv6 address, optionally with a port."""


def user_config_path() -> Path:
    """The user's config file: $CODEREV_CONFIG, else $XDG_CONFIG_HOME/coderev/config.toml, else ~/.config/…"""
    explicit = os.environ.get(USER_CONFIG_ENV)
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "coderev" / "config.toml"


def load_user_config() -> tuple[Settings, list[str]]:
    """Settings from the user's config file (any key, USER_ONLY included), or defaults; never raises."""
    path = user_config_path()
    try:
        if not path.is_file():
            return Settings(), []
    except OSError as exc:
        return Settings(), [f"{path}: cannot read the user config ({exc.strerror or exc}); using defaults"]
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return Settings(), [f"{path}: cannot read the user config ({exc}); using defaults"]
    table = data.get("coderev", data)
    if not isinstance(table, dict):
        return Settings(), [f"{path}: [coderev] is not a table; using defaults"]
    return Settings.from_mapping(table)


def load_pyproject(root: Path) -> tuple[Settings, list[str]]:
    """The settings of a workspace: the user config, then `root/pyproject.toml`'s `[tool.coderev]` without the
    USER_ONLY keys (each ignored with a warning); never raises."""
    base, warnings = load_user_config()
    path = root / "pyproject.toml"
    try:
        if not path.is_file():
            return base, warnings
    except OSError as exc:  # an unreadable workspace folder
        return base, [*warnings, f"{path}: cannot read [tool.coderev] ({exc.strerror or exc}); using defaults"]
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return base, [*warnings, f"{path}: cannot read [tool.coderev] ({exc}); using defaults"]
    table = data.get("tool", {}).get("coderev", {})
    if not isinstance(table, dict):
        return base, [*warnings, f"{path}: [tool.coderev] is not a table; using defaults"]
    trusted, refused = workspace_table(table)
    for message in refused:
        log.warning("%s: %s", path, message)
    settings, parsed = base.with_overrides(trusted)
    return settings, [*warnings, *(f"{path}: {m}" for m in refused), *parsed]


def workspace_table(table: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """A workspace's `[tool.coderev]` without what it may not set, and a warning for each key dropped."""
    kept: dict[str, Any] = {}
    refused: list[str] = []
    for raw_key, value in table.items():
        key = _snake(str(raw_key))
        if key in USER_ONLY:
            refused.append(f"{raw_key!r} is ignored in a workspace's [tool.coderev]: it runs code or sends it "
                           "elsewhere, so only your editor settings, ~/.config/coderev/config.toml or a CLI flag "
                           "can set it")
        elif key in WORKSPACE_PATHS and not _stays_inside(value):
            refused.append(f"{raw_key!r} = {value!r} is ignored in a workspace's [tool.coderev]: it must be a "
                           "relative path inside the workspace (set other places in your own settings)")
        else:
            kept[raw_key] = value
    return kept, refused


def _stays_inside(value: Any) -> bool:
    if not isinstance(value, str) or re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]+://", value) or value.startswith("~"):
        return False
    path = Path(value)
    return not path.is_absolute() and ".." not in path.parts


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
    if key == "tiers":
        tiers = [raw] if isinstance(raw, str) else list(raw)
        unknown = [t for t in tiers if t not in TIERS]
        if unknown or not tiers:
            raise ValueError(f"{unknown or tiers!r}: tiers are {', '.join(TIERS)}")
        return tuple(str(t) for t in tiers)
    if key in {"exclude", "test_command", "allowed_hosts"}:
        items = [raw] if isinstance(raw, str) else list(raw)
        bad = [item for item in items if key == "allowed_hosts" and not HOST_NAME.fullmatch(str(item))]
        if bad:
            raise ValueError(f"{bad!r}: not host names (letters, digits, '.', '-', ':', brackets)")
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


__all__ = ["DIAGNOSTIC_MODES", "MODEL_VARIANTS", "USER_ONLY", "Settings", "load_pyproject", "load_user_config",
           "user_config_path", "workspace_table"]

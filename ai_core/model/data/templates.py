"""Template families of every class, loaded from each class's `templates/*.toml` (ai_core/classes/<class>/).

A file holds `[[family]]` tables: `name`, the `vuln` and `safe` bodies (one line of code per line), and
optionally `order`, `flow` (false: the body does not start from untrusted input), `frames`, `imports`,
`safe_imports` and `pools` (name pools overriding the defaults). The class is the folder's. Conventions
(see generator.py): `$var` holds untrusted input in flow families, `#!sink` marks the line a rule would
flag, `@return EXPR` returns a value the way the frame does. These snippets are deliberately vulnerable
training data; they are never executed.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from ai_core.classes import CLASSES, template_files
from ai_core.findings import VulnClass
from ai_core.model.data.generator import FLOW_FRAMES, Family
from ai_core.model.minilm import MODEL_CLASSES

_UNORDERED = 1 << 30
"""Where families without an `order` go: after every numbered one, in registry and file order."""


def _lines(value: str | list[str]) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(value)
    return tuple(value.removesuffix("\n").split("\n"))


def _family(entry: dict[str, Any], vuln_class: VulnClass, path: Path) -> Family:
    try:
        safe_imports = entry.get("safe_imports")
        return Family(
            name=entry["name"], vuln_class=vuln_class, vuln=_lines(entry["vuln"]), safe=_lines(entry["safe"]),
            imports=tuple(entry.get("imports", ())), frames=tuple(entry.get("frames", FLOW_FRAMES)),
            flow=bool(entry.get("flow", True)),
            pools={key: tuple(pool) for key, pool in entry.get("pools", {}).items()},
            safe_imports=tuple(safe_imports) if safe_imports is not None else None)
    except KeyError as exc:
        raise ValueError(f"{path}: family {entry.get('name', '?')!r} lacks {exc}") from None


def load_families(classes: tuple[VulnClass, ...] = CLASSES) -> list[Family]:
    """Every family of `classes`, in generation order (`order`, then registry and file order)."""
    keyed: list[tuple[int, int, Family]] = []
    for vuln_class in classes:
        for path in template_files(vuln_class):
            with path.open("rb") as handle:
                entries = tomllib.load(handle).get("family", [])
            for entry in entries:
                keyed.append((int(entry.get("order", _UNORDERED)), len(keyed), _family(entry, vuln_class, path)))
    families = [family for _, _, family in sorted(keyed, key=lambda item: item[:2])]
    names = [family.name for family in families]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate template family names: {sorted({n for n in names if names.count(n) > 1})}")
    return families


FAMILIES: list[Family] = load_families(tuple(c for c in CLASSES if c in MODEL_CLASSES))
"""The template families the training set is generated from: those of the classes the model has labels for
(`load_families()` reads every class's)."""

"""Completing a rewriter's draft into a whole unverified fix: imports, helpers, reflowed lines, `.env.example`."""

from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ai_core.files import SourceError, is_template, read_head
from ai_core.findings import Finding, Fix, TextEdit
from ai_core.fixes.context import Draft, FixContext
from ai_core.fixes.imports import helper_edit, insertion_edits, removal_edits
from ai_core.fixes.ruff_runner import Ruff, changed_lines
from ai_core.fixes.text import apply_edits_bytes, diff_edits, sorted_edits
from ai_core.fixes.verdict import VerificationError
from ai_core.parsing import ParsedDocument

log = logging.getLogger(__name__)

ENV_EXAMPLE_FILES = (".env.example", ".env.sample", "env.example")
_STRINGS = re.compile(r'"[^"\n]*"|\'[^\'\n]*\'')
LONG_LINE = 88
"""Line length when the workspace configures none; a fix reflows (ruff format) a changed line longer than this
and than the file's own longest line plus GROWTH."""
GROWTH = 8
MAX_ENV_EXAMPLE_BYTES = 1024 * 1024


@dataclass(frozen=True)
class UnverifiedFix:
    """One unverified fix: the Fix, the patched text, and where it came from."""

    fix: Fix
    after: str
    source: str
    note: str = ""
    env_vars: tuple[str, ...] = ()
    files: tuple[tuple[str, str, str], ...] = ()
    """Other files the fix changes: (path, text before, text after)."""


def complete_draft(doc: ParsedDocument, finding: Finding, ctx: FixContext, draft: Draft, source: str,
                   root: Path | None, ruff: Ruff) -> UnverifiedFix:
    """A rewriter's draft made whole: helpers and imports added, unused imports removed, long lines reflowed (a
    template's draft is taken as it is: imports, helpers and ruff are Python's)."""
    if is_template(finding.path):
        ordered = sorted_edits(draft.edits)
        after = apply_edits_bytes(doc.data, ordered).decode("utf-8", errors="surrogatepass")
        fix = Fix(title=supply_title(draft), edits=tuple(ordered), path=finding.path,
                  vuln_class=finding.vuln_class, rule=finding.rule)
        return UnverifiedFix(fix, after, source, draft.note)
    edits = list(draft.edits)
    helper = helper_edit(doc, draft.helpers)
    if helper is not None:
        edits.append(helper)
    edits.extend(insertion_edits(doc, ctx.needs.needed, root))
    edits.extend(removal_edits(doc, [*draft.drop_imports, *replaced_imports(doc, ctx, draft.edits)], edits))
    ordered = sorted_edits(merge_inserts(edits))
    after = apply_edits_bytes(doc.data, ordered).decode("utf-8", errors="surrogatepass")
    before = doc.data.decode("utf-8", errors="surrogatepass")
    reflowed = reflow_long_lines(before, after, finding.path, root, ruff)
    if reflowed is not None:
        after, ordered = reflowed, list(diff_edits(before, reflowed))
    fix = Fix(title=supply_title(draft), edits=tuple(ordered), path=finding.path, vuln_class=finding.vuln_class,
              rule=finding.rule, extra_files=env_example_edits(draft.env_vars, root))
    return UnverifiedFix(fix, after, source, draft.note, tuple(draft.env_vars))

def supply_title(draft: Draft) -> str:
    """The draft's title, naming the environment variables the fix reads when it does not already: a fix that
    needs the user to supply a value says so where the user sees it (the code action, the journal)."""
    missing = [v for v in dict.fromkeys(draft.env_vars) if v not in draft.title]
    return f"{draft.title} (set {', '.join(missing)})" if missing else draft.title


def reflow_long_lines(before: str, after: str, path: str, root: Path | None, ruff: Ruff) -> str | None:
    """Changed lines longer than the file's longest line (and 88) are formatted by `ruff format --range`."""
    limit = max([line_length(root), *(len(line) + GROWTH for line in before.splitlines())])
    ranges = changed_lines(before, after)
    lines = after.splitlines()
    if not any(too_long(lines[i - 1], limit) for first, last in ranges
               for i in range(first, last + 1) if i - 1 < len(lines)):
        return None
    try:
        return ruff.format_lines(after, path, ranges, root)
    except VerificationError as exc:
        log.info("could not reflow a long line: %s", exc)
        return None

def env_example_edits(env_vars: Sequence[str], root: Path | None) -> tuple[tuple[str, tuple[TextEdit, ...]], ...]:
    """Document new environment variables in the workspace's `.env.example`, when it has one."""
    if not env_vars or root is None:
        return ()
    for name in ENV_EXAMPLE_FILES:
        path = root / name
        if not path.is_file() or not path.resolve().is_relative_to(root.resolve()):
            continue  # absent, special, or a symlink out of the workspace: not ours to edit
        try:
            data = read_head(path, MAX_ENV_EXAMPLE_BYTES)
        except SourceError:
            return ()
        present = {line.split(b"=", 1)[0].strip().decode(errors="replace") for line in data.splitlines()}
        missing = [v for v in dict.fromkeys(env_vars) if v not in present]
        if not missing:
            return ()
        lead = "" if not data or data.endswith(b"\n") else "\n"
        text = lead + "".join(f"{v}=\n" for v in missing)
        return ((str(path), (TextEdit(len(data), len(data), text),)),)
    return ()


def replaced_imports(doc: ParsedDocument, ctx: FixContext, edits: list[TextEdit]) -> list[str]:
    """Imported names that appear in the text the edits replace (their import may now be unused)."""
    imported = set(ctx.imports.names)
    names: list[str] = []
    for edit in edits:
        if edit.start_byte == edit.end_byte:
            continue
        chunk = doc.data[edit.start_byte:edit.end_byte].decode("utf-8", errors="replace")
        names.extend(n for n in re.findall(r"(?<![.\w])([A-Za-z_]\w*)", chunk) if n in imported)
    return names


def line_length(root: Path | None) -> int:
    """The workspace's configured line length ([tool.ruff] or [tool.black] in pyproject.toml), else 88."""
    if root is None:
        return LONG_LINE
    try:
        data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return LONG_LINE
    tool = data.get("tool", {})
    for section in (tool.get("ruff", {}), tool.get("black", {})):
        value = section.get("line-length", section.get("line_length")) if isinstance(section, dict) else None
        if isinstance(value, int) and value > 0:
            return value
    return LONG_LINE


def too_long(line: str, limit: int) -> bool:
    """Longer than `limit`, and not merely because of one string literal that no formatter can split."""
    if len(line) <= limit:
        return False
    strings = _STRINGS.findall(line)
    return len(strings) > 1 or len(_STRINGS.sub('""', line)) > limit


def merge_inserts(edits: list[TextEdit]) -> list[TextEdit]:
    """Join zero-width insertions at the same offset (imports and helpers may land on one spot)."""
    merged: dict[int, str] = {}
    others: list[TextEdit] = []
    for edit in edits:
        if edit.start_byte == edit.end_byte:
            merged[edit.start_byte] = merged.get(edit.start_byte, "") + edit.new_text
        else:
            others.append(edit)
    return others + [TextEdit(point, point, text) for point, text in merged.items()]

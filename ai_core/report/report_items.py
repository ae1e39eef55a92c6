"""What every report format renders: the scan's findings with fingerprints, suppressions and verified fixes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from ai_core.findings import Finding, VulnClass
from ai_core.notebooks import NotebookSource
from ai_core.parsing import ParsedDocument
from ai_core.parsing.positions import PositionEncoding, PositionMap
from ai_core.report.fingerprint import fingerprints
from ai_core.scan import ScanResult


@dataclass(frozen=True, slots=True)
class Replacement:
    """One edit of a verified fix: bytes [start_byte, end_byte) of `path` become `text` (1-based code points)."""

    path: str
    start_byte: int
    end_byte: int
    start_line: int
    start_column: int
    end_line: int
    end_column: int
    text: str


@dataclass(frozen=True, slots=True)
class FixView:
    """A verified fix as reports show it: a title, a unified diff and the replacements per file."""

    title: str
    diff: str
    replacements: tuple[Replacement, ...]


@dataclass(frozen=True, slots=True)
class Item:
    """One finding of a report with its fingerprint, 1-based code-point columns, suppression and fix."""

    finding: Finding
    fingerprint: str
    column: int
    end_column: int
    suppression: str | None = None
    """The suppressing comment when the finding is silenced in the source (SARIF reports it as suppressed)."""
    fix: FixView | None = None
    notebook: NotebookSource | None = None
    """The notebook the finding is in (its lines are those of the joined code cells)."""

    def cell_line(self, line: int) -> tuple[int | None, int]:
        """(cell number or None, 1-based line) of a 0-based line of the analyzed text."""
        if self.notebook is None:
            return None, line + 1
        cell, in_cell = self.notebook.locate(line)
        return cell, in_cell + 1


@dataclass
class Report:
    """A scan ready to render: the items, the files' texts (for code excerpts), and what was hidden and why."""

    root: str
    items: list[Item] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    files: int = 0
    lines: int = 0
    seconds: float = 0.0
    hidden: Counter[str] = field(default_factory=Counter)
    """Findings left out, by reason ("baseline", "diff", ...)."""
    secrets: set[str] = field(default_factory=set)
    """Values of hardcoded secrets found: masked wherever a report shows code."""

    def mask(self, text: str) -> str:
        """`text` with every secret value found replaced by asterisks (same length, first two characters kept)."""
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, mask_value(secret))
        return text

    @property
    def active(self) -> list[Item]:
        """The items that are not suppressed in the source (what the exit code counts)."""
        return [item for item in self.items if item.suppression is None]

    def keep(self, predicate: Callable[[Item], bool], reason: str) -> None:
        """Drop the items for which `predicate` is false, counting them under `reason`."""
        kept = [item for item in self.items if predicate(item)]
        self.hidden[reason] += len(self.items) - len(kept)
        self.items = kept

    def add(self, items: list[Item]) -> None:
        """Add items (suppressed findings), keeping the report ordered by file and position."""
        self.secrets.update(secret_values(item.finding for item in items))
        order = {path: i for i, path in enumerate(dict.fromkeys(i.finding.path for i in self.items))}
        self.items = sorted([*self.items, *items], key=lambda i: (
            order.get(i.finding.path, len(order)), i.finding.path, i.finding.span.start_byte, i.finding.rule))

    def with_fix(self, fingerprint: str, fix: FixView) -> None:
        """Attach a verified fix to the (not suppressed) item with this fingerprint."""
        self.items = [replace(i, fix=fix) if i.fingerprint == fingerprint and i.suppression is None else i
                      for i in self.items]


def items_of(findings: list[Finding], text: str, suppression: list[str | None] | None = None,
             notebook: NotebookSource | None = None) -> list[Item]:
    """Report items for one file's findings (fingerprints need the whole text)."""
    doc = ParsedDocument(text)
    positions = PositionMap(doc.data)
    prints = fingerprints(findings, text, doc)
    notes = suppression or [None] * len(findings)
    return [Item(f, fp, column_of(positions, f.span.start_line, f.span.start_col),
                 column_of(positions, f.span.end_line, f.span.end_col), note, notebook=notebook)
            for f, fp, note in zip(findings, prints, notes, strict=True)]


def column_of(positions: PositionMap | None, line: int, byte_col: int) -> int:
    """1-based character (code point) column of a 0-based line and byte column."""
    if positions is None:
        return byte_col + 1
    return positions.character_of(line, byte_col, PositionEncoding.UTF32) + 1


_QUOTES = "\"'"


def mask_value(value: str) -> str:
    """A secret shown safely: the first two characters (of long values), the rest asterisks."""
    keep = 2 if len(value) >= 8 else 0
    return value[:keep] + "*" * (len(value) - keep)


def secret_values(findings: Iterable[Finding]) -> set[str]:
    """The literal values flagged by hardcoded-secret findings (without prefix and quotes)."""
    values = set()
    for finding in findings:
        if finding.vuln_class is not VulnClass.HARDCODED_SECRET or not finding.snippet:
            continue
        value = finding.snippet.lstrip("rRbBuUfF").strip(_QUOTES)
        if len(value) >= 4:
            values.add(value)
    return values


def build_report(result: ScanResult) -> Report:
    """A report of every finding of a scan, fingerprinted."""
    report = Report(root=result.root, skipped=list(result.skipped), files=len(result.files),
                    lines=result.lines, seconds=result.seconds)
    for scanned in result.files:
        if not scanned.findings:
            continue
        report.texts[scanned.path] = scanned.text
        report.items.extend(items_of(scanned.findings, scanned.text, notebook=scanned.notebook))
    report.secrets = secret_values(item.finding for item in report.items)
    return report


def as_report(source: Report | ScanResult) -> Report:
    """`source` itself, or a report built from a scan result."""
    return source if isinstance(source, Report) else build_report(source)

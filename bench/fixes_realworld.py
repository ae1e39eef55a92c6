"""The fix benchmark on bench/realworld: for each labelled true positive coderev detects, a verified fix, applied.

Each project's export (bench/.cache/realworld/<name>, from bench/realworld/fetch.py) is copied to a temporary
folder; only the copy is ever written. For every `vuln` label a finding of coderev (rules only, cross-file
symbol table of the project) matches: ask the Fixer for a verified fix, write it into the copy, rescan the file
(the label must no longer be matched), check every changed file still compiles (CPython's parser; a template:
jinja2's lexer and parser; never imported or rendered) and that no line labelled `safe` changed; then restore
the copy. With `run_tests`, the project's own tests run once per fix in the Fixer's isolated test runner (a copy,
no network); by default they are skipped. The table is also written to bench/.cache/realworld/fixes_summary.json.
"""

from __future__ import annotations

import ast
import difflib
import json
import os
import shutil
import statistics
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ai_core.analysis import Analyzer
from ai_core.analysis.project import project_for_scan
from ai_core.config import Settings
from ai_core.files import is_template
from ai_core.findings import Finding
from ai_core.fixes import Fixer, Proposal, TestRunner
from ai_core.fixes.verify import syntax_problem
from ai_core.parsing import ParsedDocument
from bench.realworld.fetch import CACHE, load_projects
from bench.realworld.scoring import Label, load_labels, match

MAX_ROUNDS = 3
"""Fixes applied for one label at most (each further one for a finding the rescan still places on it)."""
SUMMARY = CACHE / "fixes_summary.json"
COLUMNS = ("detected", "verified", "removed", "compiles", "safe_changed", "tests_ok")


@dataclass(frozen=True)
class Located:
    """A Finding as bench/realworld/scoring sees it (path relative to the project folder, 1-based lines)."""

    path: str
    line: int
    end_line: int
    vuln_class: str


def located(finding: Finding, rel: str) -> Located:
    """The finding of file `rel` in scoring's terms."""
    return Located(rel, finding.span.start_line + 1, finding.span.end_line + 1, finding.vuln_class.value)


@dataclass
class ClassRow:
    """Counts of one class (or all): detected true positives and what became of their fixes."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COLUMNS, 0))
    seconds: list[float] = field(default_factory=list)


def changed_old_lines(before: str, after: str) -> set[int]:
    """1-based lines of `before` that the change replaced or deleted (pure insertions change no line)."""
    lines: set[int] = set()
    matcher = difflib.SequenceMatcher(None, before.splitlines(), after.splitlines(), autojunk=False)
    for tag, i1, i2, _j1, _j2 in matcher.get_opcodes():
        if tag in ("replace", "delete"):
            lines.update(range(i1 + 1, i2 + 1))
    return lines


def compiles(before: str, after: str, path: Path) -> bool:
    """True when the patched file still reads as its kind: Python that CPython's parser accepts, a template that
    jinja2's lexer (and, where it parsed before, its parser) accepts; nothing is imported, run or rendered."""
    if is_template(str(path)):
        return syntax_problem(before, after, str(path)) is None
    try:
        ast.parse(after)
    except (SyntaxError, ValueError):
        return False
    return True


def fixed_texts(proposal: Proposal, rel: str, root: Path) -> dict[Path, tuple[str, str]]:
    """Every file the proposal changes: absolute path -> (text before, text after)."""
    texts = {(root / rel).resolve(): ((root / rel).read_text(encoding="utf-8"), proposal.after)}
    if proposal.after == "" or not proposal.fix or not proposal.fix.edits:
        texts.pop((root / rel).resolve())
    for other, before, after in proposal.files:
        path = Path(other) if os.path.isabs(other) else root / other
        texts[path.resolve()] = (before, after)
    return texts


def bench_project(name: str, rows: dict[str, ClassRow], run_tests: bool, report: list[str]) -> None:
    """One project: copy it, fix each detected true positive on its own, restore the copy after each."""
    labels = load_labels(name)
    source = CACHE / name
    if not labels or not source.is_dir():
        report.append(f"{name}: not exported or unlabelled, skipped")
        return
    with tempfile.TemporaryDirectory(prefix=f"coderev-fix-real-{name}-") as tmp:
        root = Path(tmp) / name
        shutil.copytree(source, root, symlinks=True)
        cwd = os.getcwd()
        os.chdir(root)  # findings carry paths relative to the project, as in `coderev scan`
        try:
            analyzer = Analyzer(Settings(model_enabled=False), project=project_for_scan(root))
            tests = TestRunner(root, 300.0) if run_tests else None
            if tests is not None and not tests.has_tests():
                report.append(f"{name}: the export has no tests; its fixes count under 'tests pass' as not run")
                tests = None
            fixer = Fixer(analyzer, root)
            safe = defaultdict(set)
            for label in labels:
                if not label.vulnerable:
                    safe[label.path].add(label.line)
            by_file: dict[str, list[Label]] = defaultdict(list)
            for label in labels:
                if label.vulnerable:
                    by_file[label.path].append(label)
            for rel, file_labels in sorted(by_file.items()):
                if not (root / rel).is_file():
                    continue
                bench_file(root, rel, file_labels, safe, analyzer, fixer, tests, rows, report)
        finally:
            os.chdir(cwd)


def bench_file(root: Path, rel: str, labels: list[Label], safe: dict[str, set[int]], analyzer: Analyzer,
               fixer: Fixer, tests: TestRunner | None, rows: dict[str, ClassRow], report: list[str]) -> None:
    """The labelled true positives of one file."""
    text = (root / rel).read_text(encoding="utf-8")
    doc = ParsedDocument(text, path=rel)
    findings = analyzer.analyze(doc, rel)
    for label in labels:
        hits = [f for f in findings if match(located(f, rel), label)]
        if not hits:
            continue
        row, total = rows[label.vuln_class], rows["all"]
        for r in (row, total):
            r.counts["detected"] += 1
        started = time.perf_counter()
        proposal = next((p for p in (fixer.propose(doc, f) for f in hits) if p.fix is not None), None)
        seconds = time.perf_counter() - started
        row.seconds.append(seconds)
        total.seconds.append(seconds)
        where = f"{label.project} {rel}:{label.line} {label.vuln_class}"
        if proposal is None:
            reason = fixer.propose(doc, hits[0]).reason
            report.append(f"  no verified fix: {where} ({hits[0].rule}): {reason[:300]}")
            continue
        outcome = try_fix(root, rel, label, proposal, safe, fixer, tests)
        for key, value in outcome.items():
            row.counts[key] += value
            total.counts[key] += value
        if not outcome["removed"] or not outcome["compiles"] or outcome["safe_changed"]:
            report.append(f"  fix did not hold: {where}: {outcome} ({proposal.fix.title if proposal.fix else ''})")


def try_fix(root: Path, rel: str, label: Label, proposal: Proposal, safe: dict[str, set[int]], fixer: Fixer,
            tests: TestRunner | None) -> dict[str, int]:
    """Write the fix into the copy and rescan; while another finding still lands on the label (two calls on one
    line), fix that one too (up to MAX_ROUNDS); check compiling and safe lines, run tests if asked; restore."""
    originals: dict[Path, str] = {}
    outcome = {"verified": 1, "removed": 0, "compiles": 1, "safe_changed": 0, "tests_ok": 0}
    try:
        for _round in range(MAX_ROUNDS):
            for path, (before, after) in fixed_texts(proposal, rel, root).items():
                originals.setdefault(path, before)
                path.write_text(after, encoding="utf-8")
            overlay = {str(p): p.read_text(encoding="utf-8") for p in originals}
            rescan = fixer.verifier.overlay_analyzer(overlay, settings=fixer.analyzer.settings)
            doc = ParsedDocument((root / rel).read_text(encoding="utf-8"), path=rel)
            left = [f for f in rescan.analyze(doc, rel) if match(located(f, rel), label)]
            if not left:
                outcome["removed"] = 1
                break
            again = Fixer(rescan, root, verifier=type(fixer.verifier)(rescan, root)).propose(doc, left[0])
            if again.fix is None:
                break
            proposal = again
        for path, before in originals.items():
            after = path.read_text(encoding="utf-8")
            outcome["compiles"] &= int(compiles(before, after, path))
            other = path.relative_to(root.resolve()).as_posix()
            outcome["safe_changed"] += len(changed_old_lines(before, after) & safe.get(other, set()))
        if tests is not None:
            changed = {p.relative_to(root.resolve()).as_posix(): p.read_text(encoding="utf-8") for p in originals}
            outcome["tests_ok"] = int(tests.run(changed).passed)
    finally:
        for path, before in originals.items():
            path.write_text(before, encoding="utf-8")
    return outcome


def print_table(rows: dict[str, ClassRow], run_tests: bool) -> None:
    """The per-class table."""
    heads = ["class", "detected TP", "verified fix", "removed", "compiles", "safe lines changed", "ms/fix"]
    if run_tests:
        heads.insert(-1, "tests pass")
    print("  ".join(f"{h:>12}" if i else f"{h:<26}" for i, h in enumerate(heads)))
    for name in sorted(rows, key=lambda n: (n == "all", n)):
        row = rows[name]
        c = row.counts
        cells = [c["detected"], c["verified"], c["removed"], c["compiles"], c["safe_changed"]]
        if run_tests:
            cells.append(c["tests_ok"])
        ms = f"{1000 * statistics.median(row.seconds):.0f}" if row.seconds else "-"
        print("  ".join([f"{name:<26}", *(f"{v:>12}" for v in cells), f"{ms:>12}"]))


def realworld_bench(projects: list[str] | None = None, run_tests: bool = False) -> bool:
    """Run and print; True when at least 90% of detected true positives were removed, none broke, no safe line."""
    rows: dict[str, ClassRow] = defaultdict(ClassRow)
    report: list[str] = []
    started = time.perf_counter()
    names = [p.name for p in load_projects()]
    for name in projects or names:
        bench_project(name, rows, run_tests, report)
    total = rows["all"].counts
    print(f"\nbench/realworld: {len(projects or names)} projects, {time.perf_counter() - started:.0f} s "
          f"(tests {'run' if run_tests else 'skipped: --run-tests to run them'})\n")
    print_table(rows, run_tests)
    for line in report:
        print(line)
    summary = {name: {**row.counts, "median_ms": round(1000 * statistics.median(row.seconds)) if row.seconds else 0}
               for name, row in rows.items()}
    SUMMARY.parent.mkdir(parents=True, exist_ok=True)
    SUMMARY.write_text(json.dumps({"run_tests": run_tests, "classes": summary, "notes": report}, indent=1),
                       encoding="utf-8")
    detected = total["detected"]
    share = total["removed"] / detected if detected else 1.0
    print(f"\nremoved {total['removed']}/{detected} detected true positives ({100 * share:.0f}%); "
          f"files not compiling {total['verified'] - total['compiles']}; safe lines changed {total['safe_changed']}")
    return share >= 0.9 and total["compiles"] == total["verified"] and total["safe_changed"] == 0

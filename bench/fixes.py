"""Fix benchmark on coderev's own corpus (tests/fix_corpus) and on the pinned real projects (bench/realworld).

Own corpus:
1. Analyse every corpus file (rules only) and ask the Fixer for a verified fix for each finding on its own.
2. Run `coderev fix --apply` on a copy of the corpus, rescan it: none of the findings may remain and every
   file must still parse (tree-sitter and CPython's parser).
3. Undo every journaled fix with `coderev undo` and check the copy is byte-identical to the corpus again.

Real projects (bench/fixes_realworld.py, on a temporary copy of each export, never on the cache): per class,
detected true positives, verified fixes, fixes that remove the finding after apply + rescan, files still
compiling, labelled safe lines changed, time per fix; the projects' own tests only with --run-tests.

Usage: python bench/fixes.py [--corpus tests/fix_corpus] [--skip-corpus] [--skip-realworld]
       [--projects a,b] [--run-tests]
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from ai_core.analysis import Analyzer  # noqa: E402
from ai_core.config import Settings  # noqa: E402
from ai_core.findings import VulnClass  # noqa: E402
from ai_core.fixes import Fixer  # noqa: E402
from ai_core.parsing import ParsedDocument  # noqa: E402


def coderev(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the CLI as a user would."""
    return subprocess.run([sys.executable, "-m", "server.cli", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=1800, env={**os.environ, "PYTHONPATH": str(ROOT)})


def files_of(folder: Path) -> list[Path]:
    """The corpus's Python files, sorted."""
    return sorted(p for p in folder.rglob("*.py") if ".coderev" not in p.parts)


def coverage(workspace: Path) -> tuple[dict[str, list[int]], list[float], list[str], Counter[tuple[str, str]]]:
    """Per class [findings, verified fixes]; seconds per proposal; the findings without a fix (text, and
    counted by (relative path, rule))."""
    analyzer = Analyzer(Settings(model_enabled=False))
    fixer = Fixer(analyzer, workspace)
    per_class: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    timings: list[float] = []
    missing: list[str] = []
    unfixed: Counter[tuple[str, str]] = Counter()
    for path in files_of(workspace):
        doc = ParsedDocument(path.read_text(encoding="utf-8"), path=str(path))
        for finding in analyzer.analyze(doc, doc.path):
            started = time.perf_counter()
            proposal = fixer.propose(doc, finding)
            timings.append(time.perf_counter() - started)
            counts = per_class[finding.vuln_class.value]
            counts[0] += 1
            if proposal.fix is not None:
                counts[1] += 1
            else:
                missing.append(f"{path.relative_to(workspace)}:{finding.span.start_line + 1} {finding.rule}: "
                               f"{proposal.reason}")
                unfixed[(path.relative_to(workspace).as_posix(), finding.rule)] += 1
    return per_class, timings, missing, unfixed


def parses(path: Path) -> bool:
    """True when both tree-sitter and CPython parse the file."""
    text = path.read_text(encoding="utf-8")
    try:
        ast.parse(text)
    except SyntaxError:
        return False
    return not ParsedDocument(text).has_syntax_errors


def main() -> int:
    """Print the figures; exit 1 if a fixed finding survives the rescan, a file stops parsing, or undo differs."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=ROOT / "tests" / "fix_corpus")
    parser.add_argument("--skip-corpus", action="store_true", help="only the real projects")
    parser.add_argument("--skip-realworld", action="store_true", help="only the own corpus")
    parser.add_argument("--projects", default="", help="comma-separated real projects (default: all exported)")
    parser.add_argument("--run-tests", action="store_true",
                        help="also run each project's own tests after each fix (isolated copy, no network)")
    args = parser.parse_args()
    ok = True
    if not args.skip_corpus:
        ok = corpus_bench(args.corpus)
    if not args.skip_realworld:
        from bench.fixes_realworld import realworld_bench

        projects = [p for p in args.projects.split(",") if p] or None
        ok = realworld_bench(projects, run_tests=args.run_tests) and ok
    return 0 if ok else 1


def corpus_bench(corpus: Path) -> bool:
    """The own corpus: coverage, apply + rescan, undo; True when nothing survived, broke or failed to undo."""
    with tempfile.TemporaryDirectory(prefix="coderev-fix-bench-") as tmp:
        workspace = Path(tmp) / "corpus"
        shutil.copytree(corpus, workspace)
        (workspace / "pyproject.toml").write_text('[project]\nname = "fix-corpus"\n', encoding="utf-8")
        originals = {p: p.read_bytes() for p in files_of(workspace)}

        started = time.perf_counter()
        per_class, timings, missing, unfixed = coverage(workspace)
        coverage_s = time.perf_counter() - started
        total = sum(c[0] for c in per_class.values())
        fixed = sum(c[1] for c in per_class.values())

        lines = sum(t.count(b"\n") for t in originals.values())
        print(f"corpus: {len(originals)} files, {lines} lines, {total} findings (rules only)\n")
        print(f"{'class':<28}{'findings':>9}{'verified fix':>14}{'share':>8}")
        for cls in VulnClass:
            found, ok = per_class.get(cls.value, [0, 0])
            share = f"{100 * ok / found:.0f}%" if found else "-"
            print(f"{cls.value:<28}{found:>9}{ok:>14}{share:>8}")
        print(f"{'all':<28}{total:>9}{fixed:>14}{100 * fixed / max(total, 1):>7.0f}%\n")
        p95 = sorted(timings)[int(0.95 * (len(timings) - 1))]
        print(f"time per proposal (rewriters + verification incl. re-analysis and ruff): median "
              f"{1000 * statistics.median(timings):.0f} ms, p95 {1000 * p95:.0f} ms, max {1000 * max(timings):.0f} ms; "
              f"whole pass {coverage_s:.1f} s")
        for line in missing:
            print(f"  no verified fix: {line}")

        before_scan = coderev("scan", ".", "--no-model", "--format", "json", cwd=workspace)
        before = Counter((r["path"], r["rule"]) for r in json.loads(before_scan.stdout))
        started = time.perf_counter()
        applied = coderev("fix", ".", "--apply", cwd=workspace)
        apply_s = time.perf_counter() - started
        after_scan = coderev("scan", ".", "--no-model", "--format", "json", cwd=workspace)
        after = Counter((r["path"], r["rule"]) for r in json.loads(after_scan.stdout))
        survivors = sum((after & before).values())
        fixed_survivors = sum(((after & before) - unfixed).values())
        new = sum((after - before).values())
        broken = [p for p in files_of(workspace) if not parses(p)]
        entries = [json.loads(line) for line in (workspace / ".coderev" / "history.jsonl").read_text(
            encoding="utf-8").splitlines() if line.strip()]
        print(f"\ncoderev fix --apply: {apply_s:.1f} s, exit {applied.returncode}, {len(entries)} journal entries")
        print(f"rescan: {sum(before.values())} findings before, {sum(after.values())} after: {survivors} of the "
              f"original remain ({fixed_survivors} of those had a verified fix), {new} new; "
              f"files that no longer parse: {len(broken)}")

        undo_failures = 0
        for _ in entries:
            undone = coderev("undo", cwd=workspace)
            undo_failures += undone.returncode != 0
        identical = sum(originals[p] == p.read_bytes() for p in originals)
        print(f"undo of every fix: {undo_failures} refused; {identical}/{len(originals)} files byte-identical "
              "to the corpus afterwards")
    return fixed_survivors == 0 and new == 0 and not broken and undo_failures == 0 and identical == len(originals)


if __name__ == "__main__":
    sys.exit(main())

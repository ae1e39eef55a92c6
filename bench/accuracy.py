"""Per-class precision, recall and F1 on the labelled corpus (tests/corpus), for coderev and Bandit, in one run.

A finding counts as a true positive when a label expects that class on that line; every other finding
(on a line labelled safe, or unlabelled) is a false positive; a labelled positive nobody reported is a
false negative. Bandit's test ids are mapped onto our classes (BANDIT_CLASSES, bench/realworld/peers.py); ids with no
class (asserts, random, try/except/pass...) are ignored. Both tools see the same files.

Run: `.venv/bin/python bench/accuracy.py [--corpus DIR] [--json] [--no-realworld] [--reuse]`; then the same
table for bench/realworld with Semgrep beside (bench/realworld/README.md).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ai_core.config import Settings  # noqa: E402
from ai_core.findings import VulnClass  # noqa: E402
from ai_core.scan import scan_path  # noqa: E402
from bench.realworld.peers import BANDIT_CLASSES  # noqa: E402
from tests.corpus.make_labels import CORPUS, collect  # noqa: E402

Key = tuple[str, int, str]


def coderev_findings(corpus: Path) -> tuple[set[Key], float]:
    """(path, line, class) of coderev's findings (rules only) and the seconds it took."""
    started = time.perf_counter()
    result = scan_path(corpus, Settings(model_enabled=False), workers=1)
    return {(f.path, f.span.start_line + 1, f.vuln_class.value) for f in result.findings}, \
        time.perf_counter() - started


def bandit_findings(corpus: Path) -> tuple[set[Key], float, int]:
    """(path, line, class) of Bandit's mapped findings, the seconds it took, and its unmapped issue count."""
    started = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "bandit", "-r", str(corpus), "-f", "json", "-q"],
                         capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if not run.stdout.strip():
        raise SystemExit(f"bandit produced no report: {run.stderr.strip()[:300]}")
    report = json.loads(run.stdout)
    found: set[Key] = set()
    unmapped = 0
    for issue in report.get("results", []):
        vuln_class = BANDIT_CLASSES.get(issue["test_id"])
        if vuln_class is None:
            unmapped += 1
            continue
        rel = Path(issue["filename"]).resolve().relative_to(corpus.resolve()).as_posix()
        found.add((rel, int(issue["line_number"]), vuln_class))
    return found, seconds, unmapped


def score(found: set[Key], positives: set[Key], negatives: set[Key]) -> dict[str, dict[str, float]]:
    """Per class (and 'all'): tp, fp, fn, fp on labelled-safe lines, precision, recall, F1."""
    rows: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for key in found:
        row = rows[key[2]]
        if key in positives:
            row["tp"] += 1
        else:
            row["fp"] += 1
            row["fp_safe"] += key in negatives
    for key in positives - found:
        rows[key[2]]["fn"] += 1
    total: dict[str, float] = defaultdict(float)
    for vuln_class in VulnClass:
        row = rows[vuln_class.value]
        for name in ("tp", "fp", "fn", "fp_safe"):
            total[name] += row[name]
    rows["all"] = total
    for row in rows.values():
        tp, fp, fn = row["tp"], row["fp"], row["fn"]
        row["precision"] = tp / (tp + fp) if tp + fp else 0.0
        row["recall"] = tp / (tp + fn) if tp + fn else 0.0
        p, r = row["precision"], row["recall"]
        row["f1"] = 2 * p * r / (p + r) if p + r else 0.0
    return rows


def main() -> int:
    """Print the table (or JSON with --json)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    parser.add_argument("--no-realworld", action="store_true", help="only the corpus, not bench/realworld")
    parser.add_argument("--reuse", action="store_true", help="bench/realworld: re-score the kept raw reports")
    args = parser.parse_args()
    labels = collect(args.corpus)
    positives = {(str(lb["path"]), int(lb["line"]), str(lb["class"])) for lb in labels if lb["expected"]}
    negatives = {(str(lb["path"]), int(lb["line"]), str(lb["class"])) for lb in labels if not lb["expected"]}
    ours, our_seconds = coderev_findings(args.corpus)
    theirs, their_seconds, unmapped = bandit_findings(args.corpus)
    mine, bandit = score(ours, positives, negatives), score(theirs, positives, negatives)
    if args.json:
        sys.stdout.write(json.dumps({"coderev": mine, "bandit": bandit, "labels": len(labels)}, indent=1) + "\n")
        return 0
    out = sys.stdout.write
    out(f"corpus: {args.corpus} — {len(labels)} labels ({len(positives)} positive, {len(negatives)} safe "
        f"look-alikes), {len({p for p, _, _ in positives | negatives})} labelled files\n")
    out(f"coderev (rules only) {our_seconds:.2f} s; bandit {their_seconds:.2f} s "
        f"({unmapped} bandit issues of unmapped tests ignored)\n\n")
    header = f"{'class':27} {'pos':>4} | {'coderev P':>9} {'R':>5} {'F1':>5} {'FP':>4} | " \
             f"{'bandit P':>8} {'R':>5} {'F1':>5} {'FP':>4}\n"
    out(header + "-" * (len(header) - 1) + "\n")
    for name in [c.value for c in VulnClass] + ["all"]:
        a, b = mine[name], bandit[name]
        count = sum(1 for key in positives if key[2] == name) if name != "all" else len(positives)
        out(f"{name:27} {count:>4} | {a['precision']:9.2f} {a['recall']:5.2f} {a['f1']:5.2f} {int(a['fp']):>4} | "
            f"{b['precision']:8.2f} {b['recall']:5.2f} {b['f1']:5.2f} {int(b['fp']):>4}\n")
    out(f"\nFP = findings not expected by a label; of those on lines labelled safe: coderev "
        f"{int(mine['all']['fp_safe'])}, bandit {int(bandit['all']['fp_safe'])}.\n")
    if not args.no_realworld:
        # Real projects nobody here wrote, labelled by us (bench/realworld/README.md); peers side by side.
        from bench.realworld.run import evaluate, print_report

        out("\nbench/realworld (real projects, our labels):\n")
        print_report(evaluate(tools=("coderev", "coderev-no-model", "bandit", "semgrep"), reuse=args.reuse))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

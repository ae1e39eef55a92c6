"""Per-class precision, recall and F1 on the labelled corpus (tests/corpus), for coderev and Bandit, in one run.

A finding counts as a true positive when a label expects that class on that line; every other finding
(on a line labelled safe, or unlabelled) is a false positive; a labelled positive nobody reported is a
false negative. Bandit's test ids are mapped onto coderev's classes (BANDIT_CLASSES); ids with no
class (asserts, try/except/pass...) are ignored. Both tools see the same files.

Run: `.venv/bin/python bench/accuracy.py [--corpus DIR] [--json]` (rules only; the model is off).
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
from tests.corpus.make_labels import CORPUS, collect  # noqa: E402

BANDIT_CLASSES: dict[str, str] = {
    "B102": "code-injection", "B307": "code-injection", "B404": "command-injection",
    "B601": "command-injection", "B602": "command-injection", "B603": "command-injection",
    "B604": "command-injection", "B605": "command-injection", "B606": "command-injection",
    "B607": "command-injection", "B609": "command-injection",
    "B608": "sql-injection", "B610": "sql-injection", "B611": "sql-injection",
    "B308": "xss", "B701": "xss", "B702": "xss", "B703": "xss", "B704": "xss",
    "B310": "ssrf",
    "B303": "broken-auth", "B324": "broken-auth",
    "B105": "hardcoded-secret", "B106": "hardcoded-secret", "B107": "hardcoded-secret",
    "B103": "security-misconfiguration", "B104": "security-misconfiguration", "B201": "security-misconfiguration",
    "B202": "path-traversal",
    "B301": "insecure-deserialization", "B302": "insecure-deserialization", "B403": "insecure-deserialization",
    "B506": "insecure-deserialization", "B614": "insecure-deserialization",
    "B313": "xxe", "B314": "xxe", "B315": "xxe", "B316": "xxe", "B317": "xxe", "B318": "xxe", "B319": "xxe",
    "B320": "xxe", "B405": "xxe", "B406": "xxe", "B407": "xxe", "B408": "xxe", "B409": "xxe", "B410": "xxe",
    "B311": "insecure-randomness",
    "B312": "sensitive-data-exposure", "B321": "sensitive-data-exposure", "B323": "sensitive-data-exposure",
    "B401": "sensitive-data-exposure", "B402": "sensitive-data-exposure", "B501": "sensitive-data-exposure",
    "B502": "sensitive-data-exposure", "B503": "sensitive-data-exposure", "B504": "sensitive-data-exposure",
    "B507": "sensitive-data-exposure",
}
"""Bandit test id -> the coderev class it reports (Bandit has no CORS or session-fixation tests)."""

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
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Scores coderev (default settings and --no-model) next to Bandit and Semgrep on the pinned real-world projects.

For each project in projects.toml: export the pinned commit (fetch.py), run every tool over the same folder,
score each against labels/<name>.jsonl (scoring.py) and print precision/recall/F1 per project and per class,
side by side; the summary goes to bench/.cache/realworld/summary.json. Raw reports are kept under
bench/.cache/realworld/reports/ so `--reuse` re-scores without re-running the tools.

Run: `.venv/bin/python bench/realworld/run.py [--projects a,b] [--tools coderev,coderev-no-model,bandit,semgrep]
[--reuse] [--misses]`. From another bench: `from bench.realworld.run import evaluate, print_report`.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections import Counter
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))

from bench.realworld.fetch import CACHE, Project, export, export_semgrep_rules, load_projects
from bench.realworld.peers import (
    ToolRun,
    bandit_command,
    coderev_command,
    parse_bandit,
    parse_coderev,
    parse_semgrep,
    run_json,
    semgrep_command,
    semgrep_env,
    semgrep_executable,
)
from bench.realworld.scoring import Outcome, Tally, label_problems, load_labels, match, score

__all__ = ["evaluate", "load_labels", "match", "print_report", "score"]

logger = logging.getLogger(__name__)

TOOLS = ("coderev", "coderev-no-model", "bandit", "semgrep")
REPORTS = CACHE / "reports"
SUMMARY = CACHE / "summary.json"


def run_tool(tool: str, project: Project, folder: Path, reuse: bool, workers: int) -> ToolRun:
    """One tool over one exported project (or its kept raw report with reuse)."""
    kept = REPORTS / tool / f"{project.name}.json"
    timing = kept.with_suffix(".seconds")
    report: object = None
    error = ""
    started = time.perf_counter()
    reused = reuse and kept.is_file()
    if reused:
        report = json.loads(kept.read_text(encoding="utf-8"))
    elif tool.startswith("coderev"):
        report, error = run_json(coderev_command(folder, model=tool == "coderev", workers=workers))
    elif tool == "bandit":
        report, error = run_json(bandit_command(folder))
    elif tool == "semgrep":
        executable, rules = semgrep_executable(), export_semgrep_rules()
        if executable is None or rules is None:
            error = "semgrep is not installed" if executable is None else "no local semgrep rules folder"
        else:
            report, error = run_json(semgrep_command(executable, folder, rules), env=semgrep_env())
    seconds = time.perf_counter() - started
    if report is None:
        return ToolRun(tool, [], error=error or "no report")
    if reused:
        seconds = float(timing.read_text()) if timing.is_file() else 0.0
    else:
        kept.parent.mkdir(parents=True, exist_ok=True)
        kept.write_text(json.dumps(report), encoding="utf-8")
        timing.write_text(f"{seconds:.1f}\n")
    if tool.startswith("coderev"):
        parsed = parse_coderev(report if isinstance(report, list) else [], folder)
    elif tool == "bandit":
        parsed = parse_bandit(report if isinstance(report, dict) else {}, folder)
    else:
        parsed = parse_semgrep(report if isinstance(report, dict) else {}, folder)
    parsed.tool, parsed.seconds = tool, seconds
    return parsed


def tier_runs(run: ToolRun) -> list[ToolRun]:
    """A coderev run split by tier (one extra run per tier present), so the default tiers can be chosen by F1."""
    tiers = sorted({f.tier for f in run.findings if f.tier})
    return [ToolRun(f"{run.tool}[{tier}]", [f for f in run.findings if f.tier == tier]) for tier in tiers]


def evaluate(projects: list[str] | None = None, tools: tuple[str, ...] = TOOLS, reuse: bool = False,
             workers: int = 2) -> dict:
    """Runs and scores every tool on every (selected) project; the summary dict that summary.json holds."""
    summary: dict = {"projects": {}, "skipped": {}, "tools": list(tools)}
    outcomes: dict[str, dict[str, Outcome]] = {}
    for project in load_projects():
        if projects and project.name not in projects:
            continue
        folder = export(project)
        labels = load_labels(project.name)
        if folder is None:
            summary["skipped"][project.name] = f"{project.repo}@{project.commit[:12]} not available, skipped"
            logger.warning("%s", summary["skipped"][project.name])
            continue
        entry: dict = {"repo": project.repo, "commit": project.commit, "subdirs": list(project.subdirs),
                       "labels": {"vuln": sum(lb.vulnerable for lb in labels),
                                  "safe": sum(not lb.vulnerable for lb in labels)}, "tools": {}}
        for tool in tools:
            run = run_tool(tool, project, folder, reuse, workers)
            for each in [run, *(tier_runs(run) if tool.startswith("coderev") else [])]:
                outcome = score(each.findings, labels)
                outcomes.setdefault(each.tool, {})[project.name] = outcome
                entry["tools"][each.tool] = {
                    **outcome.tally().as_dict(), "findings": len(each.findings), "unmapped": each.unmapped,
                    "seconds": round(run.seconds, 1), "error": run.error,
                    "missed": [f"{lb.path}:{lb.line} {lb.vuln_class}" for lb in outcome.missed()],
                    "missed_shapes": dict(Counter(lb.shape or "-" for lb in outcome.missed())),
                    "false_alarms": [f"{lb.path}:{lb.line} {lb.vuln_class}" for lb in outcome.false_alarms()]}
        summary["projects"][project.name] = entry
    summary["overall"], summary["per_class"] = totals(outcomes)
    return summary


def totals(outcomes: dict[str, dict[str, Outcome]]) -> tuple[dict, dict]:
    """(per tool overall tally, per class per tool tally) over every scored project."""
    overall: dict[str, dict] = {}
    per_class: dict[str, dict[str, dict]] = {}
    for tool, by_project in outcomes.items():
        total = Tally()
        classes: dict[str, Tally] = {}
        for outcome in by_project.values():
            total.add(outcome.tally())
            for cls in {lb.vuln_class for lb in outcome.hits}:
                classes.setdefault(cls, Tally()).add(outcome.tally(cls))
        overall[tool] = total.as_dict()
        for cls, tally in classes.items():
            per_class.setdefault(cls, {})[tool] = tally.as_dict()
    return overall, dict(sorted(per_class.items()))


def row(name: str, cells: dict[str, dict], tools: list[str]) -> str:
    """One table line: a name, then P/R/F1 (tp/fp/fn) per tool."""
    parts = [f"{name:<26}"]
    for tool in tools:
        cell = cells.get(tool)
        parts.append(f"{'-':^25}" if cell is None else
                     f"{cell['precision']:.2f} {cell['recall']:.2f} {cell['f1']:.2f} "
                     f"{cell['tp']:>3}/{cell['fp']:<2}/{cell['fn']:<3}")
    return " | ".join(parts)


def print_report(summary: dict, misses: bool = False) -> None:
    """The per-project and per-class tables (P R F1 tp/fp/fn for each tool), then the skipped projects."""
    tools = list(summary["overall"])
    header = " | ".join([f"{'':<26}", *(f"{tool:^25}" for tool in tools)])
    print("real-world set: precision recall F1 tp/fp/fn on our labels (findings on unlabelled lines not counted)")
    print(header)
    print("-" * len(header))
    for name, entry in summary["projects"].items():
        counts = entry["labels"]
        print(row(f"{name} ({counts['vuln']}v/{counts['safe']}s)", entry["tools"], tools))
    print(row("ALL", summary["overall"], tools))
    print()
    print(header)
    print("-" * len(header))
    for cls, cells in summary["per_class"].items():
        print(row(cls, cells, tools))
    for name, why in summary["skipped"].items():
        print(f"{name}: {why}")
    for name, entry in summary["projects"].items():
        for tool, cell in entry["tools"].items():
            if cell["error"]:
                print(f"{name} {tool}: ERROR {cell['error']}")
    if misses:
        for name, entry in summary["projects"].items():
            for tool in ("coderev-no-model", "coderev"):
                cell = entry["tools"].get(tool)
                if cell:
                    print(f"\n{name} {tool} missed: " + "; ".join(cell["missed"]))
                    print(f"{name} {tool} false alarms: " + "; ".join(cell["false_alarms"]))


def missed_classes(summary: dict, tool: str = "coderev-no-model") -> Counter[str]:
    """How many positives of each class the tool missed over all projects."""
    return Counter(item.split()[-1] for entry in summary["projects"].values()
                   for item in entry["tools"].get(tool, {}).get("missed", []))


def missed_shapes(summary: dict, tool: str) -> Counter[str]:
    """How many positives of each shape (labels' 'shape') the tool missed over all projects."""
    total: Counter[str] = Counter()
    for entry in summary["projects"].values():
        total.update(entry["tools"].get(tool, {}).get("missed_shapes", {}))
    return total


def check() -> int:
    """Prints every label that does not fit its pinned export, and the label counts; 1 when any is wrong."""
    problems, counts = [], Counter[str]()
    for project in load_projects():
        labels = load_labels(project.name)
        counts.update("vuln" if lb.vulnerable else "safe" for lb in labels)
        folder = export(project)
        if folder is None:
            print(f"{project.name}: {project.repo}@{project.commit[:12]} not available, skipped")
            continue
        problems += label_problems(labels, folder)
        print(f"{project.name}: {sum(lb.vulnerable for lb in labels)} vuln, "
              f"{sum(not lb.vulnerable for lb in labels)} safe")
    print("\n".join(problems) or "all labels fit their pinned exports")
    print(f"total: {counts['vuln']} vuln, {counts['safe']} safe")
    return 1 if problems else 0


def main() -> None:
    """Command line: run, print, write summary.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", default="", help="comma-separated project names (default: all)")
    parser.add_argument("--tools", default=",".join(TOOLS), help=f"comma-separated, of {', '.join(TOOLS)}")
    parser.add_argument("--reuse", action="store_true", help="score the kept raw reports instead of re-running")
    parser.add_argument("--workers", type=int, default=2, help="coderev worker processes")
    parser.add_argument("--misses", action="store_true", help="list coderev's missed labels and false alarms")
    parser.add_argument("--check", action="store_true", help="only check the labels against the pinned exports")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    if args.check:
        raise SystemExit(check())
    tools = tuple(t for t in args.tools.split(",") if t)
    unknown = set(tools) - set(TOOLS)
    if unknown:
        parser.error(f"unknown tools: {', '.join(sorted(unknown))}")
    summary = evaluate([p for p in args.projects.split(",") if p] or None, tools, args.reuse, args.workers)
    SUMMARY.parent.mkdir(parents=True, exist_ok=True)
    SUMMARY.write_text(json.dumps(summary, indent=1), encoding="utf-8")
    print_report(summary, args.misses)
    print("\nmissed positives by shape (see scoring.SHAPES):")
    for tool in summary["overall"]:
        print(f"  {tool:<18} " + ", ".join(f"{shape} {n}" for shape, n in missed_shapes(summary, tool).most_common()))
    print(f"coderev-no-model misses by class: {dict(missed_classes(summary).most_common())}")
    print(f"summary: {SUMMARY}")


if __name__ == "__main__":
    main()

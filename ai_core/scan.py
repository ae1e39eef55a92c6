"""Scanning a folder or file: find Python files, read them safely, analyze them on a process pool."""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ai_core.analysis import Analyzer
from ai_core.analysis.analyzer import sort_findings
from ai_core.analysis.project import project_for_scan
from ai_core.analysis.templates.project import project_template_findings
from ai_core.analysis.tiers import settle_tiers
from ai_core.config import Settings
from ai_core.files import TEMPLATE_SUFFIXES, SourceError, iter_python_files, iter_template_files, read_source, relative
from ai_core.findings import Finding, VulnClass
from ai_core.model.review import Reviewer
from ai_core.model.scoring import Scorer
from ai_core.parsing import ParsedDocument

log = logging.getLogger(__name__)


@dataclass
class ScannedFile:
    """One analyzed file: its path relative to the scan root, findings, and text (kept only if needed)."""

    path: str
    findings: list[Finding]
    text: str = ""
    lines: int = 0


@dataclass
class ScanResult:
    """Everything a scan found and skipped, with counts for reports and benchmarks."""

    root: str
    files: list[ScannedFile] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def findings(self) -> list[Finding]:
        """All findings, file by file."""
        return [finding for scanned in self.files for finding in scanned.findings]

    @property
    def lines(self) -> int:
        """Lines analyzed."""
        return sum(scanned.lines for scanned in self.files)


_WORKER_ANALYZER: Analyzer | None = None


def _init_worker(settings: Settings, root: Path | None = None) -> None:
    global _WORKER_ANALYZER  # one Analyzer per worker process, built once
    project = project_for_scan(root) if root is not None else None  # cross-file symbol table of the scan root
    _WORKER_ANALYZER = Analyzer(settings, project=project)


def _scan_one(args: tuple[str, str, int]) -> tuple[str, list[Finding], str, int, str]:
    path_str, rel, max_bytes = args
    assert _WORKER_ANALYZER is not None
    try:
        text = read_source(Path(path_str), max_bytes)
    except SourceError as exc:
        return rel, [], "", 0, str(exc)
    try:
        findings = _WORKER_ANALYZER.analyze_text(text, rel)
    except Exception as exc:  # a file never stops the scan
        log.exception("analysis failed on %s", rel)
        return rel, [], "", 0, f"analysis failed: {exc}"
    return rel, findings, text if findings else "", text.count("\n") + 1, ""


def scan_path(
    root: Path,
    settings: Settings,
    workers: int | None = None,
    on_file: Callable[[str], None] | None = None,
    scorer: Scorer | None = None,
) -> ScanResult:
    """Analyze every Python file under `root`; `workers` > 1 uses a process pool (default: all cores).

    Workers run the rules; when `settings.model_enabled`, this process then scores the findings with
    `scorer` (default: the workspace's model, loaded here; rules alone if it cannot be loaded).
    """
    started = time.perf_counter()
    root = root.resolve()
    result = ScanResult(root=str(root))
    python_files = [] if root.is_file() and root.name.endswith(TEMPLATE_SUFFIXES) else \
        iter_python_files(root, settings.exclude)  # a template named on the command line is not Python
    jobs = [(str(p), relative(p, root), settings.max_file_bytes) for p in python_files]
    workers = workers or os.cpu_count() or 1
    if workers > 1 and len(jobs) > 8:
        with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(settings, root)) as pool:
            outcomes = list(pool.map(_scan_one, jobs, chunksize=max(1, len(jobs) // (workers * 8))))
    else:
        _init_worker(settings, root)
        outcomes = []
        for job in jobs:
            outcomes.append(_scan_one(job))
            if on_file:
                on_file(job[1])
    for rel, findings, text, lines, error in outcomes:
        if error:
            log.warning("skipped %s: %s", rel, error)
            result.skipped.append((rel, error))
        else:
            result.files.append(ScannedFile(rel, findings, text, lines))
    kept = {id(f) for f in settle_tiers(result.findings)}  # a flow from another file hides a helper's review
    for scanned in result.files:
        scanned.findings = [f for f in scanned.findings if id(f) in kept]
    if settings.model_enabled:
        _score_with_model(result, root, settings, scorer)
    _add_template_findings(result, root, settings, [Path(job[0]) for job in jobs])
    result.seconds = time.perf_counter() - started
    return result


def _add_template_findings(result: ScanResult, root: Path, settings: Settings, python_files: list[Path]) -> None:
    """Templates are code: their unsafe outputs, and the views' render calls that fill them with request data."""
    if VulnClass.XSS not in settings.enabled_classes:
        return
    templates: list[tuple[str, str]] = []
    for path in iter_template_files(root, settings.exclude):
        try:
            templates.append((relative(path, root), read_source(path, settings.max_file_bytes)))
        except SourceError as exc:
            result.skipped.append((relative(path, root), str(exc)))
    if not templates:
        return
    texts = dict(templates)
    found = project_template_findings(root if root.is_dir() else root.parent, templates, python_files,
                                      settings.max_file_bytes)
    files = {scanned.path: scanned for scanned in result.files}
    for rel, findings in sorted(found.items()):
        kept = [f for f in findings if f.tier in settings.tiers and f.severity >= settings.min_severity
                and f.confidence >= settings.min_confidence]
        scanned = files.get(rel)
        if scanned is None:
            text = texts.get(rel, "")
            scanned = ScannedFile(rel, [], text, text.count("\n") + 1)
            files[rel] = scanned
            result.files.append(scanned)
        if kept and not scanned.text:
            with contextlib.suppress(SourceError):
                scanned.text = read_source(root / rel if root.is_dir() else root, settings.max_file_bytes)
        scanned.findings = sort_findings([*scanned.findings, *kept])


def _score_with_model(result: ScanResult, root: Path, settings: Settings, scorer: Scorer | None) -> None:
    """The model step of a scan: the Reviewer scores every file's findings together, in this process."""
    if scorer is None:
        try:
            from ai_core.model.predictor import load_scorer

            scorer = load_scorer(settings, root if root.is_dir() else root.parent)
        except Exception as exc:  # no adapter, no torch, unreadable weights: the rules still stand
            log.warning("model unavailable (%s); reporting rule findings only", exc)
            return
    jobs: list[tuple[ScannedFile, ParsedDocument]] = []
    for scanned in result.files:
        if not scanned.findings and not settings.model_function_level:
            continue
        text = scanned.text
        if not text:
            try:
                text = read_source(root / scanned.path if root.is_dir() else root, settings.max_file_bytes)
            except SourceError:
                continue
        jobs.append((scanned, ParsedDocument(text, path=scanned.path)))
    reviewer = Reviewer(settings, scorer=scorer)
    scored = reviewer.score([(doc, scanned.findings, scanned.path) for scanned, doc in jobs])
    for (scanned, doc), findings in zip(jobs, scored, strict=True):
        scanned.findings = findings
        if findings and not scanned.text:
            scanned.text = doc.text

"""Scanning a folder or file: find Python files, read them safely, analyze them on a process pool."""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from ai_core.analysis import Analyzer
from ai_core.analysis.analyzer import sort_findings
from ai_core.analysis.project import Project, project_for_scan
from ai_core.analysis.templates.project import project_template_findings
from ai_core.analysis.tiers import settle_tiers
from ai_core.config import Settings
from ai_core.files import (
    PYTHON_SUFFIXES,
    SourceError,
    file_in,
    folder_of,
    is_template,
    iter_python_files,
    iter_template_files,
    read_source,
    relative,
)
from ai_core.findings import Finding, VulnClass
from ai_core.model.adapters import AdapterError, AdapterRegistry
from ai_core.model.review import Reviewer
from ai_core.model.score_cache import BackgroundScorer, CachedScorer, DiskScores, ScoreStore, score_cache_path
from ai_core.model.scoring import ModelJob, Scorer, model_job
from ai_core.notebooks import NOTEBOOK_SUFFIX, NotebookSource, read_notebook
from ai_core.parsing import ParsedDocument

log = logging.getLogger(__name__)

SCAN_SUFFIXES = (*PYTHON_SUFFIXES, NOTEBOOK_SUFFIX)
"""What `coderev scan` reads: Python files and Jupyter notebooks."""



@dataclass
class ScannedFile:
    """One analyzed file: its path relative to the scan root, findings, and text (kept only if needed)."""

    path: str
    findings: list[Finding]
    text: str = ""
    lines: int = 0
    notebook: NotebookSource | None = None
    """For a notebook: its joined code cells (`text` is that source, findings' lines are in it)."""
    stage_seconds: dict[str, float] = field(default_factory=dict)
    """Time spent on this file per stage ("parse", "analysis", "candidates")."""
    model_job: ModelJob | None = None
    """What the model reads for these findings, built by the worker from the parse it already has (model on)."""


@dataclass
class ScanResult:
    """Everything a scan found and skipped, with counts for reports and benchmarks."""

    root: str
    files: list[ScannedFile] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=dict)
    """Time spent on whole-scan stages ("model")."""

    @property
    def findings(self) -> list[Finding]:
        """All findings, file by file."""
        return [finding for scanned in self.files for finding in scanned.findings]

    @property
    def lines(self) -> int:
        """Lines analyzed."""
        return sum(scanned.lines for scanned in self.files)

    @property
    def nothing_analysed(self) -> bool:
        """True when something was found to scan but every file (or folder) of it was skipped."""
        return bool(self.skipped) and not self.files


FileJob = tuple[str, str, int]
"""One file of a scan: (absolute path, path relative to the scan root, max_file_bytes)."""
FileOutcome = tuple[ScannedFile, str]
"""The file analysed, and why it was skipped ("" when it was not)."""


class FileRunner(Protocol):
    """Runs `scan_file` over a scan's files somewhere (this process, a pool, a cluster), yielding in order."""

    def __call__(self, settings: Settings, root: Path, jobs: list[FileJob]) -> Iterable[FileOutcome]: ...


class ScanProgress(Protocol):
    """Told how many files a scan has, then about each one done."""

    def start(self, total: int) -> None: ...

    def advance(self, path: str) -> None: ...


def scan_file(analyzer: Analyzer, job: FileJob) -> FileOutcome:
    """Read, parse and analyze one file (a notebook: its code cells); never raises."""
    path_str, rel, max_bytes = job
    try:
        text = read_source(Path(path_str), max_bytes)
    except SourceError as exc:
        return ScannedFile(rel, []), str(exc)
    notebook = None
    if rel.endswith(NOTEBOOK_SUFFIX):
        try:
            notebook = read_notebook(text)
        except ValueError as exc:
            return ScannedFile(rel, []), str(exc)
        text = notebook.text
    try:
        started = time.perf_counter()
        doc = (_held_document(analyzer, path_str, text, rel) if notebook is None else None) \
            or ParsedDocument(text, path=rel)
        if doc.unparsed:
            return ScannedFile(rel, []), doc.unparsed
        parsed = time.perf_counter()
        findings = analyzer.analyze(doc, rel)
        if notebook is not None:
            findings = [notebook.relabel(f) for f in findings]
        analysed = time.perf_counter()
        stages = {"parse": parsed - started, "analysis": analysed - parsed}
        settings = analyzer.settings
        inputs = model_job(doc, findings, rel, settings) if settings.model_enabled and notebook is None \
            and (findings or settings.model_function_level) else None
        if inputs is not None:  # in the worker, beside the rules: the scan's own process only scores
            stages["candidates"] = time.perf_counter() - analysed
    except Exception as exc:  # a file never stops the scan
        log.exception("analysis failed on %s", rel)
        return ScannedFile(rel, []), f"analysis failed: {exc}"
    kept = text if findings or notebook is not None else ""
    return ScannedFile(rel, findings, kept, text.count("\n") + 1, notebook, stages, inputs), ""


def _held_document(analyzer: Analyzer, path: str, text: str, rel: str) -> ParsedDocument | None:
    """The project's parse of a file that an import already read with this text, as the document `rel`."""
    project = analyzer.project
    if not isinstance(project, Project):
        return None
    held = project.parsed(path, text.encode("utf-8", errors="surrogatepass"))
    if held is None:
        return None
    doc = held.snapshot()
    doc.path = rel
    return doc


_WORKER_ANALYZER: Analyzer | None = None


def _init_worker(settings: Settings, root: Path | None = None) -> None:
    global _WORKER_ANALYZER  # one Analyzer per worker process, built once
    _WORKER_ANALYZER = scan_analyzer(settings, root)


def scan_analyzer(settings: Settings, root: Path | None) -> Analyzer:
    """The Analyzer of a batch scan of `root`, with its cross-file project symbol table."""
    return Analyzer(settings, project=project_for_scan(root) if root is not None else None)


def _scan_one(job: FileJob) -> FileOutcome:
    assert _WORKER_ANALYZER is not None
    return scan_file(_WORKER_ANALYZER, job)


@dataclass
class LocalRunner:
    """Files on a process pool of `workers` (default: all cores), or in this process for small scans."""

    workers: int | None = None

    def __call__(self, settings: Settings, root: Path, jobs: list[FileJob]) -> Iterator[FileOutcome]:
        """Outcomes in job order, as they complete."""
        workers = self.workers or os.cpu_count() or 1
        if workers > 1 and len(jobs) > 8:
            with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(settings, root)) as pool:
                yield from pool.map(_scan_one, jobs, chunksize=max(1, len(jobs) // (workers * 8)))
            return
        analyzer = scan_analyzer(settings, root)
        for job in jobs:
            yield scan_file(analyzer, job)


def scan_path(
    root: Path,
    settings: Settings,
    workers: int | None = None,
    progress: ScanProgress | None = None,
    scorer: Scorer | None = None,
    runner: FileRunner | None = None,
    score_store: ScoreStore | None = None,
) -> ScanResult:
    """Analyze every Python file and notebook under `root`; `workers` > 1 uses a process pool (default: all
    cores), `runner` runs the files elsewhere (e.g. a Ray cluster).

    Workers run the rules; when `settings.model_enabled`, this process then scores the findings with
    `scorer` (default: the workspace's model, loaded on a thread while the rules run, and only when some
    candidate is not in the score cache; rules alone if it cannot be loaded). Scores are cached in
    `score_store` (default: the user's on-disk cache when the scan loads the model itself).
    """
    started = time.perf_counter()
    root = root.resolve()
    result = ScanResult(root=str(root))
    python_files = [] if root.is_file() and is_template(root.name) else \
        iter_python_files(root, settings.exclude, SCAN_SUFFIXES,  # a template named on the command line is not Python
                          on_unreadable=lambda rel, reason: _skip_folder(result, rel, reason))
    jobs = [(str(p), relative(p, root), settings.max_file_bytes) for p in python_files]
    model = _model_for_scan(root, settings, scorer, score_store) if settings.model_enabled else None
    prepared: dict[int, tuple[list[Finding], tuple[ModelJob, str]]] = {}
    if progress:
        progress.start(len(jobs))
    for scanned, error in (runner or LocalRunner(workers))(settings, root, jobs):
        if progress:
            progress.advance(scanned.path)
        if error:
            log.warning("skipped %s: %s", scanned.path, error)
            result.skipped.append((scanned.path, error))
            continue
        result.files.append(scanned)
        if model is not None and (scanned.findings or settings.model_function_level):
            job = _model_job(scanned, root, settings)
            if job is not None:
                prepared[id(scanned)] = (list(scanned.findings), job)
                if isinstance(model, CachedScorer):  # a first miss starts the model's load while the rules run
                    model.prefetch([*job[0].rules, *job[0].functions])
    kept = {id(f) for f in settle_tiers(result.findings)}  # a flow from another file hides a helper's review
    for scanned in result.files:
        scanned.findings = [f for f in scanned.findings if id(f) in kept]
    if model is not None:
        model_started = time.perf_counter()
        model_jobs: list[tuple[ScannedFile, ModelJob, str]] = []
        for scanned in result.files:
            if not (scanned.findings or settings.model_function_level):
                continue
            early = prepared.get(id(scanned))
            unchanged = early is not None and early[0] == scanned.findings
            job = early[1] if early is not None and unchanged else _model_job(scanned, root, settings)
            if job is not None:
                model_jobs.append((scanned, *job))
        if model_jobs:
            _score_with_model(model_jobs, settings, model, workers)
        result.stage_seconds["model"] = time.perf_counter() - model_started
    _add_template_findings(result, root, settings, [Path(job[0]) for job in jobs if job[0].endswith(PYTHON_SUFFIXES)])
    result.seconds = time.perf_counter() - started
    return result


def _skip_folder(result: ScanResult, rel: str, reason: str) -> None:
    log.warning("skipped %s: %s", rel, reason)
    result.skipped.append((rel, reason))


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
    found = project_template_findings(folder_of(root), templates, python_files,
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
                scanned.text = read_source(file_in(root, rel), settings.max_file_bytes)
        scanned.findings = sort_findings([*scanned.findings, *kept])


def _model_for_scan(root: Path, settings: Settings, scorer: Scorer | None, store: ScoreStore | None) -> Scorer | None:
    """The scan's scorer: `scorer`, or the workspace's model loading in the background; behind the score cache."""
    if scorer is None:
        from ai_core.model.predictor import calibration_for, model_identity
        from ai_core.model.quantize import recorded_choice

        workspace = folder_of(root)
        try:
            adapter = AdapterRegistry.for_workspace(workspace, settings.adapter_registry).resolve(settings.adapter)
            variant = settings.model_variant
            if variant == "auto":  # this machine's recorded choice: what will run, so the cache and calibration match
                variant = str((recorded_choice(adapter) or {}).get("variant", "auto"))
            identity = model_identity(adapter, variant)
        except (AdapterError, OSError) as exc:
            log.warning("model unavailable (%s); reporting rule findings only", exc)
            return None

        def load() -> Scorer:
            from ai_core.model.predictor import load_scorer

            return load_scorer(settings, workspace, variant="" if variant == "auto" else variant,
                               adapter=adapter.version)

        scorer = BackgroundScorer(load, identity, calibration_for(adapter, variant))
        store = store or DiskScores(score_cache_path())
    identity = getattr(scorer, "identity", "")
    return CachedScorer(scorer, store, identity) if store is not None and identity else scorer


def _model_job(scanned: ScannedFile, root: Path, settings: Settings) -> tuple[ModelJob, str] | None:
    """What the model reads in one scanned file (the worker's when it built one), and its text (re-read when the
    worker did not send it)."""
    text = scanned.text
    if scanned.model_job is not None and list(scanned.model_job.findings) == scanned.findings:
        return scanned.model_job, text
    if not text:
        try:
            text = read_source(file_in(root, scanned.path), settings.max_file_bytes)
        except SourceError:
            return None
    return model_job(ParsedDocument(text, path=scanned.path), scanned.findings, scanned.path, settings), text


def _score_with_model(jobs: list[tuple[ScannedFile, ModelJob, str]], settings: Settings, scorer: Scorer,
                      workers: int | None = None) -> None:
    """The model step of a scan: the Reviewer scores every file's candidates together, in this process, on as
    many torch threads as the scan had workers (the rules are done; the editor's server keeps one thread)."""
    inner = scorer.scorer if isinstance(scorer, CachedScorer) else scorer
    if isinstance(inner, BackgroundScorer) and inner.started:
        try:
            inner.loaded()
        except Exception as exc:  # no adapter, no torch, unreadable weights: the rules still stand
            log.warning("model unavailable (%s); reporting rule findings only", exc)
            return
        from ai_core.model.minilm import set_threads

        set_threads(default=workers or 0)  # CODEREV_THREADS still wins; 0: the machine's cores, at most 4
    scored = Reviewer(settings, scorer=scorer).score_jobs([job for _, job, _ in jobs])
    for (scanned, _, text), findings in zip(jobs, scored, strict=True):
        scanned.findings = findings
        if findings and not scanned.text:
            scanned.text = text

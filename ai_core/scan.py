"""Scanning a folder or file: find Python files, read them safely, analyze them on a process pool."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ai_core.analysis import Analyzer
from ai_core.analysis.project import project_for_scan
from ai_core.config import Settings
from ai_core.files import SourceError, iter_python_files, read_source, relative
from ai_core.findings import Finding
from ai_core.model.adapters import AdapterError, AdapterRegistry
from ai_core.model.calibration import of_manifest
from ai_core.model.review import Reviewer
from ai_core.model.score_cache import BackgroundScorer, CachedScorer, DiskScores, ScoreStore, score_cache_path
from ai_core.model.scoring import ModelJob, Scorer, model_job
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
    score_store: ScoreStore | None = None,
) -> ScanResult:
    """Analyze every Python file under `root`; `workers` > 1 uses a process pool (default: all cores).

    Workers run the rules; when `settings.model_enabled`, this process then scores the findings with
    `scorer` (default: the workspace's model, loaded on a thread while the rules run, and only when some
    candidate is not in the score cache; rules alone if it cannot be loaded). Scores are cached in
    `score_store` (default: the user's on-disk cache when the scan loads the model itself).
    """
    started = time.perf_counter()
    root = root.resolve()
    result = ScanResult(root=str(root))
    jobs = [(str(p), relative(p, root), settings.max_file_bytes) for p in iter_python_files(root, settings.exclude)]
    workers = workers or os.cpu_count() or 1
    model = _model_for_scan(root, settings, scorer, score_store) if settings.model_enabled else None
    model_jobs: list[tuple[ScannedFile, ModelJob, str]] = []

    def collect(outcome: tuple[str, list[Finding], str, int, str]) -> None:
        rel, findings, text, lines, error = outcome
        if error:
            log.warning("skipped %s: %s", rel, error)
            result.skipped.append((rel, error))
            return
        scanned = ScannedFile(rel, findings, text, lines)
        result.files.append(scanned)
        if model is not None and (findings or settings.model_function_level):
            prepared = _model_job(scanned, root, settings)
            if prepared is not None:
                model_jobs.append((scanned, *prepared))
                if isinstance(model, CachedScorer):
                    model.prefetch([*prepared[0].rules, *prepared[0].functions])  # a first miss starts the load

    if workers > 1 and len(jobs) > 8:
        with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(settings, root)) as pool:
            # map submits every job (forking all workers) before the first result: a load thread starts after
            for outcome in pool.map(_scan_one, jobs, chunksize=max(1, len(jobs) // (workers * 8))):
                collect(outcome)
    else:
        _init_worker(settings, root)
        for job in jobs:
            collect(_scan_one(job))
            if on_file:
                on_file(job[1])
    if model is not None and model_jobs:
        _score_with_model(model_jobs, settings, model)
    result.seconds = time.perf_counter() - started
    return result


def _model_for_scan(root: Path, settings: Settings, scorer: Scorer | None, store: ScoreStore | None) -> Scorer | None:
    """The scan's scorer: `scorer`, or the workspace's model loading in the background; behind the score cache."""
    if scorer is None:
        from ai_core.model.predictor import model_identity

        workspace = root if root.is_dir() else root.parent
        try:
            adapter = AdapterRegistry.for_workspace(workspace, settings.adapter_registry).resolve(settings.adapter)
            identity = model_identity(adapter, settings.model_variant)
        except (AdapterError, OSError) as exc:
            log.warning("model unavailable (%s); reporting rule findings only", exc)
            return None

        def load() -> Scorer:
            from ai_core.model.predictor import load_scorer

            return load_scorer(settings, workspace, adapter=adapter.version)

        calibration = of_manifest(adapter.manifest)
        scorer, store = BackgroundScorer(load, identity, calibration), store or DiskScores(score_cache_path())
    identity = getattr(scorer, "identity", "")
    return CachedScorer(scorer, store, identity) if store is not None and identity else scorer


def _model_job(scanned: ScannedFile, root: Path, settings: Settings) -> tuple[ModelJob, str] | None:
    """What the model reads in one scanned file, and its text (re-read when the worker did not send it)."""
    text = scanned.text
    if not text:
        try:
            text = read_source(root / scanned.path if root.is_dir() else root, settings.max_file_bytes)
        except SourceError:
            return None
    return model_job(ParsedDocument(text, path=scanned.path), scanned.findings, scanned.path, settings), text


def _score_with_model(jobs: list[tuple[ScannedFile, ModelJob, str]], settings: Settings, scorer: Scorer) -> None:
    """The model step of a scan: the Reviewer scores every file's candidates together, in this process."""
    inner = scorer.scorer if isinstance(scorer, CachedScorer) else scorer
    if isinstance(inner, BackgroundScorer) and inner.started:
        try:
            inner.loaded()
        except Exception as exc:  # no adapter, no torch, unreadable weights: the rules still stand
            log.warning("model unavailable (%s); reporting rule findings only", exc)
            return
    scored = Reviewer(settings, scorer=scorer).score_jobs([job for _, job, _ in jobs])
    for (scanned, _, text), findings in zip(jobs, scored, strict=True):
        scanned.findings = findings
        if findings and not scanned.text:
            scanned.text = text

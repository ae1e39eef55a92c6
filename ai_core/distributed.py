"""Scans on a Ray cluster: the per-file work of `scan_path` as Ray tasks, and scans over many repositories.

Every Ray worker first builds the project symbol table of the repository being scanned (once per
repository), then the repository's files are fanned out to the workers in batches; each file goes through
`scan_file`, the very function the local process pool runs, so the results are identical to a local scan.
The model step stays in the driver, as in a local scan. The nodes need coderev installed and the
repositories at the same paths (a shared or synced filesystem).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ai_core.analysis import Analyzer
from ai_core.analysis.candidates import Scorer
from ai_core.config import Settings
from ai_core.findings import Finding, TaintPath
from ai_core.scan import (
    FileJob,
    FileOutcome,
    FileRunner,
    ScannedFile,
    ScanProgress,
    ScanResult,
    scan_analyzer,
    scan_file,
    scan_path,
)

log = logging.getLogger(__name__)

LOCAL = "local"
"""The address that starts a Ray instance in this process (for a laptop, a CI runner, the tests)."""
BATCH_FILES = 16


class DistributedError(Exception):
    """Ray is not installed, or the cluster cannot be reached."""


class ScanWorker:
    """A Ray actor: the Analyzer of each repository it was prepared for, and scanning batches of files."""

    def __init__(self) -> None:
        self.analyzers: dict[str, Analyzer] = {}

    def prepare(self, settings: Settings, root: str) -> int:
        """Build the repository's Analyzer and project symbol table; returns its file count."""
        analyzer = scan_analyzer(settings, Path(root))
        self.analyzers[root] = analyzer
        project = analyzer.project
        return len(project.files()) if project is not None and hasattr(project, "files") else 0

    def scan(self, root: str, jobs: list[FileJob]) -> list[FileOutcome]:
        """`scan_file` over a batch of the repository's files."""
        analyzer = self.analyzers[root]
        return [scan_file(analyzer, job) for job in jobs]


@dataclass
class RayRunner:
    """A `FileRunner` on Ray: `address` of a running cluster ("auto", "ray://host:10001", "host:6379"), or
    "local" to start one here; `workers` actors (default: one per CPU of the cluster)."""

    address: str
    workers: int | None = None
    batch_files: int = BATCH_FILES
    _actors: list[Any] = field(default_factory=list, init=False, repr=False)
    _started: bool = field(default=False, init=False, repr=False)

    def connect(self) -> None:
        """Join the cluster (or start the local one); a no-op when Ray is already initialised here."""
        try:
            import ray
        except ImportError as exc:
            raise DistributedError("scans on Ray need Ray installed: pip install 'coderev[ray]'") from exc
        if ray.is_initialized():
            return
        quiet: dict[str, Any] = {"include_dashboard": False, "logging_level": logging.WARNING,
                                 "log_to_driver": False, "configure_logging": False}
        try:
            if self.address == LOCAL:
                ray.init(num_cpus=self.workers or os.cpu_count() or 1, **quiet)
            else:
                ray.init(address=self.address, **quiet)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise DistributedError(f"cannot reach the Ray cluster at {self.address}: {exc}") from exc
        self._started = True

    def actors(self) -> list[Any]:
        """The scan workers, started once and reused for every repository."""
        if not self._actors:
            import ray

            self.connect()
            count = self.workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
            actor_class = ray.remote(num_cpus=1)(ScanWorker)
            self._actors = [actor_class.remote() for _ in range(count)]
            log.info("scanning on Ray with %d workers", count)
        return self._actors

    def __call__(self, settings: Settings, root: Path, jobs: list[FileJob]) -> Iterator[FileOutcome]:
        """Outcomes in job order: every worker prepares `root` first, then batches fan out."""
        import ray
        from ray.util import ActorPool

        actors = self.actors()
        ray.get([actor.prepare.remote(settings, str(root)) for actor in actors])
        batches = [jobs[at: at + self.batch_files] for at in range(0, len(jobs), self.batch_files)]
        pool = ActorPool(actors)
        for outcomes in pool.map(lambda actor, batch: actor.scan.remote(str(root), batch), batches):
            yield from outcomes

    def close(self) -> None:
        """Stop the workers, and Ray itself if this runner started it."""
        if not self._actors and not self._started:
            return
        import ray

        for actor in self._actors:
            ray.kill(actor)
        self._actors = []
        if self._started:
            ray.shutdown()
            self._started = False


def scan_paths(
    roots: Sequence[Path],
    settings: Settings,
    workers: int | None = None,
    progress: ScanProgress | None = None,
    scorer: Scorer | None = None,
    runner: FileRunner | None = None,
) -> ScanResult:
    """`scan_path` over one or several folders (repositories), merged into one result; with several, paths
    are relative to their common parent."""
    results = [scan_path(root, settings, workers, progress, scorer, runner) for root in roots]
    if len(results) == 1:
        return results[0]
    return merge_results(results)


def merge_results(results: Iterable[ScanResult]) -> ScanResult:
    """Several scans as one, rooted at their common parent folder (paths re-based onto it)."""
    results = list(results)
    bases = [Path(r.root) if Path(r.root).is_dir() else Path(r.root).parent for r in results]
    common = Path(os.path.commonpath([str(b) for b in bases]))
    merged = ScanResult(root=str(common))
    for result, base in zip(results, bases, strict=True):
        prefix = base.relative_to(common).as_posix()
        merged.files.extend(_rebased(scanned, prefix) for scanned in result.files)
        merged.skipped.extend((_join(prefix, path), reason) for path, reason in result.skipped)
        merged.seconds += result.seconds
        for stage, seconds in result.stage_seconds.items():
            merged.stage_seconds[stage] = merged.stage_seconds.get(stage, 0.0) + seconds
    return merged


def _join(prefix: str, path: str) -> str:
    return f"{prefix}/{path}" if prefix and prefix != "." else path


def _rebased(scanned: ScannedFile, prefix: str) -> ScannedFile:
    return replace(scanned, path=_join(prefix, scanned.path),
                   findings=[_rebased_finding(f, prefix) for f in scanned.findings])


def _rebased_finding(finding: Finding, prefix: str) -> Finding:
    taint = finding.taint_path
    if taint is not None:
        taint = TaintPath(tuple(replace(step, path=_join(prefix, step.path)) for step in taint.steps))
    return replace(finding, path=_join(prefix, finding.path), taint_path=taint)

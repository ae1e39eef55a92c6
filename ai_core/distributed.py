"""Scans on a Ray cluster: the per-file work of `scan_path` as Ray tasks, and scans over many repositories.

Every Ray worker first builds the project symbol table of the repository being scanned (once per
repository), then the repository's files are fanned out to the workers in batches; each file goes through
`scan_file`, the very function the local process pool runs, so the results are identical to a local scan.
The model step stays in the driver, as in a local scan. The nodes need coderev installed; the
repositories are either at the same paths on every node (a shared filesystem, and the "local" cluster), or
shipped: packed once per repository into Ray's object store and unpacked by each worker.
"""

from __future__ import annotations

import io
import logging
import os
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ai_core.analysis import Analyzer
from ai_core.config import Settings
from ai_core.files import folder_of, iter_python_files
from ai_core.findings import Finding, TaintPath
from ai_core.model.scoring import Scorer
from ai_core.scan import (
    SCAN_SUFFIXES,
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
    """A Ray actor: the Analyzer of each repository it was prepared for, and scanning batches of files.

    A repository that came as an archive is unpacked in a folder of the worker, and read from there."""

    def __init__(self) -> None:
        self.analyzers: dict[str, Analyzer] = {}
        self.folders: dict[str, tempfile.TemporaryDirectory[str]] = {}

    def prepare(self, settings: Settings, root: str, archive: bytes | None = None, file_name: str = "") -> int:
        """Build the repository's Analyzer and project symbol table; returns its file count. `archive` is
        the repository's folder packed (`file_name` set when the scan is of that one file in it)."""
        base = Path(root)
        if archive is not None:
            folder = self.folders[root] = tempfile.TemporaryDirectory(prefix="coderev-scan-")
            with zipfile.ZipFile(io.BytesIO(archive)) as packed:
                packed.extractall(folder.name)
            base = Path(folder.name) / file_name if file_name else Path(folder.name)
        analyzer = scan_analyzer(settings, base)
        self.analyzers[root] = analyzer
        project = analyzer.project
        return len(project.files()) if project is not None and hasattr(project, "files") else 0

    def scan(self, root: str, jobs: list[FileJob]) -> list[FileOutcome]:
        """`scan_file` over a batch of the repository's files."""
        analyzer = self.analyzers[root]
        folder = self.folders.get(root)
        if folder is not None:  # relative paths are relative to the packed folder (or name the file in it)
            jobs = [(str(Path(folder.name) / rel), rel, max_bytes) for _, rel, max_bytes in jobs]
        return [scan_file(analyzer, job) for job in jobs]

    def forget(self, root: str) -> None:
        """Drop a scanned repository: its Analyzer, and its unpacked copy."""
        self.analyzers.pop(root, None)
        folder = self.folders.pop(root, None)
        if folder is not None:
            folder.cleanup()


def pack_sources(root: Path) -> bytes:
    """A zip of the Python files and notebooks under `root` (or of `root` itself), paths relative to its
    folder; what a worker needs to scan it and build its project symbol table."""
    folder = folder_of(root)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as packed:
        for path in iter_python_files(folder, (), SCAN_SUFFIXES):
            packed.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


@dataclass
class RayRunner:
    """A `FileRunner` on Ray: `address` of a running cluster ("auto", "ray://host:10001", "host:6379"), or
    "local" to start one here; `workers` actors (default: one per CPU of the cluster).

    `ship_sources` sends each repository to the workers through Ray's object store, for clusters that do
    not see this machine's files; by default it does so for any address but "local"."""

    address: str
    workers: int | None = None
    batch_files: int = BATCH_FILES
    ship_sources: bool | None = None
    _actors: list[Any] = field(default_factory=list, init=False, repr=False)
    _started: bool = field(default=False, init=False, repr=False)

    @property
    def ships(self) -> bool:
        """Whether repositories travel to the workers."""
        return self.ship_sources if self.ship_sources is not None else self.address != LOCAL

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
            log.info("scanning on Ray with %d workers%s", count, " (sources shipped)" if self.ships else "")
        return self._actors

    def __call__(self, settings: Settings, root: Path, jobs: list[FileJob]) -> Iterator[FileOutcome]:
        """Outcomes in job order: every worker prepares `root` first, then batches fan out."""
        import ray
        from ray.util import ActorPool

        actors = self.actors()
        archive = ray.put(pack_sources(root)) if self.ships else None
        file_name = root.name if root.is_file() else ""
        ray.get([actor.prepare.remote(settings, str(root), archive, file_name) for actor in actors])
        del archive  # the workers have unpacked it
        batches = [jobs[at: at + self.batch_files] for at in range(0, len(jobs), self.batch_files)]
        pool = ActorPool(actors)
        for outcomes in pool.map(lambda actor, batch: actor.scan.remote(str(root), batch), batches):
            yield from outcomes
        ray.get([actor.forget.remote(str(root)) for actor in actors])

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
    bases = [folder_of(Path(r.root)) for r in results]
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

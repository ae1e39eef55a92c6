"""Exports each pinned project (projects.toml) from its local git mirror into bench/.cache/realworld/<name>/.

Nothing of the projects is committed: the mirror is a bare git directory brought by the search tool's fetch
(/work/.mirror/<owner>+<name>/repo); a project whose mirror or commit is missing is skipped with a line saying so.

Run: `.venv/bin/python bench/realworld/fetch.py [--force]`.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import shutil
import subprocess
import tarfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
PROJECTS_TOML = HERE / "projects.toml"
CACHE = ROOT / "bench" / ".cache" / "realworld"
MIRRORS = Path(os.environ.get("CODEREV_MIRRORS", "/work/.mirror"))


@dataclass(frozen=True)
class Project:
    """One pinned project: where it comes from and which folders of it are scanned."""

    name: str
    repo: str
    commit: str
    subdirs: tuple[str, ...]
    kind: str = ""
    advisories: tuple[str, ...] = ()

    @property
    def mirror(self) -> Path:
        """The bare git directory of the project's mirror."""
        return mirror_of(self.repo)

    @property
    def folder(self) -> Path:
        """Where the pinned commit is exported."""
        return CACHE / self.name


def mirror_of(repo: str) -> Path:
    """The bare git directory fetch leaves for owner/name."""
    return MIRRORS / repo.replace("/", "+") / "repo"


def load_projects(path: Path = PROJECTS_TOML) -> list[Project]:
    """The projects listed in projects.toml, in file order."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    projects = []
    for row in data["project"]:
        subdir = row.get("subdir", "")
        subdirs = tuple(subdir) if isinstance(subdir, list) else (subdir,) if subdir else ()
        projects.append(Project(name=row["name"], repo=row["repo"], commit=row["commit"], subdirs=subdirs,
                                kind=row.get("kind", ""), advisories=tuple(row.get("advisories", ()))))
    return projects


def semgrep_rules_pin(path: Path = PROJECTS_TOML) -> tuple[str, str, str]:
    """(repo, commit, folder) of the semgrep-rules checkout whose rule files make the local rules folder."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))["semgrep_rules"]
    return data["repo"], data["commit"], data["folder"]


def git_archive(mirror: Path, commit: str, paths: tuple[str, ...]) -> bytes | None:
    """The tar of paths at commit in mirror, or None when the mirror or the commit is not there."""
    if not mirror.is_dir():
        return None
    run = subprocess.run(["git", "--git-dir", str(mirror), "archive", "--format=tar", commit, *paths],
                         capture_output=True, check=False)
    if run.returncode != 0:
        logger.warning("git archive %s %s failed: %s", mirror, commit, run.stderr.decode(errors="replace")[:300])
        return None
    return run.stdout


def extract(tar_bytes: bytes, dest: Path) -> None:
    """Unpack a git archive into dest (regular files and folders only)."""
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tar:
        tar.extractall(dest, filter="data")


def export(project: Project, force: bool = False) -> Path | None:
    """The folder holding project's pinned commit, exporting it first if needed; None when it is not available."""
    stamp = project.folder / ".pinned"
    if not force and stamp.is_file() and stamp.read_text().strip() == f"{project.commit} {' '.join(project.subdirs)}":
        return project.folder
    tar_bytes = git_archive(project.mirror, project.commit, project.subdirs)
    if tar_bytes is None:
        return None
    shutil.rmtree(project.folder, ignore_errors=True)
    project.folder.mkdir(parents=True)
    extract(tar_bytes, project.folder)
    stamp.write_text(f"{project.commit} {' '.join(project.subdirs)}\n")
    return project.folder


def export_semgrep_rules(force: bool = False) -> Path | None:
    """bench/.cache/semgrep-rules: only the rule .yaml files of semgrep-rules' python folder (never its tests)."""
    repo, commit, folder = semgrep_rules_pin()
    dest = CACHE.parent / "semgrep-rules"
    if not force and (dest / ".pinned").is_file() and (dest / ".pinned").read_text().strip() == commit:
        return dest
    tar_bytes = git_archive(mirror_of(repo), commit, (folder,))
    if tar_bytes is None:
        return None
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tar:
        for member in tar.getmembers():
            name = member.name
            if not member.isfile() or not name.endswith((".yaml", ".yml")) or ".test." in name:
                continue
            source = tar.extractfile(member)
            if source is None:
                continue
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read())
    (dest / ".pinned").write_text(f"{commit}\n")
    return dest


def main() -> None:
    """Export every project and the semgrep rules; one line each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="export again even when the cache is current")
    args = parser.parse_args()
    for project in load_projects():
        folder = export(project, force=args.force)
        if folder is None:
            print(f"{project.name}: {project.repo}@{project.commit[:12]} not available, skipped")
        else:
            print(f"{project.name}: {project.repo}@{project.commit[:12]} -> {folder}")
    rules = export_semgrep_rules(force=args.force)
    print(f"semgrep rules: {rules if rules else 'not available, semgrep skipped'}")


if __name__ == "__main__":
    main()

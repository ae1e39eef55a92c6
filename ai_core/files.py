"""The project's Python files: which folders are skipped, how files are found, and how one is read safely."""

from __future__ import annotations

import fnmatch
import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path, PurePosixPath

SKIPPED_DIRS = frozenset({
    ".git", ".hg", ".svn",  # version control
    ".venv", "venv", ".tox", "node_modules",  # installed dependencies
    "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".ipynb_checkpoints",  # caches
    ".coderev",  # our own index, journal and feedback
    "build", "dist",  # build output (copies of the sources)
})
"""Folders never searched for sources, indexed, nor copied for test runs; `*.egg-info` folders too."""

BINARY_PROBE_BYTES = 8192
_LONE_CR = re.compile(r"\r(?!\n)")


class SourceError(Exception):
    """A file that cannot be analysed (not a regular file, unreadable, binary, not UTF-8, too large)."""

PYTHON_SUFFIXES = (".py", ".pyi")
"""What a Python file ends with."""


def is_skipped_dir(name: str) -> bool:
    """True for a folder name that is never searched (SKIPPED_DIRS or `*.egg-info`)."""
    return name in SKIPPED_DIRS or name.endswith(".egg-info")


def relative(path: Path, root: Path) -> str:
    """`path` relative to `root` with forward slashes (the file name when root is the file)."""
    if root.is_file():
        return path.name
    return path.relative_to(root).as_posix()


def folder_of(root: Path) -> Path:
    """The folder a scan root stands for: itself, or the folder of a single file."""
    return root if root.is_dir() else root.parent


def file_in(root: Path, rel: str) -> Path:
    """The file a path relative to the scan root names (`relative`'s inverse: the root itself when it is a file)."""
    return root / rel if root.is_dir() else root


def is_excluded(rel: str, patterns: tuple[str, ...]) -> bool:
    """True when a relative path matches one of the exclude globs (`**` crosses folders)."""
    return any(fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(rel, pattern.replace("**/", ""))
               for pattern in patterns)


TEMPLATE_SUFFIXES = (".html", ".htm", ".jinja", ".jinja2", ".j2")
"""Files read as Jinja2/Django templates (ai_core/analysis/templates)."""


def is_template(path: str) -> bool:
    """True for a file coderev reads as a Jinja2/Django template, not as Python."""
    return path.endswith(TEMPLATE_SUFFIXES)


UnreadableFolder = Callable[[str, str], None]
"""Told about a folder the walk could not list: its path relative to the root ("." for the root) and why."""


def iter_python_files(root: Path, exclude: tuple[str, ...] = (), suffixes: tuple[str, ...] = PYTHON_SUFFIXES,
                      on_unreadable: UnreadableFolder | None = None) -> Iterator[Path]:
    """Python files (or other `suffixes`) under `root` (or `root` itself), sorted, skipping SKIPPED_DIRS and the
    `exclude` globs; a folder that cannot be listed goes to `on_unreadable`."""
    return iter_files(root, suffixes, exclude, on_unreadable)


def iter_template_files(root: Path, exclude: tuple[str, ...] = ()) -> Iterator[Path]:
    """Template files under `root` (or `root` itself when it is one), sorted, with the same skips."""
    if root.is_file() and not is_template(root.name):
        return iter(())
    return iter_files(root, TEMPLATE_SUFFIXES, exclude)


def iter_files(root: Path, suffixes: tuple[str, ...], exclude: tuple[str, ...] = (),
               on_unreadable: UnreadableFolder | None = None) -> Iterator[Path]:
    """Files under `root` (or `root` itself) ending with `suffixes`, sorted, skipping SKIPPED_DIRS and `exclude`;
    a folder that cannot be listed goes to `on_unreadable` (unless excluded)."""
    if root.is_file():
        yield root
        return

    def unreadable(exc: OSError) -> None:
        folder = Path(exc.filename) if exc.filename else root
        rel = folder.relative_to(root).as_posix() if folder.is_relative_to(root) else str(folder)
        if on_unreadable is not None and not (is_excluded(rel, exclude) or is_excluded(rel + "/", exclude)):
            on_unreadable(rel, f"unreadable folder: {exc.strerror or exc}")

    for folder, dirs, files in os.walk(root, onerror=unreadable):
        dirs[:] = sorted(d for d in dirs if not is_skipped_dir(d))
        for name in sorted(files):
            if name.endswith(suffixes):
                path = Path(folder) / name
                if not is_excluded(relative(path, root), exclude):
                    yield path


def read_source(path: Path, max_bytes: int) -> str:
    """The text of a regular file of at most `max_bytes`, lone-CR line ends read as Python reads them.

    Raises SourceError for FIFOs, devices (also behind symlinks), unreadable, oversized, binary or non-UTF-8 files.
    """
    data = read_head(path, max_bytes + 1)  # one byte more tells an oversized file, however it grows meanwhile
    if len(data) > max_bytes:
        raise SourceError(f"larger than {max_bytes} bytes")
    if b"\0" in data[:BINARY_PROBE_BYTES]:
        raise SourceError("binary file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(f"not valid UTF-8 (byte {exc.start})") from exc
    # Python ends a line at \r, \n or \r\n; tree-sitter only at \n. \r -> \n keeps every byte offset.
    return _LONE_CR.sub("\n", text) if "\r" in text else text


def read_head(path: Path, limit: int) -> bytes:
    """The first `limit` bytes of a regular file; SourceError for anything else (never blocks on a FIFO)."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # before opening: opening some devices acts
            raise SourceError("not a regular file")
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
        with open(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):  # replaced since the stat
                raise SourceError("not a regular file")
            return handle.read(limit)
    except OSError as exc:
        raise SourceError(f"unreadable: {exc.strerror or exc}") from exc


TEST_DIRS = frozenset({"tests", "test", "testing"})
"""Folders whose files are test code."""


MIGRATION_MARKERS = (b"migrations.Migration", b"from alembic import op")
"""Text a Django or Alembic migration module contains."""


def is_migration(path: str, data: bytes) -> bool:
    """True for a Django or Alembic migration: a module in a migrations/ (or versions/) folder that declares one."""
    parts = PurePosixPath(path.replace("\\", "/")).parts[:-1]
    return bool({"migrations", "versions"} & set(parts)) and any(marker in data for marker in MIGRATION_MARKERS)


def is_test_path(path: str, roots: Iterable[Path] = ()) -> bool:
    """True for test code: files under tests/ (relative to a root), test_*.py, *_test.py, conftest.py."""
    name = PurePosixPath(path.replace("\\", "/")).name
    if name == "conftest.py" or (name.startswith("test_") and name.endswith(".py")) or name.endswith("_test.py"):
        return True
    rel = path.replace("\\", "/")
    if PurePosixPath(rel).is_absolute():
        for root in roots:
            prefix = str(root).replace("\\", "/").rstrip("/") + "/"
            if rel.startswith(prefix):
                rel = rel[len(prefix):]
                break
        else:
            return False
    return any(part in TEST_DIRS for part in PurePosixPath(rel).parts[:-1])

"""Writing (and reading back) coderev's own files in a workspace without following a symlink out of it.

Every folder on the way is opened relative to its parent with O_NOFOLLOW|O_DIRECTORY (so no component can be a
symlink, and none can be swapped for one between a check and the write), files are opened with O_NOFOLLOW and
must be regular files, and the resolved parent is checked to lie inside the workspace once more. `.coderev/`
gets its own `.gitignore` ("*") when this module creates it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

STATE_DIR = ".coderev"
TEMP_SUFFIX = ".coderev-tmp"
"""Temp files this module creates end with this suffix (crash recovery removes those left behind)."""

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


class UnsafePath(OSError):
    """A write (or read) of coderev's own files refused: a symlink, a special file, or a path leaving the root."""


def _parts(rel: str | Path) -> tuple[str, ...]:
    parts = PurePosixPath(Path(rel).as_posix()).parts
    if not parts or Path(rel).is_absolute() or any(p in ("..", "", ".") for p in parts):
        raise UnsafePath(errno.EINVAL, f"not a plain relative path: {rel}")
    return parts


def _refuse(exc: OSError, root: Path, rel: str) -> UnsafePath:
    if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
        return UnsafePath(exc.errno, f"refusing {rel} in {root}: a symlink or not a folder on the way")
    return UnsafePath(exc.errno or errno.EIO, f"cannot open {rel} in {root}: {exc.strerror or exc}")


@contextlib.contextmanager
def open_dir(root: Path, rel: str | Path, create: bool = False) -> Iterator[int]:
    """A file descriptor of the folder `root/rel`, every component opened without following symlinks."""
    base = Path(root).resolve()
    fd = os.open(base, os.O_RDONLY | _DIRECTORY | _CLOEXEC)
    try:
        made_state_dir = False
        for index, part in enumerate(_parts(rel) if str(rel) not in ("", ".") else ()):
            try:
                child = os.open(part, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    raise
                with contextlib.suppress(FileExistsError):
                    os.mkdir(part, 0o755, dir_fd=fd)
                    made_state_dir = made_state_dir or (index == 0 and part == STATE_DIR)
                try:
                    child = os.open(part, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC, dir_fd=fd)
                except OSError as exc:
                    raise _refuse(exc, base, str(rel)) from exc
            except OSError as exc:
                raise _refuse(exc, base, str(rel)) from exc
            os.close(fd)
            fd = child
            if made_state_dir and index == 0:
                _write_gitignore(fd)
        real = Path(os.path.realpath(base / Path(rel)))
        if not real.is_relative_to(base):  # cannot happen with O_NOFOLLOW, checked all the same
            raise UnsafePath(errno.EXDEV, f"{rel} resolves outside {base}")
        yield fd
    finally:
        os.close(fd)


def _write_gitignore(dir_fd: int) -> None:
    with contextlib.suppress(FileExistsError):
        handle = os.open(".gitignore", os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, 0o644,
                         dir_fd=dir_fd)
        try:
            os.write(handle, b"# coderev's own files (journal, feedback, index): never committed\n*\n")
        finally:
            os.close(handle)


def ensure_dir(root: Path, rel: str | Path) -> Path:
    """Create `root/rel` (and `.coderev/.gitignore` with it) refusing symlinks on the way; return its path."""
    with open_dir(root, rel, create=True):
        pass
    return Path(root).resolve() / Path(rel)


def _split(rel: str | Path) -> tuple[str, str]:
    parts = _parts(rel)
    return "/".join(parts[:-1]), parts[-1]


def _check_regular(fd: int, root: Path, rel: str | Path) -> None:
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise UnsafePath(errno.EINVAL, f"refusing {rel} in {root}: not a regular file")


def open_append(root: Path, rel: str | Path) -> int:
    """A read-write fd appending to the regular file `root/rel` (created 0o644), never via a symlink or a FIFO."""
    folder, name = _split(rel)
    with open_dir(root, folder, create=True) as dir_fd:
        try:
            fd = os.open(name, os.O_RDWR | os.O_APPEND | os.O_CREAT | _NOFOLLOW | _NONBLOCK | _CLOEXEC, 0o644,
                         dir_fd=dir_fd)
        except OSError as exc:
            raise _refuse(exc, Path(root), str(rel)) from exc
    _check_regular(fd, root, rel)
    if os.fstat(fd).st_nlink > 1:  # a hard link shares its content with a file that may lie outside
        os.close(fd)
        raise UnsafePath(errno.EMLINK, f"refusing {rel} in {root}: it is a hard link to another file")
    return fd


def append_bytes(root: Path, rel: str | Path, data: bytes, sync: bool = True) -> None:
    """Append `data` to `root/rel` in one write (then fsync), refusing symlinks and special files."""
    fd = open_append(root, rel)
    try:
        written = os.write(fd, data)
        if written != len(data):
            raise OSError(errno.EIO, f"short write to {rel} ({written} of {len(data)} bytes)")
        if sync:
            os.fsync(fd)
    finally:
        os.close(fd)


def write_bytes(root: Path, rel: str | Path, data: bytes, mode: int | None = None, moment: str = "") -> None:
    """Replace `root/rel` atomically (temp file beside it, fsync, rename, fsync the folder), never via a symlink.

    The mode is kept when the file exists (0o644 otherwise); a symlink at the target is replaced by the file,
    its target left alone. `moment` names the instant before the rename for the crash tests (pause_if_asked).
    """
    folder, name = _split(rel)
    with open_dir(root, folder, create=True) as dir_fd:
        if mode is None:
            try:
                mode = stat.S_IMODE(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
            except FileNotFoundError:
                mode = 0o644
        tmp = f".{name}.{os.getpid()}-{secrets.token_hex(4)}{TEMP_SUFFIX}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, 0o600, dir_fd=dir_fd)
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                os.fchmod(fd, mode)
                os.fsync(fd)
            finally:
                os.close(fd)
            if moment:
                pause_if_asked(moment)
            os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=dir_fd)
            raise
        with contextlib.suppress(OSError):
            os.fsync(dir_fd)


def write_text(root: Path, rel: str | Path, text: str) -> None:
    """`write_bytes` of UTF-8 text (lone surrogates kept)."""
    write_bytes(root, rel, text.encode("utf-8", errors="surrogatepass"))


def read_bytes(root: Path, rel: str | Path, limit: int | None = None) -> bytes:
    """The content of the regular file `root/rel` (at most `limit` bytes), never through a symlink or a FIFO.

    FileNotFoundError when it does not exist; UnsafePath for a symlink or a special file.
    """
    folder, name = _split(rel)
    with open_dir(root, folder) as dir_fd:
        try:
            fd = os.open(name, os.O_RDONLY | _NOFOLLOW | _NONBLOCK | _CLOEXEC, dir_fd=dir_fd)
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise _refuse(exc, Path(root), str(rel)) from exc
    _check_regular(fd, root, rel)
    with open(fd, "rb") as handle:
        return handle.read() if limit is None else handle.read(limit)


def remove_temp_files(root: Path, rel: str | Path, older_than_s: float = 60.0) -> list[str]:
    """Delete the temp files this module left in the folder `root/rel` after a crash; their names.

    A temp file names the process that writes it: it is removed once that process is gone (one without a
    process id, from an older version, once older than `older_than_s`).
    """
    import time

    removed: list[str] = []
    try:
        with open_dir(root, rel) as dir_fd:
            for name in os.listdir(dir_fd):
                if not (name.startswith(".") and name.endswith(TEMP_SUFFIX)):
                    continue
                owner = _TEMP_OWNER.search(name)
                with contextlib.suppress(FileNotFoundError):
                    if owner is not None:
                        if _alive(int(owner.group(1))):
                            continue
                    elif time.time() - os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mtime < older_than_s:
                        continue
                    os.unlink(name, dir_fd=dir_fd)
                    removed.append(name)
    except (FileNotFoundError, UnsafePath):
        return removed
    return removed


_TEMP_OWNER = re.compile(r"\.(\d+)-[0-9a-f]{8}" + re.escape(TEMP_SUFFIX) + "$")


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def symlinks_under(folder: Path) -> list[Path]:
    """Every symlink below `folder` (not followed), for stores that a library writes into."""
    found: list[Path] = []
    for current, dirs, files in os.walk(folder, followlinks=False):
        for name in (*dirs, *files):
            path = Path(current) / name
            if path.is_symlink():
                found.append(path)
    return found


PAUSE_ENV = "CODEREV_TEST_PAUSE_AT"


def pause_if_asked(moment: str) -> None:
    """For the crash tests only: when $CODEREV_TEST_PAUSE_AT names this moment, say so on stderr and wait.

    The moments: "replace" (the first file's temp is written, not renamed yet), "between" (the first file is
    replaced, the second's temp is written) and "commit" (every file replaced, the journal entry not appended).
    Unset (always, outside the tests) this returns at once.
    """
    if os.environ.get(PAUSE_ENV) != moment:
        return
    import sys
    import time

    sys.stderr.write(f"coderev: paused at {moment}\n")
    sys.stderr.flush()
    time.sleep(60)  # the test kills the process here; this never returns in practice


__all__ = ["STATE_DIR", "TEMP_SUFFIX", "UnsafePath", "append_bytes", "ensure_dir", "open_append", "open_dir",
           "read_bytes", "remove_temp_files", "symlinks_under", "write_bytes", "write_text"]

"""`ruff` on in-memory text: error codes (cached), import sorting and formatting of changed lines."""

from __future__ import annotations

import difflib
import json
import shutil
import subprocess
import sys
import threading
from collections import Counter, OrderedDict
from pathlib import Path

from ai_core.fixes.text import sha256_text
from ai_core.fixes.verdict import VerificationError

RUFF_TIMEOUT_S = 30.0
CACHE_SIZE = 256


def _ruff_binary() -> str | None:
    try:
        from ruff.__main__ import find_ruff_bin

        return str(find_ruff_bin())
    except Exception:  # the python package is absent or has no binary: look on PATH
        candidate = Path(sys.executable).with_name("ruff")
        return str(candidate) if candidate.is_file() else shutil.which("ruff")


class Ruff:
    """`ruff check` on in-memory text via stdin, with the workspace's configuration."""

    def __init__(self, binary: str | None = None, timeout_s: float = RUFF_TIMEOUT_S) -> None:
        self.binary = binary or _ruff_binary()
        self.timeout_s = timeout_s
        self._cache: OrderedDict[tuple[str, str], Counter[str]] = OrderedDict()
        self._lock = threading.Lock()

    def _run(self, args: list[str], text: str, path: str, cwd: Path | None) -> subprocess.CompletedProcess[bytes]:
        if not self.binary:
            raise VerificationError("ruff is not installed")
        try:
            return subprocess.run(
                [self.binary, *args, "--stdin-filename", path, "-"],
                input=text.encode("utf-8", errors="surrogatepass"), capture_output=True,
                timeout=self.timeout_s, cwd=str(cwd) if cwd and cwd.is_dir() else None, check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise VerificationError(f"ruff could not run: {exc}") from exc

    def codes(self, text: str, path: str, cwd: Path | None = None) -> Counter[str]:
        """Counts of ruff error codes for `text` as if it were the file at `path`."""
        key = (sha256_text(text), path)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return Counter(self._cache[key])
        proc = self._run(["check", "--no-cache", "--output-format", "json", "--exit-zero", "--quiet"], text,
                         path, cwd)
        try:
            records = json.loads(proc.stdout.decode("utf-8", errors="replace") or "[]")
        except json.JSONDecodeError as exc:
            raise VerificationError(f"ruff output unreadable: {proc.stderr.decode(errors='replace')[:200]}") \
                from exc
        counts = Counter(str(r.get("code") or "syntax-error") for r in records)
        with self._lock:
            self._cache[key] = counts
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return Counter(counts)

    def sort_imports(self, text: str, path: str, cwd: Path | None = None) -> str:
        """`text` with only ruff's import-sorting fix (I001) applied."""
        proc = self._run(["check", "--no-cache", "--select", "I001", "--fix-only", "--exit-zero", "--quiet"],
                         text, path, cwd)
        if proc.returncode != 0 or not proc.stdout:
            raise VerificationError(f"ruff could not sort imports: {proc.stderr.decode(errors='replace')[:200]}")
        return proc.stdout.decode("utf-8", errors="surrogatepass")


    def format_lines(self, text: str, path: str, ranges: list[tuple[int, int]], cwd: Path | None = None) -> str:
        """`text` with only the given 1-based line ranges formatted by `ruff format` (bottom-up)."""
        for first, last in sorted(ranges, reverse=True):
            lines = text.splitlines()
            if not lines or first > len(lines):
                continue
            last = min(last, len(lines))
            span = f"{first}:1-{last}:{len(lines[last - 1]) + 1}"  # "N:M" alone would mean "to the end of file"
            proc = self._run(["format", "--no-cache", "--quiet", "--range", span], text, path, cwd)
            if proc.returncode != 0:
                raise VerificationError(f"ruff could not format: {proc.stderr.decode(errors='replace')[:200]}")
            text = proc.stdout.decode("utf-8", errors="surrogatepass")
        return text


def changed_lines(before: str, after: str) -> list[tuple[int, int]]:
    """1-based line ranges of `after` that differ from `before`."""
    matcher = difflib.SequenceMatcher(a=before.splitlines(), b=after.splitlines(), autojunk=False)
    return [(j1 + 1, max(j1 + 1, j2)) for tag, _i1, _i2, j1, j2 in matcher.get_opcodes()
            if tag != "equal" and j2 > j1]

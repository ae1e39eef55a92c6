"""Finding and reading a project's Python files: skipped folders, special files, size limit, line ends."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from ai_core.analysis import Analyzer
from ai_core.config import Settings
from ai_core.files import SKIPPED_DIRS, SourceError, is_excluded, iter_python_files, read_head, read_source, relative
from ai_core.findings import VulnClass
from ai_core.fixes.context import project_info
from ai_core.parsing import ParsedDocument
from ai_core.scan import ScanResult, scan_path

needs_posix = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs and /dev/zero are POSIX")


def test_walk_skips_every_listed_folder_and_egg_info(tmp_path: Path):
    for name in [*SKIPPED_DIRS, "pkg.egg-info"]:
        (tmp_path / name).mkdir()
        (tmp_path / name / "hidden.py").write_text("x = 1\n")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("x = 1\n")
    (tmp_path / "src" / "types.pyi").write_text("x: int\n")
    found = [relative(p, tmp_path) for p in iter_python_files(tmp_path)]
    assert found == ["src/app.py", "src/types.pyi"]


def test_walk_honours_exclude_globs_across_folders(tmp_path: Path):
    (tmp_path / "a" / "migrations").mkdir(parents=True)
    (tmp_path / "a" / "migrations" / "0001.py").write_text("x = 1\n")
    (tmp_path / "a" / "views.py").write_text("x = 1\n")
    found = [relative(p, tmp_path) for p in iter_python_files(tmp_path, ("**/migrations/*",))]
    assert found == ["a/views.py"]
    assert is_excluded("a/migrations/0001.py", ("**/migrations/*",))
    assert not is_excluded("a/views.py", ("**/migrations/*",))


def test_walk_of_a_file_is_that_file(tmp_path: Path):
    target = tmp_path / "one.py"
    target.write_text("x = 1\n")
    assert list(iter_python_files(target)) == [target]
    assert relative(target, target) == "one.py"


@needs_posix
def test_fifo_named_py_is_refused_without_blocking(tmp_path: Path):
    fifo = tmp_path / "x.py"
    os.mkfifo(fifo)
    with pytest.raises(SourceError, match="not a regular file"):
        read_source(fifo, 1024)


@needs_posix
def test_head_of_a_fifo_is_refused_without_blocking(tmp_path: Path):
    os.mkfifo(tmp_path / "x.py")
    with pytest.raises(SourceError, match="not a regular file"):
        read_head(tmp_path / "x.py", 16)


@needs_posix
def test_fifo_module_neither_blocks_a_scan_nor_the_fixer_project_scan(tmp_path: Path):
    os.mkfifo(tmp_path / "helper.py")
    (tmp_path / "app.py").write_text("import bcrypt\nimport helper\n\nhelper.run(input())\n")
    results: list[ScanResult] = []
    worker = threading.Thread(target=lambda: results.append(
        scan_path(tmp_path, Settings(model_enabled=False), workers=1)), daemon=True)
    worker.start()
    worker.join(timeout=120)
    assert results, "the scan blocked on the FIFO"
    assert results[0].skipped == [("helper.py", "not a regular file")]
    assert [f.path for f in results[0].files] == ["app.py"]
    assert project_info(tmp_path).uses("bcrypt")


@needs_posix
def test_symlink_to_a_device_is_refused(tmp_path: Path):
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero")
    link = tmp_path / "zero.py"
    link.symlink_to("/dev/zero")
    with pytest.raises(SourceError, match="not a regular file"):
        read_source(link, 1024)


def test_symlink_to_a_regular_file_is_read(tmp_path: Path):
    (tmp_path / "real.py").write_text("x = 1\n")
    (tmp_path / "link.py").symlink_to(tmp_path / "real.py")
    assert read_source(tmp_path / "link.py", 1024) == "x = 1\n"


def test_oversized_file_is_refused(tmp_path: Path):
    big = tmp_path / "big.py"
    big.write_text("x = 1\n" * 100)
    with pytest.raises(SourceError, match="larger than 599 bytes"):
        read_source(big, 599)
    assert read_source(big, 600) == "x = 1\n" * 100


def test_directory_named_py_is_refused(tmp_path: Path):
    (tmp_path / "pkg.py").mkdir()
    with pytest.raises(SourceError, match="not a regular file"):
        read_source(tmp_path / "pkg.py", 1024)


def test_missing_binary_and_non_utf8_files_are_source_errors(tmp_path: Path):
    (tmp_path / "blob.py").write_bytes(b"\x00\x01binary")
    (tmp_path / "latin1.py").write_bytes("x = 'café'\n".encode("latin-1"))
    with pytest.raises(SourceError, match="binary file"):
        read_source(tmp_path / "blob.py", 1024)
    with pytest.raises(SourceError, match="not valid UTF-8"):
        read_source(tmp_path / "latin1.py", 1024)
    with pytest.raises(SourceError, match="unreadable"):
        read_source(tmp_path / "absent.py", 1024)


def test_lone_cr_line_ends_read_as_python_reads_them(tmp_path: Path):
    source = "import os\r\r\ndef run(cmd):\r    os.system(cmd)\r"
    path = tmp_path / "old_mac.py"
    path.write_bytes(source.encode())
    text = read_source(path, 1024)
    assert text.splitlines() == source.splitlines()  # the lines Python sees
    assert len(text.encode()) == len(source.encode())  # byte offsets still match the file
    assert "\r\n" in text  # CRLF kept as written
    assert not ParsedDocument(text).has_syntax_errors


def test_lone_cr_file_is_analysed_like_its_lf_twin(tmp_path: Path):
    lines = ["import subprocess", "", "def run(request):", "    subprocess.call(request.args['c'], shell=True)", ""]
    (tmp_path / "cr.py").write_bytes("\r".join(lines).encode())
    (tmp_path / "lf.py").write_bytes("\n".join(lines).encode())
    analyzer = Analyzer(Settings(model_enabled=False))
    cr = analyzer.analyze_text(read_source(tmp_path / "cr.py", 4096), "cr.py")
    lf = analyzer.analyze_text(read_source(tmp_path / "lf.py", 4096), "lf.py")
    assert [(f.vuln_class, f.span.start_line) for f in cr] == [(f.vuln_class, f.span.start_line) for f in lf]
    assert VulnClass.COMMAND_INJECTION in {f.vuln_class for f in cr}

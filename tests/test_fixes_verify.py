"""Verification before a fix is offered: parse, finding gone, nothing new, ruff no worse, the workspace's tests."""

from __future__ import annotations

import logging
import socket
import textwrap
from pathlib import Path

import pytest

from ai_core.analysis import Analyzer
from ai_core.config import Settings
from ai_core.findings import Finding
from ai_core.fixes import Fixer, TestRunner, Verifier
from ai_core.parsing import ParsedDocument

VULNERABLE = '''import pickle
import sys


def load(blob):
    return pickle.loads(blob)


if __name__ == "__main__":
    print(load(sys.stdin.buffer.read()))
'''
GOOD = VULNERABLE.replace("import pickle", "import json").replace("pickle.loads", "json.loads")


@pytest.fixture
def analyzer() -> Analyzer:
    """Rules only."""
    return Analyzer(Settings(model_enabled=False))


def _target(analyzer: Analyzer, path: str, text: str = VULNERABLE) -> Finding:
    return next(f for f in analyzer.analyze_text(text, path) if f.rule == "deserialization.pickle-loads")


def test_a_correct_fix_passes(analyzer: Analyzer, tmp_path: Path):
    path = str(tmp_path / "load.py")
    assert Verifier(analyzer, tmp_path).verify(VULNERABLE, GOOD, path, [_target(analyzer, path)]).ok


def test_a_fix_that_does_not_parse_is_refused(analyzer: Analyzer, tmp_path: Path):
    path = str(tmp_path / "load.py")
    broken = GOOD.replace("json.loads(blob)", "json.loads(blob")
    verdict = Verifier(analyzer, tmp_path).verify(VULNERABLE, broken, path, [_target(analyzer, path)])
    assert not verdict.ok and verdict.reason.startswith("the patched file does not parse")


def test_a_fix_that_leaves_the_finding_is_refused(analyzer: Analyzer, tmp_path: Path):
    path = str(tmp_path / "load.py")
    same = VULNERABLE.replace("def load(blob):", "def load(blob):  # now safe, promised")
    verdict = Verifier(analyzer, tmp_path).verify(VULNERABLE, same, path, [_target(analyzer, path)])
    assert not verdict.ok and verdict.reason == "deserialization.pickle-loads is still reported after the fix"


def test_a_fix_that_introduces_another_finding_is_refused(analyzer: Analyzer, tmp_path: Path):
    path = str(tmp_path / "load.py")
    swapped = VULNERABLE.replace("import pickle", "import marshal").replace("pickle.loads", "marshal.loads")
    verdict = Verifier(analyzer, tmp_path).verify(VULNERABLE, swapped, path, [_target(analyzer, path)])
    assert not verdict.ok
    assert verdict.reason == "the fix introduces deserialization.marshal-loads (insecure-deserialization) at line 6"


def test_a_fix_with_a_new_ruff_error_is_refused(analyzer: Analyzer, tmp_path: Path):
    path = str(tmp_path / "load.py")
    unused = GOOD.replace("import json", "import json\nimport os")
    verdict = Verifier(analyzer, tmp_path).verify(VULNERABLE, unused, path, [_target(analyzer, path)])
    assert not verdict.ok and verdict.reason == "ruff reports new problems: F401 x1"


def test_ruff_uses_the_workspace_configuration(analyzer: Analyzer, tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text('[tool.ruff.lint]\nselect = ["E501"]\n[tool.ruff]\nline-length = 40\n',
                                             encoding="utf-8")
    path = str(tmp_path / "load.py")
    longer = GOOD.replace("return json.loads(blob)", "return json.loads(blob)  # parsed as plain JSON data")
    verdict = Verifier(analyzer, tmp_path).verify(VULNERABLE, longer, path, [_target(analyzer, path)])
    assert not verdict.ok and verdict.reason == "ruff reports new problems: E501 x1"


def test_a_refused_fix_is_not_offered_the_reason_is_logged_and_the_next_rewriter_answers(
        analyzer: Analyzer, tmp_path: Path, caplog: pytest.LogCaptureFixture):
    # this workspace's ruff configuration forbids subprocess calls without a shell check (S603)
    (tmp_path / "pyproject.toml").write_text('[tool.ruff.lint]\nselect = ["S602", "S603"]\n', encoding="utf-8")
    text = ('import subprocess\nimport sys\n\n\ndef ping(host):\n'
            '    return subprocess.run(f"ping -c 1 {host}", shell=True, check=False)\n\n\nping(sys.argv[1])\n')
    path = str(tmp_path / "ping.py")
    doc = ParsedDocument(text, path=path)
    finding = next(f for f in analyzer.analyze(doc, path) if f.span.start_line == 5)
    with caplog.at_level(logging.INFO, logger="ai_core.fixes"):
        proposal = Fixer(analyzer, tmp_path).propose(doc, finding)
    assert proposal.rejected == ("rewriter:argument_list: ruff reports new problems: S603 x1",)
    assert "from rewriter:argument_list not offered: ruff reports new problems: S603 x1" in caplog.text
    assert proposal.source == "rewriter:shlex_quote"
    assert 'subprocess.run(f"ping -c 1 {shlex.quote(host)}", shell=True, check=False)' in proposal.after


def test_a_command_that_is_a_shell_script_by_design_gets_no_fix(analyzer: Analyzer, tmp_path: Path):
    text = ('import subprocess\nimport sys\n\n\ndef run_hook(hook):\n'
            '    subprocess.run(hook, shell=True, check=True)\n\n\nrun_hook(sys.argv[1])\n')
    path = str(tmp_path / "hooks.py")
    doc = ParsedDocument(text, path=path)
    finding = next(f for f in analyzer.analyze(doc, path) if f.span.start_line == 5)
    proposal = Fixer(analyzer, tmp_path).propose(doc, finding)
    assert proposal.fix is None
    assert proposal.reason == "no rewriter for command-injection at this code shape"


def _workspace(tmp_path: Path, test_body: str) -> Path:
    (tmp_path / "tests").mkdir()
    (tmp_path / "load.py").write_text(VULNERABLE, encoding="utf-8")
    (tmp_path / "tests" / "test_load.py").write_text(textwrap.dedent(test_body), encoding="utf-8")
    return tmp_path


def test_workspace_tests_that_break_under_the_fix_block_it(analyzer: Analyzer, tmp_path: Path):
    root = _workspace(tmp_path, '''
        import pickle

        from load import load


        def test_load_reads_pickles():
            assert load(pickle.dumps({"a": 1})) == {"a": 1}
        ''')
    path = str(root / "load.py")
    verifier = Verifier(analyzer, root, tests=TestRunner(root, timeout_s=120))
    verdict = verifier.verify(VULNERABLE, GOOD, path, [_target(analyzer, path)])
    assert not verdict.ok and verdict.reason.startswith("the workspace's tests fail with the fix")


def test_workspace_tests_that_still_pass_let_the_fix_through(analyzer: Analyzer, tmp_path: Path):
    root = _workspace(tmp_path, '''
        from load import load


        def test_load_reads_json():
            assert load(b'{"a": 1}') == {"a": 1}
        ''')
    path = str(root / "load.py")
    verifier = Verifier(analyzer, root, tests=TestRunner(root, timeout_s=120))
    assert verifier.verify(VULNERABLE, GOOD, path, [_target(analyzer, path)]).ok


def test_workspace_tests_run_without_network(tmp_path: Path):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    try:
        root = _workspace(tmp_path, f'''
            import socket

            import pytest


            def test_no_connection_leaves_the_sandbox():
                with pytest.raises(OSError):
                    socket.create_connection(("127.0.0.1", {port}), timeout=2)
            ''')
        outcome = TestRunner(root, timeout_s=120).run({})
    finally:
        listener.close()
    assert outcome.passed, outcome.summary


def test_workspace_tests_are_stopped_at_the_timeout(tmp_path: Path):
    root = _workspace(tmp_path, '''
        import time


        def test_never_ends():
            time.sleep(600)
        ''')
    outcome = TestRunner(root, timeout_s=2).run({})
    assert not outcome.passed and outcome.summary == "tests timed out after 2 s"
    assert outcome.seconds < 60


def test_bcrypt_is_used_when_the_project_already_uses_it(analyzer: Analyzer, tmp_path: Path):
    (tmp_path / "users.py").write_text("import bcrypt\n\nROUNDS = 12\n", encoding="utf-8")
    text = ("import hashlib\n\n\ndef store(db, user, password):\n"
            "    db[user] = hashlib.md5(password.encode()).hexdigest()\n")
    path = str(tmp_path / "accounts.py")
    doc = ParsedDocument(text, path=path)
    finding = next(f for f in analyzer.analyze(doc, path) if f.rule == "auth.weak-password-hash")
    proposal = Fixer(analyzer, tmp_path).propose(doc, finding)
    assert proposal.fix is not None and proposal.fix.title == "Hash the password with salted bcrypt"
    assert "return bcrypt.hashpw(data, bcrypt.gensalt()).decode()" in proposal.after
    assert "import bcrypt\n" in proposal.after and "import hashlib" not in proposal.after


def test_fix_all_adds_a_shared_import_once(analyzer: Analyzer, tmp_path: Path):
    text = '"""Settings."""\n\nDEBUG = True\nSECRET_KEY = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"\nALLOWED_HOSTS = ["*"]\n'
    path = str(tmp_path / "settings.py")
    result = Fixer(analyzer, tmp_path).fix_all(ParsedDocument(text, path=path))
    assert len(result.fixed) == 3 and not result.skipped
    assert result.after == ('"""Settings."""\n\nimport os\n\nDEBUG = os.environ.get("DEBUG") == "1"\n'
                            'SECRET_KEY = os.environ["SECRET_KEY"]\n'
                            'ALLOWED_HOSTS = os.environ.get("ALLOWED_HOSTS", "localhost").split(",")\n')
    assert analyzer.analyze_text(result.after, path) == []


RUNNER = '''import os


def create_archive(source):
    os.system(f"tar czf /tmp/out.tgz {source}")
'''
CLI = '''import sys

from tools import runner

if __name__ == "__main__":
    runner.create_archive(sys.argv[1])
'''


def test_a_call_site_finding_is_fixed_in_the_file_of_its_sink(analyzer: Analyzer, tmp_path: Path):
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "tools" / "runner.py").write_text(RUNNER, encoding="utf-8")
    path = str(tmp_path / "cli.py")
    doc = ParsedDocument(CLI, path=path)
    finding = next(f for f in analyzer.analyze(doc, path) if f.vuln_class.value == "command-injection")
    assert finding.taint_path is not None and finding.taint_path.sink.path.endswith("runner.py")
    proposal = Fixer(analyzer, tmp_path).propose(doc, finding)
    assert proposal.fix is not None and proposal.fix.edits == ()
    [(other, edits)] = proposal.fix.extra_files
    assert other == str(tmp_path / "tools" / "runner.py") and edits
    [(_path, before, after)] = proposal.files
    assert before == RUNNER
    assert after == ('import subprocess\n\n\ndef create_archive(source):\n'
                     '    subprocess.run(["tar", "czf", "/tmp/out.tgz", source], check=False)\n')
    assert proposal.fix.title == "Run an argument list with subprocess.run instead of os.system (in runner.py)"
    (tmp_path / "tools" / "runner.py").write_text(after, encoding="utf-8")
    assert [f for f in analyzer.analyze_text(CLI, path) if f.vuln_class.value == "command-injection"] == []


def test_fix_all_in_a_caller_carries_the_callee_file(analyzer: Analyzer, tmp_path: Path):
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "tools" / "runner.py").write_text(RUNNER, encoding="utf-8")
    path = str(tmp_path / "cli.py")
    result = Fixer(analyzer, tmp_path).fix_all(ParsedDocument(CLI, path=path))
    assert result.after == CLI and len(result.fixed) == 1
    [(other, (before, after))] = result.others.items()
    assert other == str(tmp_path / "tools" / "runner.py") and before == RUNNER and "subprocess.run([" in after

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


def test_a_refused_fix_is_not_offered_and_the_reason_is_logged(analyzer: Analyzer, tmp_path: Path,
                                                              caplog: pytest.LogCaptureFixture):
    text = ('import yaml\nfrom flask import Flask, request\n\napp = Flask(__name__)\n\n\n'
            '@app.route("/config", methods=["POST"])\ndef config():\n    return yaml.load(request.data)\n')
    path = str(tmp_path / "app.py")
    doc = ParsedDocument(text, path=path)
    finding = next(f for f in analyzer.analyze(doc, path) if f.rule == "deserialization.yaml-load")
    with caplog.at_level(logging.INFO, logger="ai_core.fixes"):
        proposal = Fixer(analyzer, tmp_path).propose(doc, finding)
    # yaml.safe_load alone would return the request's data as HTML: the engine then reports an XSS
    assert proposal.fix is None
    assert proposal.reason == "rewriter:yaml_safe_load: the fix introduces xss.route-return (xss) at line 9"
    assert "not offered: the fix introduces xss.route-return" in caplog.text


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

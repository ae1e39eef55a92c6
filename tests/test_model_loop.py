"""The model in the diagnostic loop: confidence on each finding, the safe threshold, function-level findings."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import pytest

from ai_core.analysis import Analyzer
from ai_core.analysis.rules import Registry
from ai_core.config import Settings
from ai_core.findings import Severity, VulnClass
from ai_core.model.candidates import Candidate, candidate_for, function_candidates
from ai_core.model.predictor import ModelScorer, ModelUnavailable, load_scorer
from ai_core.model.review import Reviewer
from ai_core.model.scoring import FUNCTION_LEVEL_RULE, REQUEST_FLOW_FLOOR, Score, request_flow
from ai_core.parsing import ParsedDocument
from ai_core.scan import scan_path

VULNERABLE_APP = '''import pickle
import subprocess

from flask import Flask, request

app = Flask(__name__)


@app.route("/restore", methods=["POST"])
def restore():
    blob = request.get_data()
    state = pickle.loads(blob)
    return {"items": len(state)}


@app.route("/ping")
def ping():
    host = request.args.get("host", "")
    out = subprocess.check_output("ping -c 1 " + host, shell=True)
    return out
'''

MODEL_ONLY = '''import hashlib

from flask import Flask, request

app = Flask(__name__)


@app.post("/register")
def register():
    password = request.form["password"]
    digest = hashlib.md5(password.encode()).hexdigest()
    db.save_user(request.form["user"], digest)
    return "ok"
'''
MODEL_ONLY_SAFE = MODEL_ONLY.replace("hashlib.md5(password.encode()).hexdigest()",
                                     "bcrypt.hashpw(password.encode(), bcrypt.gensalt())")


@pytest.fixture(scope="module")
def scorer(tmp_path_factory: pytest.TempPathFactory) -> ModelScorer:
    # 1.1.0, the shipped adapter that is sure at function level (1.2.0 gives MODEL_ONLY broken-auth 0.40, below
    # model_function_threshold): these tests exercise the function-level mechanism, which is off by default
    return load_scorer(Settings(model_variant="fp32"), workspace=tmp_path_factory.mktemp("ws"), adapter="1.1.0")


class FixedScorer:
    """A scorer that judges everything with the same probabilities (to exercise the threshold)."""

    def __init__(self, p_safe: float) -> None:
        self.p_safe = p_safe

    def score(self, candidates: Sequence[Candidate]) -> list[Score]:
        rest = (1 - self.p_safe)
        probabilities = {"safe": self.p_safe, "insecure-deserialization": rest}
        label = "safe" if self.p_safe >= rest else "insecure-deserialization"
        return [Score(label, max(self.p_safe, rest), probabilities) for _ in candidates]


class FunctionScorer:
    """A scorer that judges every function-level input as one class with p=0.99 (to exercise the gate)."""

    def __init__(self, label: str) -> None:
        self.label = label

    def score(self, candidates: Sequence[Candidate]) -> list[Score]:
        return [Score(self.label, 0.99, {self.label: 0.99, "safe": 0.01}) for _ in candidates]


HELPER_AND_HANDLER = '''import subprocess

from flask import Flask, request

app = Flask(__name__)


def run_hook(command):
    subprocess.run(command, check=True)


@app.post("/hook")
def hook():
    subprocess.run(["sync"], check=True)
    return "ok"


def handle(environ):
    name = environ["QUERY_STRING"]
    subprocess.run(["echo", name], check=True)
'''


class BrokenScorer:
    def score(self, candidates: Sequence[Candidate]) -> list[Score]:
        raise RuntimeError("model crashed")


def test_each_rule_finding_gets_the_models_confidence(scorer):
    rules = Analyzer(Settings(model_enabled=False)).analyze_text(VULNERABLE_APP, "app.py")
    scored = Reviewer(Settings(model_function_level=False), scorer=scorer).analyze_text(VULNERABLE_APP, "app.py")
    assert {(f.rule, f.span.start_line) for f in scored} == {(f.rule, f.span.start_line) for f in rules}
    assert any(f.vuln_class.value == "insecure-deserialization" and f.span.start_line == 11 for f in scored)
    for finding in scored:
        assert finding.confidence > 0.5


def test_findings_the_model_judges_safe_are_dropped_unless_shown_as_hints():
    settings = Settings(model_threshold=0.8, model_function_level=False)
    assert Reviewer(settings, scorer=FixedScorer(0.9)).analyze_text(VULNERABLE_APP, "app.py") == []
    kept = Reviewer(settings, scorer=FixedScorer(0.7)).analyze_text(VULNERABLE_APP, "app.py")
    assert kept and all(f.confidence == (REQUEST_FLOW_FLOOR if request_flow(f) else 0.3) for f in kept)
    shown = Reviewer(dataclasses.replace(settings, show_model_dropped=True),
                      scorer=FixedScorer(0.9)).analyze_text(VULNERABLE_APP, "app.py")
    assert shown and all(f.severity is Severity.INFO and "judged this safe" in f.message for f in shown)


def test_a_failing_model_leaves_the_rule_findings():
    rules = Analyzer(Settings(model_enabled=False)).analyze_text(VULNERABLE_APP, "app.py")
    assert Reviewer(Settings(), scorer=BrokenScorer()).analyze_text(VULNERABLE_APP, "app.py") == rules


def test_the_model_off_means_rules_only(scorer):
    rules = Analyzer(Settings(model_enabled=False)).analyze_text(VULNERABLE_APP, "app.py")
    assert Reviewer(Settings(model_enabled=False), scorer=scorer).analyze_text(VULNERABLE_APP, "app.py") == rules


def test_function_level_mode_flags_a_function_no_rule_names_as_model_only(scorer):
    silent = Registry()  # no rule can fire: whatever is reported comes from the model alone
    findings = Reviewer(Settings(model_function_level=True), registry=silent, scorer=scorer).analyze_text(
        MODEL_ONLY, "users.py")
    [finding] = findings
    assert finding.model_only and finding.rule == FUNCTION_LEVEL_RULE
    assert finding.vuln_class.value == "broken-auth"
    assert finding.severity is Severity.LOW and finding.span.start_line == 8  # the function's name
    off = Reviewer(Settings(model_function_level=False), registry=silent, scorer=scorer)
    assert off.analyze_text(MODEL_ONLY, "users.py") == []


def test_function_level_mode_stays_silent_on_a_safe_function(scorer):
    assert MODEL_ONLY_SAFE != MODEL_ONLY
    on = Settings(model_function_level=True)
    assert Reviewer(on, registry=Registry(), scorer=scorer).analyze_text(MODEL_ONLY_SAFE, "users.py") == []


def test_model_only_injection_findings_are_off_by_default():
    findings = Reviewer(Settings(model_function_level=True), registry=Registry(),
                        scorer=FunctionScorer("command-injection")).analyze_text(HELPER_AND_HANDLER, "hooks.py")
    assert findings == []


def test_model_only_injection_findings_need_a_function_that_reads_untrusted_input():
    every_class = Settings(model_function_level=True, model_function_classes=frozenset(VulnClass))
    findings = Reviewer(every_class, registry=Registry(), scorer=FunctionScorer("command-injection")).analyze_text(
        HELPER_AND_HANDLER, "hooks.py")
    # run_hook only gets a parameter (the taint engine follows its callers); hook is a route; handle reads environ
    assert sorted(f.message.split(" in ")[1].split("(")[0] for f in findings) == ["handle", "hook"]


def test_model_only_findings_of_non_injection_classes_need_no_input():
    findings = Reviewer(Settings(model_function_level=True), registry=Registry(),
                        scorer=FunctionScorer("broken-auth")).analyze_text(HELPER_AND_HANDLER, "hooks.py")
    assert len(findings) == 3 and all(f.vuln_class.value == "broken-auth" for f in findings)


def test_a_model_threshold_of_one_never_drops_a_rule_finding():
    rules = Analyzer(Settings(model_enabled=False)).analyze_text(VULNERABLE_APP, "app.py")
    kept = Reviewer(Settings(model_threshold=1.0, model_function_level=False),
                     scorer=FixedScorer(1.0)).analyze_text(VULNERABLE_APP, "app.py")
    assert [(f.rule, f.span) for f in kept] == [(f.rule, f.span) for f in rules]
    assert all(f.confidence == (REQUEST_FLOW_FLOOR if request_flow(f) else 0.0) for f in kept)


def test_function_level_candidates_skip_functions_with_a_rule_finding():
    doc = ParsedDocument(VULNERABLE_APP, path="app.py")
    findings = Analyzer(Settings(model_enabled=False)).analyze(doc, "app.py")
    assert {f.span.start_line for f in findings} >= {11, 18}
    assert function_candidates(doc, findings) == []
    candidates = function_candidates(doc, [])
    assert [c.name for c in candidates] == ["restore", "ping"]
    assert candidates[0].code.startswith('@app.route("/restore", methods=["POST"])\ndef restore():')
    assert all(c.finding is None and c.span is not None for c in candidates)


def test_results_are_cached_by_content_hash(scorer):
    doc = ParsedDocument(VULNERABLE_APP, path="app.py")
    findings = Analyzer(Settings(model_enabled=False)).analyze(doc, "app.py")
    candidates = [candidate_for(doc, f) for f in findings]
    first = scorer.score(candidates)
    misses = scorer.misses
    assert scorer.score(list(reversed(candidates))) == list(reversed(first))
    assert scorer.misses == misses and scorer.hits >= len(candidates)


def test_scan_scores_findings_in_the_main_process(scorer, tmp_path: Path):
    (tmp_path / "app.py").write_text(VULNERABLE_APP)
    (tmp_path / "users.py").write_text(MODEL_ONLY)
    plain = scan_path(tmp_path, Settings(model_enabled=False), workers=1)
    scored = scan_path(tmp_path, Settings(), workers=1, scorer=scorer)
    assert {f.rule for f in plain.findings} <= {f.rule for f in scored.findings}
    assert all(0 < f.confidence <= 1 for f in scored.findings)
    assert any(f.model_only for f in scored.findings) or any(f.path == "users.py" for f in plain.findings)


def test_a_missing_adapter_is_a_clear_error_not_a_crash(tmp_path: Path):
    with pytest.raises(ModelUnavailable, match="no adapter version"):
        load_scorer(Settings(adapter="9.9.9"), workspace=tmp_path)


def test_coderev_scan_uses_the_model_unless_no_model(tmp_path: Path):
    import json
    import os
    import subprocess
    import sys

    (tmp_path / "pyproject.toml").write_text('[tool.coderev]\nmodel_variant = "fp32"\nmodel_function_level = false\n')
    (tmp_path / "app.py").write_text(VULNERABLE_APP)

    def scan(*extra: str) -> list[dict]:
        result = subprocess.run([sys.executable, "-m", "server.cli", "scan", str(tmp_path), "--format", "json",
                                 *extra], capture_output=True, text=True, timeout=300,
                                env={**os.environ, "HF_HUB_OFFLINE": "1"})
        assert result.returncode == 1, result.stderr[-2000:]
        return json.loads(result.stdout)

    rules, scored = scan("--no-model"), scan()
    assert {(r["line"], r["class"]) for r in scored} == {(r["line"], r["class"]) for r in rules}
    assert [r["confidence"] for r in scored] != [r["confidence"] for r in rules]


MODULE_NAMED_REQUEST = '''import subprocess
import urllib.request


def fetch(url):
    with urllib.request.urlopen(url) as response:
        subprocess.run(["logger", response.read()], check=True)


class ReportView:
    def get(self):
        subprocess.run(["report", self.request.GET["name"]], check=True)
'''


def test_the_model_input_gate_tells_a_module_named_request_from_the_request():
    every_class = Settings(model_function_level=True, model_function_classes=frozenset(VulnClass))
    findings = Reviewer(every_class, registry=Registry(), scorer=FunctionScorer("command-injection")).analyze_text(
        MODULE_NAMED_REQUEST, "views.py")
    # fetch only names urllib.request (its url is a parameter); get reads the view's own request
    assert [f.message.split(" in ")[1].split("(")[0] for f in findings] == ["get"]

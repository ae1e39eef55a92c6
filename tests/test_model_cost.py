"""The model's cost and calibration: cached scores on re-scans, the fitted temperature, the request-flow floor."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from pathlib import Path

import pytest

from ai_core.config import Settings
from ai_core.model.calibration import Calibration, fit
from ai_core.model.candidates import Candidate, candidate_for
from ai_core.model.classifier import logits
from ai_core.model.metrics import expected_calibration_error
from ai_core.model.predictor import ModelScorer, load_scorer
from ai_core.model.review import Reviewer
from ai_core.model.score_cache import BackgroundScorer, DiskScores
from ai_core.model.scoring import REQUEST_FLOW_FLOOR, Score, Scorer, request_flow
from ai_core.parsing import ParsedDocument
from ai_core.scan import scan_path

SQL_APP = '''import sqlite3

from flask import Flask, request

app = Flask(__name__)


@app.route("/user")
def user():
    name = request.args.get("name", "")
    con = sqlite3.connect("app.db")
    return str(con.execute("SELECT * FROM users WHERE name = '" + name + "'").fetchall())
'''

WEAK_HASH = '''import hashlib


def fingerprint(password):
    return hashlib.md5(password.encode()).hexdigest()
'''


@pytest.fixture(scope="module")
def scorer(tmp_path_factory: pytest.TempPathFactory) -> ModelScorer:
    return load_scorer(Settings(model_variant="fp32"), workspace=tmp_path_factory.mktemp("ws"))


class CountingScorer:
    """The real scorer, counting the candidates it is asked to score."""

    def __init__(self, inner: ModelScorer) -> None:
        self.inner = inner
        self.identity = inner.identity
        self.scored = 0

    def score(self, candidates: Sequence[Candidate]) -> list[Score]:
        self.scored += len(candidates)
        return self.inner.score(candidates)


class SafeScorer:
    """Judges every candidate safe with p=0.99 (the model at its most dismissive)."""

    def score(self, candidates: Sequence[Candidate]) -> list[Score]:
        return [Score("safe", 0.99, {"safe": 0.99, "sql-injection": 0.01}) for _ in candidates]


def test_a_rescan_scores_nothing_again(scorer, tmp_path: Path):
    (tmp_path / "app.py").write_text(SQL_APP)
    (tmp_path / "hashing.py").write_text(WEAK_HASH)
    store = DiskScores(tmp_path / "cache" / "scores.sqlite")
    counting = CountingScorer(scorer)
    first = scan_path(tmp_path, Settings(), workers=1, scorer=counting, score_store=store)
    assert counting.scored == len(first.findings) >= 2
    again = CountingScorer(scorer)
    second = scan_path(tmp_path, Settings(), workers=1, scorer=again, score_store=store)
    assert again.scored == 0
    assert [(f.rule, f.confidence) for f in second.findings] == [(f.rule, f.confidence) for f in first.findings]


def test_an_edit_rescores_only_the_changed_candidate(scorer, tmp_path: Path):
    (tmp_path / "app.py").write_text(SQL_APP)
    (tmp_path / "hashing.py").write_text(WEAK_HASH)
    store = DiskScores(tmp_path / "cache" / "scores.sqlite")
    scan_path(tmp_path, Settings(), workers=1, scorer=CountingScorer(scorer), score_store=store)
    (tmp_path / "hashing.py").write_text(WEAK_HASH.replace("fingerprint", "digest_of"))
    counting = CountingScorer(scorer)
    scan_path(tmp_path, Settings(), workers=1, scorer=counting, score_store=store)
    assert counting.scored == 1


def test_the_model_is_not_loaded_when_every_candidate_is_cached(scorer, tmp_path: Path):
    (tmp_path / "app.py").write_text(SQL_APP)
    store = DiskScores(tmp_path / "scores.sqlite")
    loads: list[int] = []

    def load() -> Scorer:
        loads.append(1)
        return scorer

    cold = BackgroundScorer(load, scorer.identity, scorer.calibration)  # as a scan builds it: calibration known
    first = scan_path(tmp_path, Settings(), workers=1, scorer=cold, score_store=store)
    assert loads == [1] and cold.started
    warm = BackgroundScorer(load, scorer.identity, scorer.calibration)
    second = scan_path(tmp_path, Settings(), workers=1, scorer=warm, score_store=store)
    assert loads == [1] and not warm.started
    assert [f.confidence for f in second.findings] == [f.confidence for f in first.findings]


def test_the_score_cache_stays_within_its_bound(tmp_path: Path):
    store = DiskScores(tmp_path / "scores.sqlite", max_rows=20)
    for batch in range(5):
        store.put_many({f"{batch}-{i}": Score("safe", 0.9, {"safe": 0.9, "xss": 0.1}) for i in range(10)})
    kept = store.get_many([f"{batch}-{i}" for batch in range(5) for i in range(10)])
    assert 0 < len(kept) <= 20
    assert all(key.startswith("4-") for key in store.get_many([f"4-{i}" for i in range(10)]))


def test_confidence_follows_the_fitted_calibration(scorer):
    raw = Reviewer(Settings(), scorer=scorer).analyze_text(WEAK_HASH, "hashing.py")
    fitted = Calibration(scale=0.4, bias=-0.5)
    manifest = {**scorer.adapter.manifest, "calibration": dataclasses.asdict(fitted)}
    flat = ModelScorer(scorer.model, dataclasses.replace(scorer.adapter, manifest=manifest), "fp32")
    calibrated = Reviewer(Settings(), scorer=flat).analyze_text(WEAK_HASH, "hashing.py")
    [score] = flat.score([candidate_for(ParsedDocument(WEAK_HASH, path="hashing.py"), calibrated[0])])
    p_vulnerable = 1 - score.probabilities["safe"]
    z = 0.4 * math.log(p_vulnerable / (1 - p_vulnerable)) - 0.5
    assert calibrated[0].confidence == pytest.approx(1 / (1 + math.exp(-z)), abs=2e-3)
    assert calibrated[0].confidence != pytest.approx(raw[0].confidence, abs=2e-3)


def test_a_fitted_calibration_lowers_the_error_of_overconfident_probabilities():
    import random

    rng = random.Random(0)
    true_p = [1 / (1 + math.exp(-rng.gauss(0, 1.5))) for _ in range(2000)]
    truth = [rng.random() < p for p in true_p]
    overconfident = [1 / (1 + math.exp(-4 * math.log(p / (1 - p)) - 1)) for p in true_p]  # sharper and biased
    scale, bias = fit(overconfident, truth)
    assert 0.2 < scale < 0.3 and -0.5 < bias < 0.0  # the inverse map: scale 1/4, bias -1/4
    fitted = Calibration(scale, bias)
    before = expected_calibration_error(overconfident, truth)
    after = expected_calibration_error([fitted.vulnerable(p) for p in overconfident], truth)
    assert after < before / 2


def test_expected_calibration_error_is_the_gap_between_confidence_and_frequency():
    calibrated = expected_calibration_error([0.75] * 4, [True, True, True, False])
    overconfident = expected_calibration_error([0.95] * 4, [True, False, True, False])
    assert calibrated == 0.0 and overconfident == pytest.approx(0.45)


def test_a_request_flow_to_execute_never_reads_below_one_half():
    [finding] = Reviewer(Settings(), scorer=SafeScorer()).analyze_text(SQL_APP, "app.py")
    assert request_flow(finding) and finding.vuln_class.value == "sql-injection"
    assert finding.confidence == REQUEST_FLOW_FLOOR


def test_a_review_finding_without_a_source_may_read_lower():
    [finding] = Reviewer(Settings(), scorer=SafeScorer()).analyze_text(WEAK_HASH, "hashing.py")
    assert not request_flow(finding)
    assert finding.confidence == pytest.approx(0.01)


def test_the_plain_torch_classifier_gives_transformers_logits(scorer):
    from ai_core.model.quantize import load_for_scoring, load_variant

    doc = ParsedDocument(SQL_APP + WEAK_HASH.replace("import hashlib", ""), path="app.py")
    texts = [candidate_for(doc, f).render() for f in Reviewer(Settings(model_enabled=False)).analyze(doc, "app.py")]
    plain = logits(load_for_scoring(scorer.adapter, "fp32"), texts, scorer.max_length)
    reference = logits(load_variant(scorer.adapter, "fp32"), texts, scorer.max_length)
    assert len(texts) >= 2 and (plain - reference).abs().max().item() < 1e-4


def test_loading_the_scorer_does_not_import_transformers(tmp_path: Path):
    import os
    import subprocess
    import sys

    code = ("import sys; from ai_core.config import Settings; from ai_core.model.predictor import load_scorer; "
            "load_scorer(Settings(model_variant='fp32')); print('transformers' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=tmp_path,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"}, check=True)
    assert done.stdout.strip() == "False"


class RecordingScorer:
    """Judges every candidate vulnerable and keeps the inputs it was given."""

    identity = ""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def score(self, candidates: Sequence[Candidate]) -> list[Score]:
        self.texts += [c.render(evidence=True) for c in candidates]
        return [Score("sql-injection", 0.9, {"safe": 0.1, "sql-injection": 0.9}) for _ in candidates]


def test_the_workers_build_what_the_model_reads(tmp_path: Path):
    for i in range(10):  # more than a pool's threshold: files go to worker processes
        (tmp_path / f"app{i}.py").write_text(SQL_APP)
    recording = RecordingScorer()
    result = scan_path(tmp_path, Settings(), workers=2, scorer=recording)
    assert all(scanned.model_job is not None for scanned in result.files)
    expected = sorted(candidate_for(ParsedDocument(SQL_APP, path=s.path), f).render(evidence=True)
                      for s in result.files for f in s.findings)
    assert sorted(recording.texts) == expected


def test_rules_alone_build_no_model_input(tmp_path: Path):
    (tmp_path / "app.py").write_text(SQL_APP)
    result = scan_path(tmp_path, dataclasses.replace(Settings(), model_enabled=False), workers=1)
    assert result.findings and all(scanned.model_job is None for scanned in result.files)


def test_a_model_loaded_in_the_background_brings_its_own_calibration(scorer):
    expected = Calibration(scale=0.5, bias=-1.0)
    background = BackgroundScorer(lambda: scorer, scorer.identity, expected)
    assert background.calibration == expected  # before the load: the one the scan expects
    background.loaded()
    assert background.calibration == scorer.calibration  # after it: what runs

"""The shipped model from its package, offline: it ranks a mutant of real code above the real code it came from."""

from __future__ import annotations

import os

import pytest

from ai_core.config import Settings
from ai_core.findings import SAFE_LABEL
from ai_core.model.data.mutations import mutants_of, twin_examples
from ai_core.model.predictor import load_scorer

LIBRARY_CODE = '''def fetch_rows(conn, table_id, limit):
    """Rows of one table, newest first."""
    cur = conn.cursor()
    cur.execute("SELECT id, body FROM rows WHERE table_id = ? ORDER BY id DESC LIMIT ?", (table_id, limit))
    rows = cur.fetchall()
    cur.close()
    return rows
'''

CONFIG_READER = '''def load_settings(path):
    """Settings from a YAML file."""
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    return data or {}
'''


@pytest.fixture(scope="module")
def scorer(tmp_path_factory):
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    return load_scorer(Settings(model_variant="fp32"), tmp_path_factory.mktemp("workspace"))


@pytest.mark.parametrize("source", [LIBRARY_CODE, CONFIG_READER], ids=["sql-bound-parameter", "yaml-safe-load"])
def test_a_mutant_scores_more_vulnerable_than_its_safe_twin(scorer, source):
    [mutant] = list(mutants_of("lib", "lib/db.py", source))
    vulnerable, safe = twin_examples(mutant)
    texts = [vulnerable.text, safe.text]
    if not scorer.adapter.evidence:
        texts = [t.split("\n", 1)[1] for t in texts]
    bad, good = scorer.score_texts(texts)
    assert 1 - bad.probabilities[SAFE_LABEL] > 1 - good.probabilities[SAFE_LABEL]

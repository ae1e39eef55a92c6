"""The labelled corpus (tests/corpus): every positive found at its exact line and class, every safe look-alike
silent, nothing reported that nobody labelled.

Labels come from `# label:` markers in the corpus apps and are stored in tests/corpus/labels.json
(regenerate with `python tests/corpus/make_labels.py`). KNOWN_MISSES lists positives the engine does not
find yet, each with the reason; it is empty.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from ai_core.config import Settings
from ai_core.findings import VulnClass
from ai_core.scan import ScanResult, scan_path
from tests.corpus.make_labels import CORPUS, LABELS, collect

KNOWN_MISSES: dict[tuple[str, int, str], str] = {}
"""(path, line, class) -> why the engine misses it."""

REVIEW_TIER: frozenset[tuple[str, int, str]] = frozenset({
    ("django_blog/blog/services.py", 20, "sql-injection"),  # popular_posts(limit): f"... LIMIT {limit}"
    ("flask_shop/shop/db.py", 27, "sql-injection"),  # list_sorted(column): f"... ORDER BY {column}"
})
"""Review-tier findings on the corpus, counted apart: helpers that format SQL from a parameter no caller in the
corpus fills from a request. Positives count in any tier; safe look-alikes must be silent in every tier;
unlabelled findings are scored on the flow tier, with the review tier listed here."""


@pytest.fixture(scope="module")
def scan() -> ScanResult:
    return scan_path(CORPUS, Settings(model_enabled=False), workers=1)


def key(label: dict[str, object]) -> tuple[str, int, str]:
    return str(label["path"]), int(str(label["line"])), str(label["class"])


def found(scan: ScanResult, tiers: tuple[str, ...] = ("flow", "review")) -> set[tuple[str, int, str]]:
    return {(f.path, f.span.start_line + 1, f.vuln_class.value) for f in scan.findings if f.tier in tiers}


def test_labels_json_matches_the_markers_in_the_code():
    assert json.loads(LABELS.read_text()) == collect(), "run: python tests/corpus/make_labels.py"


def test_corpus_has_ten_positives_and_ten_negatives_per_class_across_four_apps():
    labels = collect()
    positives = Counter(str(label["class"]) for label in labels if label["expected"])
    negatives = Counter(str(label["class"]) for label in labels if not label["expected"])
    for vuln_class in VulnClass:
        assert positives[vuln_class.value] >= 10, vuln_class
        assert negatives[vuln_class.value] >= 10, vuln_class
    apps = {str(label["path"]).split("/")[0] for label in labels}
    assert apps == {"flask_shop", "django_blog", "fastapi_notes", "cli_backup"}
    cross_file = [label for label in labels if label["expected"] and "views" in str(label["path"])]
    assert cross_file


def test_every_labelled_positive_is_found_at_its_line_and_class(scan: ScanResult):
    expected = {key(label) for label in collect() if label["expected"]}
    missed = sorted(expected - found(scan) - KNOWN_MISSES.keys())
    assert missed == [], f"{len(missed)} positives not found: {missed}"


def test_every_safe_look_alike_is_silent(scan: ScanResult):
    silent = {key(label) for label in collect() if not label["expected"]}
    flagged = sorted(silent & found(scan))
    assert flagged == [], f"{len(flagged)} false positives: {flagged}"


def test_nothing_is_reported_that_the_labels_do_not_expect(scan: ScanResult):
    labelled = {key(label) for label in collect()}
    unexpected = sorted(found(scan, ("flow",)) - labelled)
    assert unexpected == [], f"unlabelled findings: {unexpected}"


def test_review_tier_findings_are_the_helpers_that_format_sql_from_parameters(scan: ScanResult):
    assert found(scan, ("review",)) - {key(label) for label in collect()} == REVIEW_TIER


def test_cross_file_findings_carry_the_path_into_the_other_file(scan: ScanResult):
    text = (CORPUS / "flask_shop/shop/app.py").read_text().splitlines()
    line = next(n for n, source in enumerate(text, 1) if "db.search_products(term)" in source)
    finding = next(f for f in scan.findings
                   if f.path == "flask_shop/shop/app.py" and f.vuln_class is VulnClass.SQL_INJECTION
                   and f.span.start_line + 1 == line)
    assert finding.taint_path is not None
    assert finding.taint_path.source.path == "flask_shop/shop/app.py"
    assert finding.taint_path.sink.path == "flask_shop/shop/db.py"
    assert Path(CORPUS / finding.taint_path.sink.path).exists()

"""The training data: every class covered, vulnerable and safe twins, deduplicated, split by template family."""

from __future__ import annotations

import random
import re

import pytest

from ai_core.findings import SAFE_LABEL, VulnClass
from ai_core.model.data.dataset import DataConfig, build, split_families, val_families
from ai_core.model.data.generator import generate, render_slice
from ai_core.model.data.templates import FAMILIES, load_families
from ai_core.model.minilm import LABELS, MODEL_CLASSES

SMALL = DataConfig(per_family=2, negatives=40, loop_per_family=2)


@pytest.fixture(scope="module")
def dataset():
    return build(SMALL)


def test_every_class_has_several_families_with_a_vulnerable_body_and_a_safe_twin():
    every = load_families()
    for vuln_class in VulnClass:
        families = [f for f in every if f.vuln_class is vuln_class]
        assert len(families) >= 4, vuln_class
    for family in every:
        assert any("#!sink" in line for line in family.vuln), family.name
        assert any("#!sink" in line for line in family.safe), family.name


def test_templates_cover_flask_django_fastapi_and_scripts():
    frames = {frame for family in FAMILIES for frame in family.frames}
    assert {"flask", "django", "fastapi", "script", "django_settings", "flask_config"} <= frames


def test_a_rendered_slice_holds_the_sink_and_the_taint_path_first():
    family = next(f for f in FAMILIES if f.name == "sql-fstring")
    sample = generate(family, safe=False, rng=random.Random(3))
    text = render_slice(sample, with_taint=True)
    first = text.splitlines()[0]
    assert first.startswith("# taint: ") and " -> sink: " in first and "(sql-injection)" in first
    assert re.search(r"\.execute\(f\"SELECT \* FROM \w+ WHERE \w+ = '\{\w+\}'\"\)", text)


def test_the_same_seed_builds_the_same_dataset(dataset):
    again = build(SMALL)
    assert again.data_hash == dataset.data_hash
    assert [e.text for e in again.train[:50]] == [e.text for e in dataset.train[:50]]


def test_validation_families_never_appear_in_training(dataset):
    held = val_families(SMALL.seed, SMALL.val_share)
    assert held and {e.family for e in dataset.val if not e.family.startswith("installed:")} <= held
    assert not {e.family for e in dataset.train} & held
    for vuln_class in MODEL_CLASSES:
        assert any(e.label == vuln_class.value for e in dataset.val), f"{vuln_class} missing from validation"
        assert any(e.label == vuln_class.value for e in dataset.train), f"{vuln_class} missing from training"


def test_examples_are_deduplicated_across_splits(dataset):
    texts = [re.sub(r"\s+", " ", e.text).strip() for e in (*dataset.train, *dataset.val)]
    assert len(texts) == len(set(texts))


def test_installed_code_negatives_are_labelled_safe_and_hand_written_examples_are_in_training(dataset):
    installed = [e for e in (*dataset.train, *dataset.val) if e.family.startswith("installed:")]
    assert installed and all(e.label == SAFE_LABEL for e in installed)
    assert any(e.family == "handwritten" for e in dataset.train)


def test_only_the_classes_the_model_has_labels_for_are_trained():
    assert {f.vuln_class for f in FAMILIES} == set(MODEL_CLASSES)
    assert {f.vuln_class for f in load_families()} == set(VulnClass)


def test_the_manifest_describes_counts_splits_and_hash(dataset):
    manifest = dataset.manifest
    assert manifest["data_hash"] == dataset.data_hash and len(manifest["data_hash"]) == 64
    assert sum(manifest["counts"]["train"].values()) == len(dataset.train)
    assert set(manifest["families"]) == {f.name for f in FAMILIES}
    assert manifest["labels"][-1] == SAFE_LABEL and len(manifest["labels"]) == len(LABELS) == len(VulnClass) + 1


def test_the_manifest_in_the_repository_matches_the_templates():
    import json

    from ai_core.model.data.dataset import MANIFEST_PATH

    manifest = json.loads(MANIFEST_PATH.read_text())
    config = manifest["config"]
    held = split_families(config["seed"], config["val_share"], config.get("test_share", 0.0))
    assert manifest["families"] == {f.name: {"class": f.vuln_class.value, "split": held.get(f.name, "train")}
                                    for f in FAMILIES}


def _loop(name: str, count: int = 3) -> list:
    from ai_core.model.data.loop import loop_examples

    family = next(f for f in load_families() if f.name == name)
    return list(loop_examples(family, count, random.Random(7)))


def test_loop_inputs_are_rule_findings_rendered_exactly_as_the_analyzer_sends_them():
    rule_inputs = [e for e in _loop("sql-fstring") if e.view == "loop"]
    assert {e.label for e in rule_inputs} == {"sql-injection"}  # the safe variant (`?` placeholder) never fires
    assert all("  # <- flagged" in e.text and "execute(" in e.text for e in rule_inputs)
    assert any(e.text.startswith("# taint: ") for e in rule_inputs)


def test_a_rule_false_positive_in_a_safe_file_becomes_a_safe_loop_input():
    # FileResponse with a resolved, prefix-checked path: the rules still fire on the safe variant.
    labels = [e.label for e in _loop("path-fastapi-fileresponse") if e.view == "loop"]
    assert "path-traversal" in labels and SAFE_LABEL in labels


def test_a_function_the_rules_missed_is_a_vulnerable_function_input_and_its_safe_twin_is_not():
    # A session id taken from the request: no rule models it, so the function is the model's to judge.
    inputs = [e for e in _loop("session-id-from-request") if e.view == "loop-function"]
    vulnerable = [e for e in inputs if e.label == "session-fixation"]
    safe = [e for e in inputs if e.label == SAFE_LABEL]
    assert vulnerable and safe
    assert all("  # <- flagged" not in e.text for e in inputs)
    assert not {e.text for e in vulnerable} & {e.text for e in safe}


def test_a_decorator_sink_labels_the_function_it_decorates():
    labels = {e.label for e in _loop("csrf-exempt") if e.view == "loop-function"}
    assert labels == {"csrf", SAFE_LABEL}

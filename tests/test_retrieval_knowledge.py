"""The knowledge base: its content, its LanceDB table, and nearest examples for new code."""

from __future__ import annotations

import collections
import os
from pathlib import Path

import pytest

from ai_core.findings import VulnClass
from ai_core.parsing import parse_python
from ai_core.retrieval import Embedder, default_embedder
from ai_core.retrieval.knowledge import (
    FRAMEWORKS,
    KnowledgeBase,
    KnowledgeError,
    examples_for,
    load_examples,
    parse_examples,
    similar_examples,
)

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    """The real MiniLM, loaded once for the module."""
    model = default_embedder()
    model.load()
    return model


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> KnowledgeBase:
    """The shipped knowledge base, embedded into a temporary LanceDB folder."""
    base = KnowledgeBase(str(tmp_path_factory.mktemp("kb")), embedder=embedder)
    base.table()
    return base


def test_every_class_has_at_least_eight_examples_across_frameworks():
    counts = collections.Counter(example.vuln_class for example in load_examples())
    assert set(counts) == set(VulnClass)
    assert min(counts.values()) >= 8
    assert {example.framework for example in load_examples()} == set(FRAMEWORKS)
    for vuln_class in VulnClass:
        assert len({e.framework for e in examples_for(vuln_class)}) >= 3, vuln_class


def test_examples_have_unique_ids_parseable_code_and_an_explanation():
    examples = load_examples()
    assert len({e.id for e in examples}) == len(examples)
    for example in examples:
        assert example.vulnerable != example.fixed, example.id
        for code in (example.vulnerable, example.fixed):
            assert not parse_python(code.encode()).root_node.has_error, example.id
        assert len(example.explanation) > 80 and "\n" not in example.explanation, example.id


def test_a_malformed_knowledge_file_is_a_clear_error():
    with pytest.raises(KnowledgeError, match="unknown vuln_class"):
        parse_examples('vuln_class = "buffer-overflow"\n', "bad.toml")
    with pytest.raises(KnowledgeError, match="lacks fixed"):
        parse_examples('vuln_class = "xss"\n[[example]]\nid = "x"\nframework = "flask"\ntitle = "t"\n'
                       'vulnerable = "a"\nexplanation = "e"\n', "bad.toml")


SQL_VULNERABLE = '''
def find_orders(db, customer):
    query = "SELECT * FROM orders WHERE customer = '%s'" % customer
    return db.cursor().execute(query).fetchall()
'''
PICKLE_VULNERABLE = '''
def restore_session(request):
    state = pickle.loads(base64.b64decode(request.cookies.get("state")))
    return state
'''
SHELL_VULNERABLE = '''
def compress(folder):
    os.system("zip -r archive.zip " + folder)
'''


@pytest.mark.parametrize(("code", "expected"), [
    (SQL_VULNERABLE, VulnClass.SQL_INJECTION),
    (PICKLE_VULNERABLE, VulnClass.INSECURE_DESERIALIZATION),
])
def test_code_with_a_telling_api_finds_an_example_of_its_class_first(kb: KnowledgeBase, code: str,
                                                                      expected: VulnClass):
    nearest = kb.similar(code, k=3)
    assert nearest[0].example.vuln_class == expected
    assert nearest[0].variant == "vulnerable"
    assert 0.0 < nearest[0].score <= 1.0
    assert [n.score for n in nearest] == sorted((n.score for n in nearest), reverse=True)


def test_without_a_class_filter_the_class_is_among_the_nearest_three(kb: KnowledgeBase):
    # MiniLM is no code model: "zip a folder" also resembles the zip-slip examples of path traversal
    assert VulnClass.COMMAND_INJECTION in {n.example.vuln_class for n in kb.similar(SHELL_VULNERABLE, k=3)}


def test_a_class_filter_keeps_results_in_that_class(kb: KnowledgeBase):
    nearest = kb.similar(SHELL_VULNERABLE, VulnClass.PATH_TRAVERSAL, k=4)
    assert len(nearest) == 4
    assert {n.example.vuln_class for n in nearest} == {VulnClass.PATH_TRAVERSAL}


def test_fixed_variants_can_be_searched_for_the_fixer(kb: KnowledgeBase):
    safe_shell = 'def compress(folder):\n    subprocess.run(["zip", "-r", "archive.zip", "--", folder], check=True)\n'
    nearest = kb.similar(safe_shell, VulnClass.COMMAND_INJECTION, k=2, variant="fixed")
    assert all(n.variant == "fixed" for n in nearest)
    either = kb.similar(safe_shell, VulnClass.COMMAND_INJECTION, k=5, variant=None)
    assert len({n.example.id for n in either}) == len(either) == 5


def test_render_quotes_the_example_for_an_explanation(kb: KnowledgeBase):
    text = kb.similar(PICKLE_VULNERABLE, k=1)[0].render()
    assert text.startswith("Similar to \u201c") and "Insecure deserialization" in text


def test_the_table_is_embedded_once_and_reused(kb: KnowledgeBase, embedder: Embedder):
    before = embedder.computed
    again = KnowledgeBase(kb.uri, embedder=embedder)
    again.table()
    assert embedder.computed == before
    assert again.similar(SQL_VULNERABLE, k=1)[0].example.vuln_class == VulnClass.SQL_INJECTION


def test_changed_examples_are_embedded_again(tmp_path: Path, embedder: Embedder):
    first = load_examples()[:3]
    KnowledgeBase(str(tmp_path), embedder=embedder, examples=first).table()
    before = embedder.computed
    KnowledgeBase(str(tmp_path), embedder=embedder, examples=load_examples()[:4]).table()
    assert embedder.computed - before == 8  # both variants of 4 examples


def test_similar_examples_uses_a_shared_base_at_a_given_location(tmp_path: Path, embedder: Embedder):
    found = similar_examples(PICKLE_VULNERABLE, "insecure-deserialization", 2, uri=str(tmp_path / "kb"))
    assert [f.example.vuln_class for f in found] == [VulnClass.INSECURE_DESERIALIZATION] * 2
    assert (tmp_path / "kb" / "knowledge.lance").is_dir()
    with pytest.raises(ValueError):
        similar_examples("x = 1", "not-a-class", uri=str(tmp_path / "kb"))

"""Mutation of real code: a safe sink usage in, its vulnerable mutant out, the original kept as the safe twin."""

from __future__ import annotations

from ai_core.findings import SAFE_LABEL, VulnClass
from ai_core.model.data.dataset import source_of
from ai_core.model.data.mutations import SPLITS, mutants_of, project_split, twin_examples

BOUND_QUERY = '''def find_user(conn, user_id):
    cur = conn.cursor()
    cur.execute("SELECT name FROM users WHERE id = ?", (user_id,))
    return cur.fetchone()
'''

SAFE_YAML = '''def read_config(path):
    with open(path) as handle:
        return yaml.safe_load(handle)
'''

ARGUMENT_LIST = '''def archive(folder, name):
    subprocess.run(["tar", "czf", name, folder], check=True)
'''


def only_mutant(source: str):
    [mutant] = list(mutants_of("pkg", "pkg/mod.py", source))
    return mutant


def test_a_bound_sql_parameter_becomes_an_f_string_in_the_mutant():
    mutant = only_mutant(BOUND_QUERY)
    assert mutant.mutation.vuln_class is VulnClass.SQL_INJECTION
    assert "cur.execute(f\"SELECT name FROM users WHERE id = '{user_id}'\")" in mutant.mutated
    assert mutant.original == BOUND_QUERY
    assert mutant.line == 2


def test_safe_load_becomes_load_with_the_unsafe_loader():
    mutant = only_mutant(SAFE_YAML)
    assert mutant.mutation.vuln_class is VulnClass.INSECURE_DESERIALIZATION
    assert "yaml.load(handle, Loader=yaml.Loader)" in mutant.mutated
    assert "safe_load" not in mutant.mutated


def test_an_argument_list_becomes_a_shell_string():
    mutant = only_mutant(ARGUMENT_LIST)
    assert mutant.mutation.vuln_class is VulnClass.COMMAND_INJECTION
    assert 'subprocess.run(" ".join(["tar", "czf", name, folder]), check=True, shell=True)' in mutant.mutated


def test_the_original_is_kept_as_the_safe_twin_of_its_mutant():
    vulnerable, safe = twin_examples(only_mutant(BOUND_QUERY))
    assert vulnerable.label == VulnClass.SQL_INJECTION.value and safe.label == SAFE_LABEL
    assert "f\"SELECT" in vulnerable.text and "(user_id,)" in safe.text
    assert vulnerable.text.split("\n")[0] == safe.text.split("\n")[0]  # same evidence line: only the code differs
    assert source_of(vulnerable) == source_of(safe) == "mutated"


def test_code_without_a_safe_sink_gives_no_mutant():
    assert list(mutants_of("pkg", "pkg/mod.py", "def add(a, b):\n    return a + b\n")) == []


def test_every_sample_of_a_project_lands_in_the_same_split():
    twins = twin_examples(only_mutant(BOUND_QUERY))
    assert twins[0].family == twins[1].family == "mutated:pkg"
    splits = {name: project_split(name) for name in ("flask", "werkzeug", "jinja2", "requests", "pip", "click",
                                                     "httpx", "urllib3", "botocore", "docker", "mypy", "stdlib.http")}
    assert all(project_split(name) == split for name, split in splits.items())
    assert set(splits.values()) == set(SPLITS)

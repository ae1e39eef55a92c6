"""Imports a fix needs: added once, in isort order, merged into existing from-imports; unused ones dropped."""

from __future__ import annotations

from pathlib import Path

from ai_core.findings import TextEdit
from ai_core.fixes.imports import Helper, Import, ImportNeeds, helper_edit, insertion_edits, removal_edits
from ai_core.fixes.text import apply_edits
from ai_core.parsing import ParsedDocument


def _add(text: str, *imports: Import, root: Path | None = None) -> str:
    doc = ParsedDocument(text)
    return apply_edits(text, insertion_edits(doc, list(imports), root))


def test_stdlib_import_goes_in_sorted_position_in_the_stdlib_block():
    text = "import os\nimport sys\n\nimport requests\n\nprint(os, sys, requests)\n"
    assert _add(text, Import("shlex")) == \
        "import os\nimport shlex\nimport sys\n\nimport requests\n\nprint(os, sys, requests)\n"


def test_straight_imports_come_before_from_imports_in_a_section():
    text = "import os\nfrom pathlib import Path\n\nprint(os, Path)\n"
    assert _add(text, Import("json")) == "import json\nimport os\nfrom pathlib import Path\n\nprint(os, Path)\n"


def test_a_missing_stdlib_section_is_created_before_third_party_imports():
    text = '"""Doc."""\n\nimport requests\nfrom flask import Flask\n\napp = Flask(__name__)\n'
    assert _add(text, Import("os"), Import("urllib.parse", "urlparse")) == (
        '"""Doc."""\n\nimport os\nfrom urllib.parse import urlparse\n\nimport requests\nfrom flask import Flask\n'
        "\napp = Flask(__name__)\n")


def test_a_third_party_section_is_created_after_the_stdlib_one():
    text = "import os\n\n\ndef f():\n    return os.sep\n"
    assert _add(text, Import("markupsafe", "escape")) == \
        "import os\n\nfrom markupsafe import escape\n\n\ndef f():\n    return os.sep\n"


def test_a_name_joins_an_existing_from_import_of_the_same_module():
    text = "from flask import Flask, request\n\napp = Flask(__name__)\n"
    assert _add(text, Import("flask", "session")) == \
        "from flask import Flask, request, session\n\napp = Flask(__name__)\n"
    assert _add(text, Import("flask", "abort")) == "from flask import Flask, abort, request\n\napp = Flask(__name__)\n"
    assert _add(text, Import("flask", "Blueprint")) == \
        "from flask import Blueprint, Flask, request\n\napp = Flask(__name__)\n"


def test_a_file_without_imports_gets_them_after_its_docstring_and_future_import_stays_first():
    assert _add('"""Settings."""\n\nDEBUG = True\n', Import("os")) == '"""Settings."""\n\nimport os\n\nDEBUG = True\n'
    text = "from __future__ import annotations\n\nX = 1\n"
    assert _add(text, Import("os")) == "from __future__ import annotations\n\nimport os\n\nX = 1\n"


def test_an_import_already_present_is_not_added_again():
    text = "import os\nfrom markupsafe import escape\n"
    assert _add(text, Import("os"), Import("markupsafe", "escape")) == text


def test_first_party_modules_get_their_own_section(tmp_path: Path):
    (tmp_path / "shop").mkdir()
    text = "import os\n\nimport requests\n\nprint(os, requests)\n"
    assert _add(text, Import("shop.models", "Order"), root=tmp_path) == \
        "import os\n\nimport requests\n\nfrom shop.models import Order\n\nprint(os, requests)\n"


def test_crlf_files_keep_crlf():
    text = "import sys\r\n\r\nprint(sys)\r\n"
    assert _add(text, Import("os")) == "import os\r\nimport sys\r\n\r\nprint(sys)\r\n"


def test_ref_reuses_aliases_and_existing_from_imports():
    doc = ParsedDocument("import subprocess as sp\nfrom markupsafe import escape\nimport os.path\n")
    needs = ImportNeeds(doc)
    assert needs.ref("subprocess", "run") == "sp.run"
    assert needs.ref("markupsafe", "escape") == "escape"
    assert needs.ref("os.path", "realpath") == "os.path.realpath"
    assert needs.ref("shlex", "quote") == "shlex.quote"
    assert needs.needed == [Import("shlex")]


def test_ref_aliases_a_name_that_the_file_already_uses_for_something_else():
    doc = ParsedDocument("escape = None\n\ndef f(html):\n    return html\n")
    needs = ImportNeeds(doc)
    assert needs.ref("markupsafe", "escape") == "markupsafe_escape"
    assert needs.ref("html", "escape") == "html_escape"
    assert needs.needed == [Import("markupsafe", "escape", "markupsafe_escape"),
                            Import("html", "escape", "html_escape")]


def test_an_import_left_unused_by_a_fix_is_removed_and_one_still_used_is_kept():
    text = "import json\nimport pickle\n\nA = pickle.loads(b'')\n"
    doc = ParsedDocument(text)
    call = text.index("pickle.loads")
    edits = [TextEdit(call, call + len("pickle.loads"), "json.loads")]
    assert apply_edits(text, edits + removal_edits(doc, ["pickle"], edits)) == "import json\n\nA = json.loads(b'')\n"
    kept = "import pickle\n\nA = pickle.loads(b'')\nB = pickle.dumps(1)\n"
    doc = ParsedDocument(kept)
    call = kept.index("pickle.loads")
    edits = [TextEdit(call, call + len("pickle.loads"), "json.loads")]
    assert removal_edits(doc, ["pickle"], edits) == []


def test_helpers_are_added_once_after_the_imports():
    text = "import os\n\n\ndef main():\n    return os.sep\n"
    helper = Helper("_secret", "def _secret() -> str:\n    return os.environ['S']")
    doc = ParsedDocument(text)
    edit = helper_edit(doc, [helper])
    assert edit is not None
    patched = apply_edits(text, [edit])
    assert patched == ("import os\n\n\ndef _secret() -> str:\n    return os.environ['S']\n\n\n"
                       "def main():\n    return os.sep\n")
    assert helper_edit(ParsedDocument(patched), [helper]) is None

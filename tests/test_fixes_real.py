"""Rewriters for the shapes real code has: each turns a vulnerable file into the exact fixed file (verified), and
is absent on a shape that is not its own; which rewriters are offered for review-tier findings."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import SimpleNamespace

import pytest

from ai_core.analysis import Analyzer
from ai_core.analysis.project import project_for_scan
from ai_core.classes.command_injection.rewriters import argument_list, quote_at_call_site, split_command
from ai_core.classes.insecure_deserialization.rewriters import torch_weights_only, yaml_safe_load
from ai_core.classes.sensitive_data_exposure.rewriters import redact_logged_secrets
from ai_core.classes.sql_injection.rewriters import bound_parameters, column_allowlist
from ai_core.classes.ssrf.rewriters import host_allowlist
from ai_core.classes.xss.rewriters import escape_before_markup
from ai_core.config import Settings, load_pyproject
from ai_core.findings import Finding, VulnClass
from ai_core.fixes import Fixer
from ai_core.fixes.context import FixContext, is_source_independent, project_info
from ai_core.fixes.engine import REVIEW_TITLE, offered_rewriters
from ai_core.parsing import ParsedDocument

SHELL_HOOK = '''import subprocess

from flask import Flask
from flask_login import current_user

app = Flask(__name__)
HOOK = "/usr/local/bin/notify %u"


@app.route("/notify")
def notify():
    command = HOOK.replace("%u", current_user.username)
    p = subprocess.Popen(command, stdout=subprocess.PIPE, shell=True)
    return p.communicate()[0]
'''

SHELL_HOOK_FIXED = '''import shlex
import subprocess

from flask import Flask
from flask_login import current_user

app = Flask(__name__)
HOOK = "/usr/local/bin/notify %u"


@app.route("/notify")
def notify():
    command = HOOK.replace("%u", current_user.username)
    p = subprocess.Popen(shlex.split(command), stdout=subprocess.PIPE)
    return p.communicate()[0]
'''

SHELL_FSTRING = '''import subprocess

from flask import Flask, request

app = Flask(__name__)


@app.route("/ping")
def ping():
    host = request.args["host"]
    return subprocess.run(f"ping -c 1 {host}", shell=True, capture_output=True).stdout
'''

ORDER_BY = '''import sqlite3

from flask import Flask, request

app = Flask(__name__)


@app.route("/items")
def items():
    sort = request.args.get("sort", "name")
    db = sqlite3.connect("app.db")
    query = f"SELECT id, name FROM items ORDER BY {sort}"
    return {"rows": db.execute(query).fetchall()}
'''

ORDER_BY_FIXED = '''import sqlite3

from flask import Flask, request

SORTABLE_COLUMNS = frozenset({"id", "name"})
"""Columns a query may be sorted or grouped by (add yours)."""

app = Flask(__name__)


@app.route("/items")
def items():
    sort = request.args.get("sort", "name")
    db = sqlite3.connect("app.db")
    if sort not in SORTABLE_COLUMNS:
        raise ValueError(f"refusing to sort by {sort!r}: not an allowed column")
    query = f"SELECT id, name FROM items ORDER BY {sort}"
    return {"rows": db.execute(query).fetchall()}
'''

WHERE_VALUE = '''import sqlite3

from flask import Flask, request

app = Flask(__name__)


@app.route("/user")
def user():
    name = request.args["name"]
    db = sqlite3.connect("app.db")
    query = f"SELECT id FROM users WHERE name = '{name}'"
    return {"rows": db.execute(query).fetchall()}
'''

FETCH = '''import requests
from flask import Flask, request

app = Flask(__name__)


@app.route("/fetch")
def fetch():
    url = request.args["url"]
    return requests.get(url, timeout=5).text
'''

FETCH_FIXED_FROM_SETTINGS = '''from urllib.parse import urlparse

import requests
from flask import Flask, request

ALLOWED_URL_HOSTS = frozenset({"api.example.com", "cdn.example.com"})
"""Hosts this module may send requests to (allowed_hosts of [tool.coderev])."""

app = Flask(__name__)


@app.route("/fetch")
def fetch():
    url = request.args["url"]
    if urlparse(url).hostname not in ALLOWED_URL_HOSTS:
        raise ValueError("refusing a request to a host not in ALLOWED_URL_HOSTS")
    return requests.get(url, timeout=5).text
'''

TWO_REQUESTS = '''import requests
from flask import Flask, request

app = Flask(__name__)


def scrape(image_url):
    if isinstance(image_url, str):
        return requests.get(image_url, timeout=5).content
    for url in image_url:
        response = requests.get(url, timeout=5)
        if response.ok:
            return response.content
    return b""


@app.route("/image")
def image():
    return scrape(request.args["url"])
'''

TAR = '''import sys
import tarfile


def restore(archive, target):
    with tarfile.open(archive) as tar:
        tar.extractall(target)


if __name__ == "__main__":
    restore(sys.argv[1], sys.argv[2])
'''

TAR_CHECKED = '''import os
import sys
import tarfile


def checked_members(tar, dest):
    """The archive's members, refusing any that would be written, or link, outside `dest`."""
    base = os.path.realpath(dest)
    for member in tar.getmembers():
        target = os.path.realpath(os.path.join(base, member.name))
        paths = [target]
        if member.issym() or member.islnk():
            start = os.path.dirname(target) if member.issym() else base
            paths.append(os.path.realpath(os.path.join(start, member.linkname)))
        if any(p != base and not p.startswith(base + os.sep) for p in paths):
            raise ValueError(
                f"refusing to extract {member.name!r}: it leads outside {dest}"
            )
        yield member


def restore(archive, target):
    with tarfile.open(archive) as tar:
        tar.extractall(target, members=checked_members(tar, target))


if __name__ == "__main__":
    restore(sys.argv[1], sys.argv[2])
'''


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    """Rules only: the model is not part of these specifications."""
    return Analyzer(Settings(model_enabled=False))


def first_finding(analyzer: Analyzer, source: str, path: Path, vuln_class: str) -> tuple[ParsedDocument, Finding]:
    doc = ParsedDocument(source, path=str(path))
    return doc, next(f for f in analyzer.analyze(doc, str(path)) if f.vuln_class.value == vuln_class)


def write_pyproject(root: Path, text: str) -> None:
    (root / "pyproject.toml").write_text(text, encoding="utf-8")


def test_a_shell_command_made_elsewhere_is_split_with_shlex_and_run_without_a_shell(analyzer, tmp_path):
    doc, finding = first_finding(analyzer, SHELL_HOOK, tmp_path / "app.py", "command-injection")
    proposal = Fixer(analyzer, tmp_path).propose(doc, finding)
    assert proposal.source == "rewriter:split_command", proposal.rejected
    assert proposal.after == SHELL_HOOK_FIXED
    assert "no longer works" in proposal.note


def test_split_command_leaves_a_command_built_here_from_parts_to_the_argument_list(analyzer, tmp_path):
    doc, finding = first_finding(analyzer, SHELL_FSTRING, tmp_path / "app.py", "command-injection")
    assert split_command(FixContext(doc, finding)) is None
    assert Fixer(analyzer, tmp_path).propose(doc, finding).source == "rewriter:argument_list"


def test_an_order_by_column_from_the_request_must_be_one_of_the_allowed_columns(analyzer, tmp_path):
    doc, finding = first_finding(analyzer, ORDER_BY, tmp_path / "app.py", "sql-injection")
    proposal = Fixer(analyzer, tmp_path).propose(doc, finding)
    assert proposal.source == "rewriter:column_allowlist", proposal.rejected
    assert proposal.after == ORDER_BY_FIXED
    assert proposal.fix is not None and "SORTABLE_COLUMNS" in proposal.fix.title


def test_the_column_allowlist_is_absent_where_the_value_is_a_value_not_a_name(analyzer, tmp_path):
    doc, finding = first_finding(analyzer, WHERE_VALUE, tmp_path / "app.py", "sql-injection")
    assert column_allowlist(FixContext(doc, finding)) is None
    assert Fixer(analyzer, tmp_path).propose(doc, finding).source == "rewriter:bound_parameters"


def test_the_ssrf_allowlist_is_the_allowed_hosts_of_the_workspace_settings(tmp_path):
    write_pyproject(tmp_path, '[tool.coderev]\nallowed_hosts = ["api.example.com", "cdn.example.com"]\n')
    settings, warnings = load_pyproject(tmp_path)
    assert not warnings
    analyzer = Analyzer(dataclasses.replace(settings, model_enabled=False))
    doc, finding = first_finding(analyzer, FETCH, tmp_path / "app.py", "ssrf")
    fixer = Fixer(analyzer, tmp_path, project=project_info(tmp_path))
    proposal = fixer.propose(doc, finding)
    assert proposal.after == FETCH_FIXED_FROM_SETTINGS
    assert proposal.fix is not None and "allowed_hosts of [tool.coderev]" in proposal.fix.title


def test_without_allowed_hosts_the_ssrf_fix_title_names_the_variable_to_set(analyzer, tmp_path):
    doc, finding = first_finding(analyzer, FETCH, tmp_path / "app.py", "ssrf")
    proposal = Fixer(analyzer, tmp_path, project=project_info(tmp_path)).propose(doc, finding)
    assert proposal.fix is not None and proposal.fix.title.endswith("(set ALLOWED_URL_HOSTS)")
    assert "ALLOWED_URL_HOSTS" in proposal.note


def test_a_flow_reaching_two_requests_in_a_helper_gets_both_guarded_in_one_fix(analyzer, tmp_path):
    doc, finding = first_finding(analyzer, TWO_REQUESTS, tmp_path / "app.py", "ssrf")
    proposal = Fixer(analyzer, tmp_path).propose(doc, finding)
    assert proposal.fix is not None, proposal.rejected
    assert proposal.after.count("if urlparse(") == 2
    assert not [f for f in analyzer.analyze_text(proposal.after, str(tmp_path / "app.py"))
                if f.vuln_class.value == "ssrf"]


def test_tar_members_are_checked_when_requires_python_allows_pythons_before_3_12(analyzer, tmp_path):
    write_pyproject(tmp_path, '[project]\nname = "x"\nrequires-python = ">=3.9"\n')
    doc, finding = first_finding(analyzer, TAR, tmp_path / "app.py", "path-traversal")
    proposal = Fixer(analyzer, tmp_path, project=project_info(tmp_path)).propose(doc, finding)
    assert proposal.source == "rewriter:tar_filter", proposal.rejected
    assert proposal.after == TAR_CHECKED


def test_tar_extraction_uses_the_data_filter_when_requires_python_is_3_12_or_later(analyzer, tmp_path):
    write_pyproject(tmp_path, '[project]\nname = "x"\nrequires-python = ">=3.12"\n')
    doc, finding = first_finding(analyzer, TAR, tmp_path / "app.py", "path-traversal")
    proposal = Fixer(analyzer, tmp_path, project=project_info(tmp_path)).propose(doc, finding)
    assert 'tar.extractall(target, filter="data")' in proposal.after
    assert "checked_members" not in proposal.after


def test_rewrites_right_whatever_the_source_are_marked_and_allowlists_are_not():
    assert all(is_source_independent(r) for r in (bound_parameters, argument_list, yaml_safe_load,
                                                   torch_weights_only))
    assert not any(is_source_independent(r) for r in (host_allowlist, column_allowlist, split_command))


def test_a_flow_finding_is_offered_every_rewriter_of_its_class(analyzer, tmp_path):
    _doc, finding = first_finding(analyzer, FETCH, tmp_path / "app.py", "ssrf")
    assert host_allowlist in offered_rewriters(finding)


def test_a_review_finding_is_offered_only_source_independent_fixes_and_says_so(analyzer, tmp_path):
    if "tier" not in {f.name for f in dataclasses.fields(Finding)}:
        pytest.skip("Finding has no tier field yet (another engineer adds it); every finding is tier 'flow'")
    doc, finding = first_finding(analyzer, FETCH, tmp_path / "app.py", "ssrf")
    review = dataclasses.replace(finding, tier="review")  # type: ignore[call-arg]
    assert offered_rewriters(review) == ()
    proposal = Fixer(analyzer, tmp_path).propose(doc, review)
    assert proposal.fix is None and "review finding" in proposal.reason
    doc, finding = first_finding(analyzer, WHERE_VALUE, tmp_path / "app.py", "sql-injection")
    fixed = Fixer(analyzer, tmp_path).propose(doc, dataclasses.replace(finding, tier="review"))  # type: ignore
    assert fixed.fix is not None and fixed.fix.title.endswith(REVIEW_TITLE)


WHOLE_TEMPLATE = '''from flask import Flask, render_template_string, request

app = Flask(__name__)


@app.route("/preview")
def preview():
    template = request.args["template"]
    return render_template_string(template)
'''

WHOLE_TEMPLATE_FIXED = '''from flask import Flask, render_template_string, request

app = Flask(__name__)


@app.route("/preview")
def preview():
    template = request.args["template"]
    return render_template_string("{{ template }}", template=template)
'''

BUILT_TEMPLATE = '''from flask import Flask, render_template_string, request

app = Flask(__name__)


@app.route("/hello")
def hello():
    name = request.args["name"]
    return render_template_string(f"<p>Hello {name}</p>")
'''


def test_an_untrusted_template_text_is_rendered_as_a_variable_not_as_a_template(analyzer, tmp_path):
    doc, finding = first_finding(analyzer, WHOLE_TEMPLATE, tmp_path / "app.py", "code-injection")
    proposal = Fixer(analyzer, tmp_path).propose(doc, finding)
    assert proposal.source == "rewriter:template_variables", proposal.rejected
    assert proposal.after == WHOLE_TEMPLATE_FIXED


def test_a_template_built_here_with_values_gets_the_values_as_variables(analyzer, tmp_path):
    doc, finding = first_finding(analyzer, BUILT_TEMPLATE, tmp_path / "app.py", "code-injection")
    assert Fixer(analyzer, tmp_path).propose(doc, finding).source == "rewriter:template_variables"


def test_split_command_is_absent_when_the_whole_command_is_passed_through(analyzer, tmp_path):
    text = ('import subprocess\nimport sys\n\n\ndef run_hook(hook):\n'
            '    subprocess.run(hook, shell=True, check=True)\n\n\nrun_hook(sys.argv[1])\n')
    doc, finding = first_finding(analyzer, text, tmp_path / "hooks.py", "command-injection")
    assert split_command(FixContext(doc, finding)) is None


HELPER_TOOLS = '''import subprocess


def run(cmd):
    return subprocess.run(cmd, shell=True, capture_output=True).stdout
'''

HELPER_CALLER = '''from flask import Flask, request

from tools import run

app = Flask(__name__)


@app.route("/ping")
def ping():
    host = request.args["host"]
    return run(f"ping -c 1 {host}")
'''

HELPER_CALLER_FIXED = '''import shlex

from flask import Flask, request

from tools import run

app = Flask(__name__)


@app.route("/ping")
def ping():
    host = request.args["host"]
    return run(f"ping -c 1 {shlex.quote(host)}")
'''


def test_a_shell_helper_fed_a_built_command_gets_the_values_quoted_at_the_call_site(tmp_path, monkeypatch):
    write_pyproject(tmp_path, '[project]\nname = "x"\n')
    (tmp_path / "tools.py").write_text(HELPER_TOOLS, encoding="utf-8")
    (tmp_path / "app.py").write_text(HELPER_CALLER, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    analyzer = Analyzer(Settings(model_enabled=False), project=project_for_scan(tmp_path))
    doc, finding = first_finding(analyzer, HELPER_CALLER, Path("app.py"), "command-injection")
    proposal = Fixer(analyzer, tmp_path).propose(doc, finding)
    assert proposal.source == "rewriter:quote_at_call_site", proposal.rejected
    assert proposal.after == HELPER_CALLER_FIXED and proposal.files == ()


def test_quote_at_call_site_is_absent_when_the_shell_call_is_right_here(analyzer, tmp_path):
    doc, finding = first_finding(analyzer, SHELL_FSTRING, tmp_path / "app.py", "command-injection")
    assert quote_at_call_site(FixContext(doc, finding)) is None


MARKUP_AFTER = '''from flask import Flask, request
from markupsafe import Markup

app = Flask(__name__)


@app.route("/comment")
def comment():
    text = request.args["comment"]
    return Markup(text.replace("\\n", "<br>"))
'''

MARKUP_AFTER_FIXED = '''from flask import Flask, request
from markupsafe import Markup, escape

app = Flask(__name__)


@app.route("/comment")
def comment():
    text = request.args["comment"]
    return Markup(str(escape(text)).replace("\\n", "<br>"))
'''

MARKUP_FORMAT = '''from flask import Flask, request
from markupsafe import Markup

app = Flask(__name__)


@app.route("/hello")
def hello():
    name = request.args["name"]
    return Markup("<b>%s</b>" % name)
'''


def test_untrusted_text_is_escaped_before_the_code_adds_markup_to_it(analyzer, tmp_path):
    doc, finding = first_finding(analyzer, MARKUP_AFTER, tmp_path / "app.py", "xss")
    proposal = Fixer(analyzer, tmp_path).propose(doc, finding)
    assert proposal.source == "rewriter:escape_before_markup", proposal.rejected
    assert proposal.after == MARKUP_AFTER_FIXED


def test_escape_before_markup_is_absent_when_the_value_is_formatted_into_markup(analyzer, tmp_path):
    doc, finding = first_finding(analyzer, MARKUP_FORMAT, tmp_path / "app.py", "xss")
    assert escape_before_markup(FixContext(doc, finding)) is None
    assert Fixer(analyzer, tmp_path).propose(doc, finding).source == "rewriter:escape_values"


def test_for_a_review_tier_the_sql_fixes_offered_are_bound_parameters_not_the_column_allowlist():
    review = SimpleNamespace(vuln_class=VulnClass.SQL_INJECTION, tier="review")  # any object with a tier
    assert offered_rewriters(review) == (bound_parameters,)  # type: ignore[arg-type]
    flow = SimpleNamespace(vuln_class=VulnClass.SQL_INJECTION, tier="flow")
    assert offered_rewriters(flow) == (bound_parameters, column_allowlist)  # type: ignore[arg-type]


LOGGED_DICT = '''import logging

log = logging.getLogger(__name__)


def connect(user, password):
    log.warning("settings: %s", {"user": user, "password": password})
    return user
'''

LOGGED_DICT_FIXED = '''import logging

log = logging.getLogger(__name__)


def connect(user, password):
    log.warning("settings: %s", {"user": user})
    return user
'''


def test_a_logged_dict_loses_its_secret_entries_and_keeps_the_others(analyzer, tmp_path):
    doc, finding = first_finding(analyzer, LOGGED_DICT, tmp_path / "app.py", "sensitive-data-exposure")
    proposal = Fixer(analyzer, tmp_path).propose(doc, finding)
    assert proposal.source == "rewriter:redact_logged_secrets", proposal.rejected
    assert proposal.after == LOGGED_DICT_FIXED


def test_log_redaction_is_absent_where_no_log_call_is(analyzer, tmp_path):
    doc, finding = first_finding(analyzer, SHELL_FSTRING, tmp_path / "app.py", "command-injection")
    assert redact_logged_secrets(FixContext(doc, finding)) is None

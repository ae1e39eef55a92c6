"""Fixes for checks that look right and are not: GET routes that change data, containment by characters, one-pass
'../' stripping, local-only checks on a client header, a setting decided per request from a client header. Each
vulnerable file becomes the exact fixed file through the real Fixer; its safe twin has no finding and no fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from ai_core.analysis import Analyzer
from ai_core.classes.broken_auth.rewriters import connection_address_check
from ai_core.classes.csrf.rewriters import post_only
from ai_core.classes.path_traversal.rewriters import commonpath_containment, normalised_relative_path
from ai_core.classes.security_misconfiguration.rewriters import setting_from_configuration
from ai_core.config import Settings
from ai_core.findings import Finding
from ai_core.fixes import Fixer
from ai_core.fixes.context import FixContext, Rewriter, is_source_independent
from ai_core.fixes.engine import REVIEW_TITLE, Proposal
from ai_core.parsing import ParsedDocument

FLASK_GET_DELETE = '''from flask import Flask, redirect

from notes import store

app = Flask(__name__)


@app.route("/notes/<int:note_id>/delete", methods=["GET", "DELETE"])
def delete_note(note_id):
    store.delete_note(note_id)
    return redirect("/")
'''

FLASK_POST_DELETE = FLASK_GET_DELETE.replace('methods=["GET", "DELETE"]', 'methods=["POST", "DELETE"]')

DJANGO_GET_VOTE = '''from django.shortcuts import get_object_or_404, redirect

from .models import Choice


def vote(request, choice_id):
    choice = get_object_or_404(Choice, pk=choice_id)
    if request.GET.get("up"):
        choice.votes += 1
        choice.save()
    return redirect("/polls/")
'''

DJANGO_POST_VOTE = '''from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from .models import Choice


@require_POST
def vote(request, choice_id):
    choice = get_object_or_404(Choice, pk=choice_id)
    if request.GET.get("up"):
        choice.votes += 1
        choice.save()
    return redirect("/polls/")
'''

PREFIX_EXTRACT = '''import os
import tarfile


def unpack(archive, dest):
    def inside(base, target):
        base = os.path.abspath(base)
        target = os.path.abspath(target)
        return os.path.commonprefix([base, target]) == base

    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            if not inside(dest, os.path.join(dest, member.name)):
                raise ValueError(member.name)
        tar.extractall(dest)
'''

COMMONPATH_EXTRACT = PREFIX_EXTRACT.replace("commonprefix", "commonpath")

ONE_PASS_STRIP = '''import os

UPLOADS = "/srv/uploads"


def upload_path(folder):
    folder = folder.replace("../", "")
    return os.path.join(UPLOADS, folder)
'''

NORMPATH_STRIP = '''import os
import posixpath

UPLOADS = "/srv/uploads"


def upload_path(folder):
    folder = posixpath.normpath("/" + folder).lstrip("/")
    return os.path.join(UPLOADS, folder)
'''

LOOP_STRIP = ONE_PASS_STRIP.replace('    folder = folder.replace("../", "")',
                                    '    while "../" in folder:\n        folder = folder.replace("../", "")')

HOST_OR_PEER = '''from functools import wraps

from flask import request


def local_only(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        peer = request.environ.get("REMOTE_ADDR", "")
        host = request.environ.get("HTTP_HOST", "")
        if peer in ("127.0.0.1", "::1") or host in ("127.0.0.1:8080", "[::1]:8080"):
            return view(*args, **kwargs)
        return "Forbidden", 403

    return wrapper
'''

PEER_ONLY = HOST_OR_PEER.replace('''        host = request.environ.get("HTTP_HOST", "")
        if peer in ("127.0.0.1", "::1") or host in ("127.0.0.1:8080", "[::1]:8080"):''',
                                 '''        if peer in ("127.0.0.1", "::1"):''')

HOST_ONLY = '''from flask import request


def is_local():
    host = request.headers.get("Host", "")
    return host in ("127.0.0.1:8080", "[::1]:8080")
'''

REMOTE_ADDR_ONLY = '''from flask import request


def is_local():
    return request.remote_addr in ("127.0.0.1", "::1")
'''

HOOK_SETTING = '''import flask


def configure(app):
    app.config["PREFERRED_URL_SCHEME"] = "https"

    # follow the scheme the client says it used
    @app.before_request
    def secure_cookie_per_request():
        proto = flask.request.headers.get("X-Forwarded-Proto", "")
        flask.current_app.config["SESSION_COOKIE_SECURE"] = proto == "https"
'''

CONFIGURED_SETTING = '''import os


def configure(app):
    app.config["PREFERRED_URL_SCHEME"] = "https"

    app.config["SESSION_COOKIE_SECURE"] = (
        os.environ.get("SESSION_COOKIE_SECURE", "1") == "1"
    )
'''


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    """Rules only: the model is not part of these specifications."""
    return Analyzer(Settings(model_enabled=False))


def first_finding(analyzer: Analyzer, source: str, path: Path, rule: str) -> tuple[ParsedDocument, Finding]:
    doc = ParsedDocument(source, path=str(path))
    finding = next(f for f in analyzer.analyze(doc, str(path)) if f.rule == rule)
    return doc, finding


def verified(analyzer: Analyzer, source: str, path: Path, rule: str, rewriter: Rewriter) -> Proposal:
    doc, finding = first_finding(analyzer, source, path, rule)
    proposal = Fixer(analyzer, path.parent).propose(doc, finding)
    assert proposal.source == f"rewriter:{rewriter.__name__}", proposal.rejected
    assert proposal.fix is not None
    return proposal


def assert_no_finding_and_no_fix(analyzer: Analyzer, safe: str, vulnerable: str, path: Path, rule: str,
                                 rewriter: Rewriter) -> None:
    assert [f for f in analyzer.analyze_text(safe, str(path)) if f.rule == rule] == []
    _doc, finding = first_finding(analyzer, vulnerable, path, rule)
    assert rewriter(FixContext(ParsedDocument(safe, path=str(path)), finding)) is None


def test_a_flask_route_that_deletes_on_get_accepts_post_instead(analyzer, tmp_path):
    proposal = verified(analyzer, FLASK_GET_DELETE, tmp_path / "views.py", "csrf.state-change-on-get.review",
                        post_only)
    assert proposal.after == FLASK_POST_DELETE
    assert proposal.fix is not None and proposal.fix.title.endswith(REVIEW_TITLE)
    assert "no longer answers GET" in proposal.fix.title and "forms that POST" in proposal.note


def test_a_flask_route_that_accepts_only_post_gets_no_method_fix(analyzer, tmp_path):
    assert_no_finding_and_no_fix(analyzer, FLASK_POST_DELETE, FLASK_GET_DELETE, tmp_path / "views.py",
                                 "csrf.state-change-on-get.review", post_only)


def test_a_django_view_that_saves_on_get_gets_require_post(analyzer, tmp_path):
    proposal = verified(analyzer, DJANGO_GET_VOTE, tmp_path / "views.py", "csrf.state-change-on-get.review",
                        post_only)
    assert proposal.after == DJANGO_POST_VOTE
    assert proposal.fix is not None and "@require_POST" in proposal.fix.title


def test_a_django_view_with_require_post_gets_no_method_fix(analyzer, tmp_path):
    assert_no_finding_and_no_fix(analyzer, DJANGO_POST_VOTE, DJANGO_GET_VOTE, tmp_path / "views.py",
                                 "csrf.state-change-on-get.review", post_only)


def test_commonprefix_containment_becomes_commonpath(analyzer, tmp_path):
    proposal = verified(analyzer, PREFIX_EXTRACT, tmp_path / "unpack.py", "path.commonprefix-containment",
                        commonpath_containment)
    assert proposal.after == COMMONPATH_EXTRACT


def test_commonpath_containment_has_no_finding_and_no_fix(analyzer, tmp_path):
    assert_no_finding_and_no_fix(analyzer, COMMONPATH_EXTRACT, PREFIX_EXTRACT, tmp_path / "unpack.py",
                                 "path.commonprefix-containment", commonpath_containment)


def test_a_one_pass_dotdot_strip_becomes_normpath_under_a_root(analyzer, tmp_path):
    proposal = verified(analyzer, ONE_PASS_STRIP, tmp_path / "uploads.py", "path.one-pass-dotdot-strip",
                        normalised_relative_path)
    assert proposal.after == NORMPATH_STRIP


def test_a_strip_repeated_until_no_dotdot_is_left_has_no_finding_and_no_fix(analyzer, tmp_path):
    path = tmp_path / "uploads.py"
    assert [f for f in analyzer.analyze_text(LOOP_STRIP, str(path)) if f.rule == "path.one-pass-dotdot-strip"] == []
    assert_no_finding_and_no_fix(analyzer, NORMPATH_STRIP, ONE_PASS_STRIP, path, "path.one-pass-dotdot-strip",
                                 normalised_relative_path)


def test_the_host_header_half_of_a_local_only_check_is_dropped(analyzer, tmp_path):
    proposal = verified(analyzer, HOST_OR_PEER, tmp_path / "guards.py", "auth.spoofable-address-check",
                        connection_address_check)
    assert proposal.after == PEER_ONLY
    assert proposal.fix is not None and "not the HTTP_HOST header" in proposal.fix.title


def test_a_host_header_local_check_compares_the_connection_address(analyzer, tmp_path):
    proposal = verified(analyzer, HOST_ONLY, tmp_path / "guards.py", "auth.spoofable-address-check",
                        connection_address_check)
    assert proposal.after == HOST_ONLY.replace('''    host = request.headers.get("Host", "")
    return host in ("127.0.0.1:8080", "[::1]:8080")''', '''    return request.remote_addr in ("127.0.0.1", "::1")''')


def test_a_check_on_the_connection_address_has_no_finding_and_no_fix(analyzer, tmp_path):
    assert_no_finding_and_no_fix(analyzer, REMOTE_ADDR_ONLY, HOST_ONLY, tmp_path / "guards.py",
                                 "auth.spoofable-address-check", connection_address_check)


def test_a_setting_chosen_per_request_from_a_header_is_configured_once(analyzer, tmp_path):
    proposal = verified(analyzer, HOOK_SETTING, tmp_path / "app.py", "misconfig.setting-from-client-header",
                        setting_from_configuration)
    assert proposal.after == CONFIGURED_SETTING
    assert "SESSION_COOKIE_SECURE=0" in proposal.note


def test_a_setting_configured_once_has_no_finding_and_no_fix(analyzer, tmp_path):
    assert_no_finding_and_no_fix(analyzer, CONFIGURED_SETTING, HOOK_SETTING, tmp_path / "app.py",
                                 "misconfig.setting-from-client-header", setting_from_configuration)


def test_only_the_method_restriction_is_offered_for_review_findings():
    assert is_source_independent(post_only)
    assert not is_source_independent(setting_from_configuration)

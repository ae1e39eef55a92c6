"""The five classes beyond the seed's twelve: each behaviour with its vulnerable and safe twin side by side."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from ai_core.analysis import Analyzer
from ai_core.config import Settings
from ai_core.findings import VulnClass
from ai_core.scan import scan_path

ANALYZER = Analyzer(Settings(model_enabled=False))


def flagged(code: str, path: str = "app.py") -> set[tuple[int, str]]:
    """(1-based line, class) of every finding in `code`."""
    return {(f.span.start_line + 1, f.vuln_class.value)
            for f in ANALYZER.analyze_text(textwrap.dedent(code).lstrip("\n"), path)}


def rules(code: str, path: str = "app.py") -> set[tuple[int, str]]:
    """(1-based line, rule id) of every finding in `code`."""
    return {(f.span.start_line + 1, f.rule) for f in ANALYZER.analyze_text(textwrap.dedent(code).lstrip("\n"), path)}


FLASK = "from flask import Flask, request, redirect, render_template_string, abort, url_for\napp = Flask(__name__)\n"
DJANGO = "from django.http import HttpResponseRedirect, JsonResponse\n"


def route(body: str, extra_imports: str = "") -> str:
    """A Flask route whose body is `body` (4-space indented lines), after FLASK and `extra_imports`."""
    return FLASK + extra_imports + "@app.route('/r', methods=['GET', 'POST'])\ndef r():\n" + \
        textwrap.indent(textwrap.dedent(body).strip("\n"), "    ") + "\n"


def line_of(code: str, needle: str) -> int:
    """The 1-based line of the first line containing `needle` (in the code as `flagged` analyses it)."""
    lines = textwrap.dedent(code).lstrip("\n").splitlines()
    return next(n for n, text in enumerate(lines, 1) if needle in text)


# ---------------------------------------------------------------- metadata

@pytest.mark.parametrize(("vuln_class", "cwes"), [
    (VulnClass.CODE_INJECTION, (94, 95, 1336)), (VulnClass.XXE, (611, 776)), (VulnClass.OPEN_REDIRECT, (601,)),
    (VulnClass.CSRF, (352,)), (VulnClass.INSECURE_RANDOMNESS, (330, 338)),
])
def test_each_new_class_names_the_cwe_a_reviewer_would_name_first(vuln_class: VulnClass, cwes: tuple[int, ...]):
    assert vuln_class.cwe == cwes[0]
    assert vuln_class.cwes == cwes


# ---------------------------------------------------------------- code injection

def test_eval_of_request_data_is_code_injection_not_command_injection():
    code = route("return {'v': eval(request.args['expr'])}")
    line = line_of(code, "eval(")
    assert (line, "code-injection") in flagged(code)
    assert (line, "command-injection") not in flagged(code)


def test_literal_eval_of_request_data_is_silent():
    code = route("return {'v': ast.literal_eval(request.args['expr'])}", "import ast\n")
    assert not flagged(code)


@pytest.mark.parametrize("call", ["exec(request.form['hook'])", "compile(request.form['hook'], 'h', 'exec')"])
def test_exec_and_compile_of_request_data_are_code_injection(call: str):
    code = route(f"{call}\nreturn 'ok'")
    assert (line_of(code, call.split("(")[0] + "("), "code-injection") in flagged(code)


def test_exec_of_a_constant_is_silent():
    code = route("exec('total = 1')\nreturn 'ok'")
    assert not flagged(code)


def test_render_template_string_built_from_request_data_is_template_injection():
    code = route("return render_template_string('<b>' + request.args['name'] + '</b>')")
    line = line_of(code, "render_template_string('<b>'")
    assert (line, "code.template-injection") in rules(code)
    assert (line, "xss") not in flagged(code)


def test_render_template_string_with_the_value_as_a_variable_is_silent():
    code = route("return render_template_string('<b>{{ name }}</b>', name=request.args['name'])")
    assert not flagged(code)


def test_jinja2_template_and_from_string_of_request_data_are_template_injection():
    code = route("""
        t = jinja2.Template(request.form['tpl']).render()
        return jinja2.Environment(autoescape=True).from_string(request.form['tpl']).render()
    """, "import jinja2\n")
    assert {(line_of(code, "jinja2.Template("), "code-injection"),
            (line_of(code, "from_string("), "code-injection")} <= flagged(code)


def test_jinja2_template_of_a_constant_rendered_with_request_data_is_silent():
    code = route("return jinja2.Template('<b>{{ n }}</b>', autoescape=True).render(n=request.form['n'])",
                 "import jinja2\n")
    assert not flagged(code)


def test_mako_template_of_request_data_is_template_injection():
    code = route("return Template(request.args['t']).render()", "from mako.template import Template\n")
    assert (line_of(code, "Template(request"), "code-injection") in flagged(code)


# ---------------------------------------------------------------- XXE

LXML = "from lxml import etree\n"


def test_lxml_fromstring_of_request_data_is_xxe():
    code = route("root = etree.fromstring(request.data)\nreturn {'n': len(root)}", LXML)
    assert (line_of(code, "fromstring("), "xxe") in flagged(code)


def test_lxml_fromstring_with_a_hardened_parser_is_silent():
    code = route("root = etree.fromstring(request.data, etree.XMLParser(resolve_entities=False, no_network=True))\n"
                 "return {'n': len(root)}", LXML)
    assert not flagged(code)


@pytest.mark.parametrize("flags", ["resolve_entities=True", "no_network=False"])
def test_an_lxml_parser_that_resolves_entities_or_fetches_is_xxe_whatever_the_data(flags: str):
    assert rules(f"{LXML}PARSER = etree.XMLParser({flags})\n") == {(2, "xxe.lxml-parser-entities")}


def test_an_lxml_parser_with_entities_off_is_silent():
    assert not flagged(f"{LXML}PARSER = etree.XMLParser(resolve_entities=False, no_network=True)\n")


def test_minidom_on_request_data_is_xxe_and_defusedxml_is_not():
    code = route("""
        a = minidom.parseString(request.data)
        b = defusedxml.minidom.parseString(request.data)
        return {'n': len(a.childNodes) + len(b.childNodes)}
    """, "from xml.dom import minidom\nimport defusedxml.minidom\n")
    found = flagged(code)
    assert (line_of(code, "a = minidom"), "xxe") in found
    assert (line_of(code, "b = defusedxml"), "xxe") not in found


def test_a_sax_parser_with_external_entities_on_is_xxe_and_off_is_silent():
    code = ("import xml.sax\nfrom xml.sax.handler import feature_external_ges\np = xml.sax.make_parser()\n"
            "p.setFeature(feature_external_ges, True)\np.setFeature(feature_external_ges, False)\n")
    assert flagged(code) == {(4, "xxe")}


def test_parsed_xml_returned_as_html_stays_tainted_for_xss():
    code = route("root = etree.fromstring(request.data)\nreturn root.text", LXML)
    assert (line_of(code, "return root.text"), "xss") in flagged(code)


# ---------------------------------------------------------------- open redirect

def test_flask_redirect_to_a_request_url_is_an_open_redirect():
    code = route("return redirect(request.args.get('next'))")
    assert (line_of(code, "return redirect"), "open-redirect") in flagged(code)


def test_flask_redirect_after_an_empty_netloc_check_is_silent():
    code = route("""
        nxt = request.args.get('next', '/')
        if urlparse(nxt).netloc:
            abort(400)
        return redirect(nxt)
    """, "from urllib.parse import urlparse\n")
    assert not flagged(code)


def test_redirect_to_url_for_or_to_a_fixed_path_prefix_is_silent():
    code = route("""
        if request.args.get('a'):
            return redirect(url_for('profile', name=request.args['a']))
        return redirect('/users/' + request.args['b'])
    """)
    assert not flagged(code)


def test_redirect_to_a_bare_slash_followed_by_request_data_is_an_open_redirect():
    code = route("return redirect('/' + request.args['b'])")  # '/' + '/evil.example' is '//evil.example'
    assert (line_of(code, "return redirect"), "open-redirect") in flagged(code)


def test_django_redirect_is_flagged_and_url_has_allowed_host_and_scheme_clears_it():
    code = DJANGO + textwrap.dedent("""
        from django.utils.http import url_has_allowed_host_and_scheme


        def unsafe(request):
            return HttpResponseRedirect(request.GET["next"])


        def safe(request):
            nxt = request.GET["next"]
            if not url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
                nxt = "/"
            return HttpResponseRedirect(nxt)
    """)
    assert flagged(code) == {(line_of(code, 'HttpResponseRedirect(request.GET'), "open-redirect")}


def test_fastapi_redirect_response_to_a_query_parameter_is_an_open_redirect_and_a_constant_is_not():
    code = textwrap.dedent("""
        from fastapi import FastAPI
        from fastapi.responses import RedirectResponse
        app = FastAPI()


        @app.get("/go")
        def go(url: str):
            return RedirectResponse(url)


        @app.get("/home")
        def home(url: str):
            return RedirectResponse("/dashboard")
    """)
    assert flagged(code) == {(line_of(code, "RedirectResponse(url)"), "open-redirect")}


def test_aiohttp_http_found_with_a_query_value_is_an_open_redirect():
    code = textwrap.dedent("""
        from aiohttp import web


        async def go(request):
            raise web.HTTPFound(request.query["to"])


        async def home(request):
            raise web.HTTPFound("/home")
    """)
    assert flagged(code) == {(line_of(code, 'HTTPFound(request.query'), "open-redirect")}


def test_a_location_header_from_request_data_is_an_open_redirect():
    code = route("resp = app.make_response('')\nresp.headers['Location'] = request.args['u']\nreturn resp")
    assert (line_of(code, "headers['Location']"), "open-redirect") in flagged(code)


# ---------------------------------------------------------------- CSRF

EXEMPT = "from django.views.decorators.csrf import csrf_exempt\n" + DJANGO


def test_csrf_exempt_on_a_view_that_saves_is_csrf():
    code = EXEMPT + "\n\n@csrf_exempt\ndef save(request):\n    Item.objects.create(name=request.POST['n'])\n" \
                    "    return JsonResponse({})\n"
    assert flagged(code, "views.py") == {(line_of(code, "@csrf_exempt"), "csrf")}


def test_csrf_exempt_on_a_read_only_view_is_silent():
    code = EXEMPT + "\n\n@csrf_exempt\ndef show(request):\n    return JsonResponse({'q': request.GET.get('q')})\n"
    assert not flagged(code, "views.py")


def test_csrf_exempt_on_a_webhook_that_verifies_its_signature_is_silent():
    code = EXEMPT + textwrap.dedent("""
        import hmac


        @csrf_exempt
        def hook(request):
            if not hmac.compare_digest(request.headers["X-Signature"], sign(request.body)):
                return JsonResponse({}, status=403)
            Event.objects.create(body=request.body)
            return JsonResponse({})
    """)
    assert not flagged(code, "views.py")


def test_flask_wtf_csrf_exempt_on_a_post_route_is_csrf():
    code = textwrap.dedent("""
        from flask import Flask, request
        from flask_wtf.csrf import CSRFProtect
        app = Flask(__name__)
        csrf = CSRFProtect(app)


        @app.route("/pay", methods=["POST"])
        @csrf.exempt
        def pay():
            charge(request.form["amount"])
            return "ok"
    """)
    assert flagged(code) == {(line_of(code, "@csrf.exempt"), "csrf")}


@pytest.mark.parametrize("setting", ["WTF_CSRF_ENABLED", "WTF_CSRF_CHECK_DEFAULT"])
def test_csrf_switched_off_in_app_config_is_csrf_and_on_is_silent(setting: str):
    code = f"from flask import Flask\napp = Flask(__name__)\napp.config['{setting}'] = False\n" \
           f"app.config['{setting}'] = True\n"
    assert flagged(code) == {(3, "csrf")}


def test_csrf_switched_off_in_a_testing_config_is_silent():
    code = "class TestingConfig:\n    WTF_CSRF_ENABLED = False\n\n\nclass ProductionConfig:\n" \
           "    WTF_CSRF_ENABLED = False\n"
    assert flagged(code, "shop/config.py") == {(6, "csrf")}


def test_django_middleware_with_sessions_but_without_csrf_is_csrf():
    code = ('SECRET_KEY = __import__("os").environ["K"]\nMIDDLEWARE = [\n'
            '    "django.contrib.sessions.middleware.SessionMiddleware",\n]\n')
    assert flagged(code, "proj/settings.py") == {(2, "csrf")}


def test_django_middleware_with_the_csrf_middleware_or_without_sessions_is_silent():
    with_csrf = ('MIDDLEWARE = [\n    "django.contrib.sessions.middleware.SessionMiddleware",\n'
                 '    "django.middleware.csrf.CsrfViewMiddleware",\n]\n')
    api_only = 'MIDDLEWARE = [\n    "django.middleware.common.CommonMiddleware",\n]\n'
    assert not flagged(with_csrf, "proj/settings.py")
    assert not flagged(api_only, "proj/settings.py")


# ---------------------------------------------------------------- insecure randomness

def test_random_choice_building_a_reset_token_is_insecure_randomness():
    code = ("import random, string\n\n\ndef make_reset_token():\n"
            "    return ''.join(random.choice(string.ascii_letters) for _ in range(32))\n")
    assert flagged(code) == {(5, "insecure-randomness")}


def test_secrets_choice_building_a_reset_token_is_silent():
    code = ("import secrets, string\n\n\ndef make_reset_token():\n"
            "    return ''.join(secrets.choice(string.ascii_letters) for _ in range(32))\n")
    assert not flagged(code)


def test_random_values_for_colors_delays_and_samples_are_silent():
    code = ("import random\ncolor = random.choice(['red', 'blue'])\ndelay = random.random() * 2\n"
            "token_length = random.randint(16, 32)\npicked = random.sample(range(10), 3)\n")
    assert not flagged(code)


def test_uuid1_as_an_api_key_is_insecure_randomness_and_as_a_request_id_is_silent():
    code = "import uuid\napi_key = uuid.uuid1().hex\nrequest_id = uuid.uuid1().hex\n"
    found = [f for f in ANALYZER.analyze_text(code, "app.py")]
    assert [(f.span.start_line + 1, f.vuln_class.value, f.cwe) for f in found] == [(2, "insecure-randomness", 330)]


def test_a_random_value_set_as_a_cookie_or_stored_in_the_session_is_insecure_randomness():
    code = ("import random\nfrom flask import session\n\n\ndef login(resp):\n"
            "    resp.set_cookie('sid', str(random.getrandbits(64)), secure=True, httponly=True)\n"
            "    session['nonce'] = random.random()\n")
    assert flagged(code) == {(6, "insecure-randomness"), (7, "insecure-randomness")}


def test_random_secrets_in_test_files_are_not_reported():
    code = "import random\npassword = str(random.random())\n"
    assert flagged(code, "app.py") == {(2, "insecure-randomness")}
    assert not flagged(code, "tests/test_login.py")


def scan_findings(root: Path, files: dict[str, str], vuln_class: str) -> list[tuple[str, int]]:
    """(path, line) of the findings of one class in a small project scanned from disk."""
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text.lstrip("\n"), encoding="utf-8")
    result = scan_path(root, Settings(model_enabled=False), workers=1)
    return sorted((f.path, f.span.start_line + 1) for f in result.findings if f.vuln_class.value == vuln_class)


RANDOM_HELPERS = {
    "core/utils.py": """
import random
import secrets
import string


def random_string(length):
    return "".join(random.choice(string.ascii_letters) for _ in range(length))


def secret_string(length):
    return "".join(secrets.choice(string.ascii_letters) for _ in range(length))


def cache_buster(length=4):
    return "".join(random.choices(string.digits, k=length))
""",
    "web/config.py": """
from core.utils import cache_buster, random_string, secret_string


class ProductionConfig:
    SECRET_KEY = random_string(16)
    CSRF_SECRET = secret_string(16)
    ASSET_VERSION = cache_buster()
""",
}


def test_a_secret_bound_to_a_project_helpers_random_value_is_reported_at_both_ends(tmp_path: Path):
    found = scan_findings(tmp_path, RANDOM_HELPERS, "insecure-randomness")
    assert found == [("core/utils.py", 7), ("web/config.py", 5)]


def test_every_class_has_an_explanation_for_the_explain_action():
    from ai_core.fixes.explain import WHY

    assert set(WHY) == set(VulnClass)


# ---------------------------------------------------------------- guards real redirect code uses

def test_a_guard_called_with_the_url_as_a_keyword_clears_it():
    code = DJANGO + textwrap.dedent("""
        from django.utils.http import url_has_allowed_host_and_scheme


        def after(request):
            nxt = request.GET["next"]
            if not url_has_allowed_host_and_scheme(url=nxt, allowed_hosts={request.get_host()}):
                nxt = "/"
            return HttpResponseRedirect(nxt)
    """)
    assert not flagged(code)


def test_a_guard_result_kept_in_a_variable_clears_the_branch_it_selects():
    code = DJANGO + textwrap.dedent("""
        from django.utils.http import url_has_allowed_host_and_scheme


        def safe(request):
            nxt = request.GET["next"]
            ok = url_has_allowed_host_and_scheme(nxt, allowed_hosts=None)
            return HttpResponseRedirect(nxt if ok else "/")


        def unsafe(request):
            nxt = request.GET["next"]
            ok = url_has_allowed_host_and_scheme(nxt, allowed_hosts=None)
            return HttpResponseRedirect("/" if ok else nxt)
    """)
    assert flagged(code) == {(line_of(code, 'HttpResponseRedirect("/" if ok'), "open-redirect")}


def test_the_false_branch_of_a_conjunction_keeps_what_both_negations_prove():
    # `if (nxt or html) and not safe(nxt): nxt = "/"` -- past it, nxt is empty or safe either way
    code = DJANGO + textwrap.dedent("""
        from django.utils.http import url_has_allowed_host_and_scheme


        def set_language(request):
            nxt = request.POST.get("next")
            if (nxt or request.accepts("text/html")) and not url_has_allowed_host_and_scheme(nxt, None):
                nxt = "/"
            return HttpResponseRedirect(nxt)


        def set_language_unchecked(request):
            nxt = request.POST.get("next")
            if nxt and request.accepts("text/html"):
                nxt = nxt.strip()
            return HttpResponseRedirect(nxt)
    """)
    unchecked = line_of(code, "nxt = nxt.strip()") + 1
    assert flagged(code) == {(unchecked, "open-redirect")}


def test_an_urlencoded_query_string_cannot_redirect_to_another_host():
    code = route("return redirect('/search?' + urlencode({'q': request.args['q']}))",
                 "from urllib.parse import urlencode\n")
    assert not flagged(code)


def test_request_data_appended_to_a_url_for_or_reverse_target_stays_on_this_site():
    code = route("return redirect(url_for('login') + '?next=' + request.args['path'])")
    assert not flagged(code)
    django = DJANGO + "from django.urls import reverse\n\n\ndef go(request):\n" \
                      "    return HttpResponseRedirect(reverse('login') + '?next=' + request.GET['path'])\n"
    assert not flagged(django)


def test_method_decorator_csrf_exempt_on_a_class_based_view_with_post_is_csrf():
    code = EXEMPT + textwrap.dedent("""
        from django.utils.decorators import method_decorator
        from django.views import View


        @method_decorator(csrf_exempt, name="dispatch")
        class OrderView(View):
            def post(self, request):
                Order.objects.create(sku=request.POST["sku"])
                return JsonResponse({})


        @method_decorator(csrf_exempt, name="dispatch")
        class StatusView(View):
            def get(self, request):
                return JsonResponse({"ok": True})
    """)
    assert flagged(code, "views.py") == {(line_of(code, "@method_decorator(csrf_exempt"), "csrf")}


GET_VIEWS = """
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_POST


def vote(request, item):
    item = get_object_or_404(Item, pk=item)
    if request.GET.get("vote") == "up":
        item.voted_by.add(request.user.pk)
    item.save()
    return HttpResponseRedirect(item.get_absolute_url())


@require_POST
def vote_by_post(request, item):
    item = get_object_or_404(Item, pk=item)
    item.save()
    return HttpResponseRedirect(item.get_absolute_url())


def checked(request, item):
    if request.method != "POST":
        return HttpResponseRedirect("/")
    get_object_or_404(Item, pk=item).delete()
    return HttpResponseRedirect("/")


def show(request, item):
    return render(request, "item.html", {"item": get_object_or_404(Item, pk=item)})


def publish(request, item):
    item = get_object_or_404(Item, pk=item)
    item.save()
    return HttpResponseRedirect(item.get_absolute_url())
"""


def test_a_django_view_that_saves_on_get_is_a_csrf_review_and_post_only_or_read_only_views_are_not():
    """publish() takes no action from the query string: nothing says a link is how it is used."""
    found = [(f.span.start_line + 1, f.rule, f.tier) for f in ANALYZER.analyze_text(GET_VIEWS.lstrip("\n"),
                                                                                    "kb/views.py")]
    assert found == [(6, "csrf.state-change-on-get.review", "review")]


def test_a_flask_route_allowing_get_that_deletes_is_a_csrf_review_and_a_post_route_is_not():
    code = """
    from flask import Flask, redirect

    app = Flask(__name__)


    @app.route("/note/delete/<note_id>", methods=["DELETE", "GET"])
    def delete_note(note_id):
        notes.delete_item(note_id)
        return redirect("/")


    @app.route("/note/remove/<note_id>", methods=["POST"])
    def remove_note(note_id):
        notes.delete_item(note_id)
        return redirect("/")
    """
    assert rules(code) == {(7, "csrf.state-change-on-get.review")}

"""`--format html`: one self-contained page, checked in a real headless Chromium (playwright drives Debian's)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = next((p for p in (os.environ.get("CODEREV_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                             shutil.which("chromium-browser")) if p and Path(p).is_file()), None)
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync"]
APP = '''"""Fixture app for the HTML report."""

import pickle
import subprocess

from flask import Flask, request

app = Flask(__name__)
app.config["DEBUG"] = True


@app.route("/hello")
def hello():
    name = request.args.get("name")
    return "<h1>Hello " + name + "</h1>"


@app.route("/load")
def load():
    return str(pickle.loads(request.get_data()))


@app.route("/run")
def run():
    cmd = request.args.get("cmd")
    return subprocess.check_output(cmd, shell=True)  # coderev: ignore[command-injection] reviewed
'''


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The HTML report of the fixture app (a real scan with fixes and suppressions)."""
    root = tmp_path_factory.mktemp("html-app")
    (root / "app.py").write_text(APP, encoding="utf-8")
    out = root / "report.html"
    done = subprocess.run([sys.executable, "-m", "server.cli", "scan", str(root), "--format", "html", "-o", str(out),
                           "--no-model"], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert done.returncode == 1, done.stderr
    return out


def test_report_is_one_self_contained_file(report_file: Path):
    html = report_file.read_text(encoding="utf-8")
    assert not re.search(r"<(script|img|iframe)[^>]*\ssrc=|<link\b|url\(\s*['\"]?https?:", html)
    assert not re.search(r"(src|href)=['\"]https?:", html)
    assert "default-src 'none'" in html


def test_code_in_the_report_is_escaped(report_file: Path):
    html = report_file.read_text(encoding="utf-8")
    assert "&#34;&lt;h1&gt;Hello &#34; + name" in html
    assert '"<h1>Hello " + name' not in html


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if CHROMIUM is None:
        pytest.skip("no chromium binary (/usr/bin/chromium): `apt-get install -y chromium` to run the browser tests")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, report_file: Path) -> Iterator[Page]:
    page = browser.new_page()
    errors: list[str] = []
    remote: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("request", lambda request: remote.append(request.url) if not request.url.startswith(
        ("file:", "data:", "about:")) else None)
    page.goto(report_file.as_uri())
    yield page
    assert errors == []
    assert remote == []
    page.close()


def visible_classes(page: Page) -> list[str]:
    return page.eval_on_selector_all("article.finding:not([hidden])", "rows => rows.map(r => r.dataset.class)")


def test_browser_renders_every_finding_with_code_path_explanation_and_fix(page: Page):
    assert sorted(visible_classes(page)) == ["insecure-deserialization", "security-misconfiguration", "xss"]
    assert page.text_content("#shown") == "3 of 4 shown"
    xss = page.locator("article.finding[data-class=xss]")
    assert xss.locator("pre.code .hit").first.inner_text().endswith('return "<h1>Hello " + name + "</h1>"')
    steps = xss.locator("ol.steps li .label").all_inner_texts()
    assert steps[0] == "source: request.args" and steps[-1].startswith("sink:")
    assert "escap" in xss.locator("details.why").inner_text(timeout=2000).lower()
    assert xss.locator("details.fix pre.diff .add").count() >= 1
    assert xss.locator("details.fix pre.diff .del").count() >= 1
    bars = page.eval_on_selector_all("#chart g.bar", "bars => bars.map(b => b.dataset.class)")
    assert sorted(bars) == ["insecure-deserialization", "security-misconfiguration", "xss"]  # not the suppressed


def test_class_filter_hides_the_other_classes_and_all_shows_them_again(page: Page):
    page.select_option("#f-class", "xss")
    assert visible_classes(page) == ["xss"]
    assert page.text_content("#shown") == "1 of 4 shown"
    page.select_option("#f-class", "")
    assert len(visible_classes(page)) == 3


def test_severity_checkbox_hides_findings_of_that_severity(page: Page):
    severities = page.eval_on_selector_all("article.finding:not([hidden])", "rows => rows.map(r => r.dataset.severity)")
    gone = severities[0]
    page.uncheck(f"input.f-severity[value={gone}]")
    remaining = page.eval_on_selector_all("article.finding:not([hidden])", "rows => rows.map(r => r.dataset.severity)")
    assert gone not in remaining and len(remaining) == len([s for s in severities if s != gone])
    page.check(f"input.f-severity[value={gone}]")
    assert len(visible_classes(page)) == 3


def test_text_search_and_tier_filter(page: Page):
    page.fill("#f-text", "pickle")
    assert visible_classes(page) == ["insecure-deserialization"]
    page.fill("#f-text", "no such text anywhere")
    assert visible_classes(page) == [] and page.is_visible("#empty")
    page.fill("#f-text", "")
    page.select_option("#f-tier", "flow")
    assert sorted(visible_classes(page)) == ["insecure-deserialization", "xss"]
    page.select_option("#f-tier", "review")
    assert visible_classes(page) == ["security-misconfiguration"]


def test_suppressed_findings_show_only_on_request(page: Page):
    assert "command-injection" not in visible_classes(page)
    page.check("#f-suppressed")
    assert "command-injection" in visible_classes(page)
    assert "reviewed" in page.locator("article.finding[data-class=command-injection]").inner_text()


def test_clicking_a_chart_bar_filters_by_its_class(page: Page):
    page.click("#chart g.bar[data-class=insecure-deserialization] rect")
    assert visible_classes(page) == ["insecure-deserialization"]


def test_hardcoded_secret_is_masked_in_code_excerpts(tmp_path: Path):
    from ai_core.config import Settings
    from ai_core.report import build_report, to_html
    from ai_core.scan import scan_path

    secret = "ghp_" + "Zx8Kq2Lm4Np6Rs8Tv0Wx2Yz4Ab6Cd8Ef0Gh2"
    (tmp_path / "settings.py").write_text(f'GITHUB_TOKEN = "{secret}"\n', encoding="utf-8")
    report = build_report(scan_path(tmp_path, Settings(model_enabled=False), workers=1))
    assert [item.finding.vuln_class.value for item in report.items] == ["hardcoded-secret"]
    html = to_html(report)
    assert secret not in html
    assert "GITHUB_TOKEN = &#34;gh" in html

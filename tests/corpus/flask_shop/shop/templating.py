"""Storefront pages built from templates and expressions (code injection corpus)."""

import ast
import json

import jinja2
from flask import Blueprint, render_template, render_template_string, request
from jinja2 import Environment, select_autoescape
from markupsafe import Markup, escape

bp = Blueprint("templating", __name__)
ENV = Environment(autoescape=select_autoescape())


@bp.route("/banner")
def banner():
    text = request.args.get("text", "")
    return render_template_string("<div class='banner'>" + text + "</div>")  # label: code-injection


@bp.route("/banner/safe")
def banner_safe():
    text = request.args.get("text", "")
    return render_template_string("<div class='banner'>{{ text }}</div>", text=text)  # label: safe code-injection


@bp.route("/greeting")
def greeting():
    name = request.args["name"]
    return render_template_string(f"<h1>Hello {name}</h1>")  # label: code-injection


@bp.route("/greeting/file")
def greeting_file():
    name = request.args["name"]
    return render_template("greeting.html", name=name)  # label: safe code-injection


@bp.route("/layout", methods=["POST"])
def custom_layout():
    layout = request.form["layout"]
    return jinja2.Template(layout).render(shop="Acme")  # label: code-injection


@bp.route("/layout/fixed", methods=["POST"])
def fixed_layout():
    layout = request.form["layout"]
    return jinja2.Template("<p>{{ layout }}</p>", autoescape=True).render(layout=layout)  # label: safe code-injection


@bp.route("/footer", methods=["POST"])
def footer():
    source = request.get_json()["footer"]
    return ENV.from_string(source).render()  # label: code-injection


@bp.route("/footer/fixed", methods=["POST"])
def footer_fixed():
    footer_text = request.get_json()["footer"]
    return ENV.from_string("<footer>{{ f }}</footer>").render(f=footer_text)  # label: safe code-injection


@bp.route("/calc")
def calc():
    expression = request.args["expr"]
    return {"value": eval(expression)}  # label: code-injection


@bp.route("/calc/literal")
def calc_literal():
    expression = request.args["expr"]
    return {"value": ast.literal_eval(expression)}  # label: safe code-injection


@bp.route("/rules", methods=["POST"])
def run_rule():
    scope = {}
    exec(request.form["rule"], scope)  # label: code-injection
    return {"result": scope.get("result")}


@bp.route("/rules/data", methods=["POST"])
def rule_data():
    scope = json.loads(request.form["rule"])  # label: safe code-injection
    return {"result": scope.get("result")}


@bp.route("/compile", methods=["POST"])
def compile_hook():
    code = compile(request.form["hook"], "<hook>", "exec")  # label: code-injection
    return {"names": list(code.co_names)}


@bp.route("/compile/constant")
def compile_constant():
    code = compile("total = 1 + 1", "<fixed>", "exec")  # label: safe code-injection
    return {"names": list(code.co_names)}


@bp.route("/widget")
def widget():
    title = request.args.get("title", "")
    template = "<h2>%s</h2>" % title
    return render_template_string(template)  # label: code-injection


@bp.route("/widget/safe")
def widget_safe():
    title = request.args.get("title", "")
    template = "<h2>{{ title }}</h2>"
    return render_template_string(template, title=title)  # label: safe code-injection


@bp.route("/note")
def note():
    body = request.args.get("body", "")
    return jinja2.Environment(autoescape=True).from_string("<p>" + body + "</p>").render()  # label: code-injection


@bp.route("/note/safe")
def note_safe():
    body = request.args.get("body", "")
    return jinja2.Environment(autoescape=True).from_string("<p>{{ b }}</p>").render(b=body)  # label: safe code-injection


@bp.route("/formula")
def formula():
    cell = request.args["cell"]
    value = eval("1 + " + cell)  # label: code-injection
    return {"value": value}


@bp.route("/formula/number")
def formula_number():
    cell = int(request.args["cell"])
    value = eval(f"1 + {cell}")  # label: safe code-injection
    return {"value": value}


@bp.route("/echo")
def echo():
    word = request.args.get("w", "")
    return f"<p>{word}</p>"  # label: xss


@bp.route("/echo/escaped")
def echo_escaped():
    word = request.args.get("w", "")
    return f"<p>{escape(word)}</p>"  # label: safe xss


@bp.route("/badge")
def badge():
    return Markup("<b>" + request.args["label"] + "</b>")  # label: xss

"""More shop pages: cookies, a Jinja environment, a partner API and CORS headers by hand."""

import logging

import requests
from flask import Flask, make_response, request, session
from jinja2 import Environment, FileSystemLoader

app = Flask(__name__)
app.config["WTF_CSRF_ENABLED"] = False
app.config["SESSION_COOKIE_HTTPONLY"] = False
env = Environment(loader=FileSystemLoader("templates"), autoescape=False)
log = logging.getLogger(__name__)
PARTNER_URL = "http://partner.example.com/api/orders"


@app.route("/remember")
def remember():
    response = make_response("ok")
    response.set_cookie("remember_token", request.args["token"])
    return response


@app.route("/api/data")
def data():
    response = make_response({"items": []})
    response.headers["Access-Control-Allow-Origin"] = request.headers.get("Origin")
    response.headers["Access-Control-Allow-Credentials"] = "true"
    return response


def push_order(order, api_token):
    return requests.post(PARTNER_URL, json=order, headers={"Authorization": f"Bearer {api_token}"}, timeout=10)


def audit(user, token):
    log.info("user %s authenticated with token %s", user, token)


@app.route("/keep")
def keep():
    session.permanent = True
    session["cart"] = request.args.get("cart", "")
    return "kept"

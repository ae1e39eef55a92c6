import hashlib
import logging
import os
import subprocess

import requests
from flask import Flask, Response, abort, jsonify, request, session

from inventory import storage
from inventory.labels import render_label

app = Flask(__name__)
app.secret_key = os.urandom(32)
logger = logging.getLogger("inventory")
warehouse = storage.Warehouse()

SORTABLE = ("sku", "qty", "updated")


@app.get("/bins/<code>")
def bin_contents(code):
    return jsonify(warehouse.items_in_bin(code))  # label: sql-injection


@app.get("/zones/<zone>")
def zone_contents(zone):
    return jsonify(warehouse.items_in_zone(zone))  # label: safe sql-injection


@app.post("/adjust")
def adjust():
    warehouse.adjust(request.json["sku"], request.json["delta"])  # label: safe sql-injection
    return "", 204


@app.get("/report")
def report():
    column = request.args.get("sort", "sku")
    direction = request.args.get("dir", "asc")
    if column not in SORTABLE or direction not in ("asc", "desc"):
        abort(400)
    return jsonify(storage.report_rows(column, direction))  # label: safe sql-injection


@app.get("/report/raw")
def report_raw():
    return jsonify(storage.report_rows(request.args["sort"], "asc"))  # label: sql-injection


@app.get("/label/<sku>")
def label(sku):
    return Response(render_label(sku, request.args.get("title", "")), mimetype="text/html")  # label: xss


@app.get("/label-text/<sku>")
def label_text(sku):
    return Response(render_label(sku, request.args.get("title", "")), mimetype="text/plain")  # label: safe xss


@app.get("/where")
def where():
    sku = request.args.get("sku", "")
    return "<p>Looking for " + sku + "</p>"  # label: xss


@app.post("/print")
def print_label():
    printer = request.form["printer"]
    copies = int(request.form.get("copies", "1"))
    subprocess.run("lp -d %s -n %d /tmp/label.pdf" % (printer, copies), shell=True)  # label: command-injection
    return "", 202


@app.post("/print-safe")
def print_label_safe():
    printer = request.form["printer"]
    subprocess.run(["lp", "-d", printer, "/tmp/label.pdf"], check=False)  # label: safe command-injection
    return "", 202


@app.get("/supplier-catalog")
def supplier_catalog():
    supplier_url = request.args["url"]
    return requests.get(supplier_url, timeout=10).text  # label: ssrf


@app.get("/exchange-rate")
def exchange_rate():
    currency = request.args.get("currency", "EUR")
    rate = requests.get("https://rates.example.org/latest", params={"base": currency}, timeout=5)  # label: safe ssrf
    return jsonify(rate.json())


@app.get("/manual")
def manual():
    page = request.args.get("page", "index.html")
    return open(os.path.join("/srv/manual", page)).read()  # label: path-traversal


@app.post("/login")
def login():
    user = request.form["user"]
    password = request.form["password"]
    digest = hashlib.sha1(password.encode()).hexdigest()  # label: broken-auth
    logger.info("login user=%s password=%s", user, password)  # label: sensitive-data-exposure
    logger.info("login user=%s", user)  # label: safe sensitive-data-exposure
    if digest != os.environ.get("ADMIN_HASH"):
        abort(403)
    session["username"] = user  # label: session-fixation
    return jsonify(ok=True)


@app.post("/preferences")
def preferences():
    session["units"] = request.form.get("units", "metric")  # label: safe session-fixation
    return jsonify(ok=True)


@app.get("/health")
def health():
    try:
        warehouse.items_in_zone("A")
    except Exception as exc:
        return jsonify(status="down", reason=str(exc)), 503  # label: safe sensitive-data-exposure
    return jsonify(status="up")

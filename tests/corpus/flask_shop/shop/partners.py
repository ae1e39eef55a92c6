"""The partner API, a second Flask app with Flask-WTF (CSRF corpus)."""

import subprocess

from flask import Flask, jsonify, request
from flask_wtf.csrf import CSRFProtect

from shop import db

partners = Flask(__name__)
partners.config["WTF_CSRF_ENABLED"] = False  # label: csrf
partners.config["WTF_CSRF_CHECK_DEFAULT"] = False  # label: csrf
partners.config["WTF_CSRF_TIME_LIMIT"] = 3600  # label: safe csrf
csrf = CSRFProtect(partners)


@partners.route("/orders", methods=["POST"])
@csrf.exempt  # label: csrf
def create_order():
    db.add_order(request.form["sku"], int(request.form["qty"]))
    return jsonify(ok=True)


@partners.route("/orders/status")
@csrf.exempt  # label: safe csrf
def order_status():
    return jsonify(status=db.order_status(int(request.args["id"])))


@partners.route("/orders/cancel", methods=["POST"])
def cancel_order():
    db.cancel_order(int(request.form["id"]))  # label: safe csrf
    return jsonify(ok=True)


@partners.route("/orders/export", methods=["POST"])
def export_orders():
    subprocess.run("zip -r /tmp/orders.zip " + request.form["folder"], shell=True)  # label: command-injection
    return jsonify(ok=True)

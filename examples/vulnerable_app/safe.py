"""The same features written safely: coderev stays silent here."""

import json
import sqlite3
import subprocess

import yaml
from flask import Flask, request

app = Flask(__name__)


@app.route("/ping")
def ping():
    host = request.args.get("host", "localhost")
    return subprocess.check_output(["ping", "-c", "1", host])


@app.route("/user")
def user():
    db = sqlite3.connect("app.db")
    rows = db.execute("SELECT * FROM users WHERE name = ?", (request.args["name"],)).fetchall()
    return {"rows": rows}


@app.route("/session", methods=["POST"])
def restore_session():
    return {"state": json.loads(request.data)}


@app.route("/config", methods=["POST"])
def load_config():
    return yaml.safe_load(request.data)

"""A small Flask app with deliberate vulnerabilities: the example `make run` scans."""

import pickle
import sqlite3
import subprocess

import yaml
from flask import Flask, request

app = Flask(__name__)


@app.route("/ping")
def ping():
    host = request.args.get("host", "localhost")
    return subprocess.check_output(f"ping -c 1 {host}", shell=True)


@app.route("/user")
def user():
    name = request.args["name"]
    db = sqlite3.connect("app.db")
    rows = db.execute("SELECT * FROM users WHERE name = '%s'" % name).fetchall()
    return {"rows": rows}


@app.route("/session", methods=["POST"])
def restore_session():
    return {"state": pickle.loads(request.data)}


@app.route("/config", methods=["POST"])
def load_config():
    return yaml.load(request.data)


if __name__ == "__main__":
    app.run(host="0.0.0.0", debug=True)

"""The notes service's routes."""

import json
import logging
import subprocess

from flask import Flask, abort, jsonify, request, send_file, send_from_directory
from flask_cors import CORS

from notes_safe import accounts, fetch, render, settings, store

app = Flask(__name__)
app.secret_key = settings.SECRET_KEY
CORS(app, origins=["https://notes.example.com"], supports_credentials=True)
log = logging.getLogger(__name__)
FORMATS = {"pdf", "epub", "html"}


@app.route("/search")
def search():
    return jsonify(store.search_notes(request.args["owner"], request.args.get("q", "")))


@app.route("/preview", methods=["POST"])
def preview():
    return render.note_html(request.form["title"], request.form["body"])


@app.route("/export/<int:note_id>")
def export(note_id):
    fmt = request.args.get("format", "pdf")
    if fmt not in FORMATS:
        abort(400)
    subprocess.run(["pandoc", f"/srv/notes/{note_id}.md", "-o", f"/tmp/out.{fmt}"], check=True)
    return send_file(f"/tmp/out.{fmt}")


@app.route("/import", methods=["POST"])
def import_url():
    return jsonify(text=fetch.download(request.json["url"]))


@app.route("/attachments")
def attachment():
    return send_from_directory(settings.ATTACHMENTS, request.args["name"])


@app.route("/restore", methods=["POST"])
def restore():
    try:
        return jsonify(json.loads(request.get_data()))
    except ValueError:
        log.exception("restore failed")
        return jsonify(error="not a valid backup"), 400


@app.route("/login", methods=["POST"])
def login():
    return jsonify(ok=accounts.login(request.form["username"], request.form["password"]))


if __name__ == "__main__":
    app.run(host="127.0.0.1", debug=settings.DEBUG)

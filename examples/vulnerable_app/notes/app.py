"""The notes service's routes."""

import pickle
import subprocess
import traceback

from flask import Flask, jsonify, request, send_file
from flask_cors import CORS

from notes import accounts, fetch, render, settings, store

app = Flask(__name__)
app.secret_key = settings.SECRET_KEY
CORS(app, supports_credentials=True)


@app.route("/search")
def search():
    return jsonify(store.search_notes(request.args["owner"], request.args.get("q", "")))


@app.route("/preview", methods=["POST"])
def preview():
    return render.note_html(request.form["title"], request.form["body"])


@app.route("/export/<note_id>")
def export(note_id):
    fmt = request.args.get("format", "pdf")
    subprocess.run(f"pandoc /srv/notes/{int(note_id)}.md -o /tmp/out.{fmt}", shell=True, check=True)
    return send_file(f"/tmp/out.{fmt}")


@app.route("/import", methods=["POST"])
def import_url():
    return jsonify(text=fetch.download(request.json["url"]))


@app.route("/attachments")
def attachment():
    return send_file(settings.ATTACHMENTS + "/" + request.args["name"])


@app.route("/restore", methods=["POST"])
def restore():
    try:
        return jsonify(pickle.loads(request.get_data()))
    except Exception:
        return jsonify(error=traceback.format_exc()), 500


@app.route("/login", methods=["POST"])
def login():
    return jsonify(ok=accounts.login(request.form["username"], request.form["password"]))


if __name__ == "__main__":
    app.run(host="0.0.0.0", debug=True)

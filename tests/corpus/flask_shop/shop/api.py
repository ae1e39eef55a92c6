"""The JSON API blueprints."""

from flask import Blueprint, jsonify
from flask_cors import CORS

api = Blueprint("api", __name__)
public = Blueprint("public", __name__)

CORS(api, resources={r"/api/*": {"origins": "*", "supports_credentials": True}})  # label: cors-misconfiguration
CORS(public, resources={r"/public/*": {"origins": "*"}})  # label: safe cors-misconfiguration


@api.route("/api/me")
def me():
    return jsonify(ok=True)


@public.route("/public/status")
def status():
    return jsonify(ok=True)

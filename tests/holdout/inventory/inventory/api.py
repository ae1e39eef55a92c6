import hmac
import os

from flask import Blueprint, abort, jsonify, request
from flask_cors import CORS

bp = Blueprint("partner_api", __name__)
CORS(bp, origins="*", supports_credentials=True)  # label: cors-misconfiguration
PARTNER_KEY = os.environ.get("PARTNER_KEY", "")


@bp.before_request
def check_key():
    if request.headers.get("X-Partner-Key") == PARTNER_KEY:  # label: broken-auth
        return None
    abort(401)


@bp.before_request
def check_key_safe():
    if not hmac.compare_digest(request.headers.get("X-Partner-Key", ""), PARTNER_KEY):  # label: safe broken-auth
        abort(401)


@bp.after_request
def allow_partner(response):
    response.headers["Access-Control-Allow-Origin"] = request.headers.get("Origin", "*")  # label: cors-misconfiguration
    return response


@bp.get("/stock/<sku>")
def stock(sku):
    return jsonify(sku=sku)  # label: safe xss

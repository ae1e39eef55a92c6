"""Shopping carts kept in a cookie between visits."""

import base64
import hashlib
import hmac
import json
import os
import pickle

CART_KEY = os.environ.get("CART_SIGNING_KEY", "").encode()


def load_cart(cookie_value):
    return pickle.loads(base64.b64decode(cookie_value))  # label: insecure-deserialization


def load_signed_cart(cookie_value, signature):
    blob = base64.b64decode(cookie_value)
    expected = hmac.new(CART_KEY, blob, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(signature, expected):
        return {}
    return pickle.loads(blob)  # label: safe insecure-deserialization


def load_cart_json(cookie_value):
    return json.loads(base64.b64decode(cookie_value))  # label: safe insecure-deserialization


def save_cart(cart):
    return base64.b64encode(pickle.dumps(cart)).decode()

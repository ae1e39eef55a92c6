"""Customer accounts: password storage, API tokens and login sessions."""

import hashlib
import hmac
import os
import time

import bcrypt
import jwt
from flask import session

from shop import db

JWT_SECRET = os.environ["SHOP_JWT_SECRET"]  # label: safe hardcoded-secret
ADMIN_API_TOKEN = os.environ.get("SHOP_ADMIN_TOKEN", "")  # label: safe hardcoded-secret
LEGACY_SALT = "shop"


def hash_password(password):
    return hashlib.sha256((LEGACY_SALT + password).encode()).hexdigest()  # label: broken-auth


def hash_password_v2(password):
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()  # label: safe broken-auth


def file_checksum(data):
    return hashlib.sha256(data).hexdigest()  # label: safe broken-auth


def check_admin_token(provided_token):
    return provided_token == ADMIN_API_TOKEN  # label: broken-auth


def check_admin_token_safe(provided_token):
    return hmac.compare_digest(provided_token, ADMIN_API_TOKEN)  # label: safe broken-auth


def issue_token(user_id):
    payload = {"sub": str(user_id), "iat": int(time.time())}
    return jwt.encode(payload, JWT_SECRET, algorithm="HS256")  # label: session-fixation


def issue_short_token(user_id):
    payload = {"sub": str(user_id), "exp": int(time.time()) + 900}
    return jwt.encode(payload, JWT_SECRET, algorithm="HS256")  # label: safe session-fixation


def read_token(token):
    return jwt.decode(token, options={"verify_signature": False})  # label: broken-auth


def read_token_verified(token):
    return jwt.decode(token, JWT_SECRET, algorithms=["HS256"])  # label: safe broken-auth


def log_in(username, password):
    row = db.find_user(username)
    if row is None or not bcrypt.checkpw(password.encode(), row[2].encode()):
        return False
    session["user_id"] = row[0]  # label: session-fixation
    return True


def log_in_rotating(username, password):
    row = db.find_user(username)
    if row is None or not bcrypt.checkpw(password.encode(), row[2].encode()):
        return False
    session.clear()
    session["user_id"] = row[0]  # label: safe session-fixation
    return True


def remember_theme(theme):
    session["theme"] = theme  # label: safe session-fixation

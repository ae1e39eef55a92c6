"""Tokens and passwords for the API."""

import datetime
import hashlib

import jwt

SIGNING_KEY = "k3y-for-signing-tokens-9f8e7d6c5b4a"


def issue(user_id):
    return jwt.encode({"sub": user_id, "iat": datetime.datetime.now(datetime.UTC)}, SIGNING_KEY, algorithm="HS256")


def fingerprint(password):
    return hashlib.sha256(password.encode()).hexdigest()


def check_password(user, password):
    return user.password == password


def valid_webhook(signature, expected_signature):
    return signature == expected_signature
